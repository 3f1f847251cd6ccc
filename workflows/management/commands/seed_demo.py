"""Demo data for a new installation: staff of every role, a portal user, customers in several
countries with contacts, addresses, credit limits, a bank account, a hold and pending requests, a
catalogue with prices, taxes and stock, the company profile printed on documents and its bank account,
exchange rates and the standard dunning policy; then a few months of history (workflows.demo_history:
invoices overdue at every dunning level, paid ones, a broken promise, a dispute, a bank statement with
lines waiting in the reconciliation queue), and today's business: orders in every state of their life
cycle (held for credit, one waiting for stock), shipped orders invoiced by the outbox handlers as they
would be live, a service invoice and a credit note by hand, and a partial payment on it.

Idempotent: run it twice and nothing is added the second time (the business data loads once, with the
first order). Business records go through services; setup tables (taxes, prices, warehouses, the dunning
policy, the company's bank account) are written as an administrator enters them.
"""

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from stdnum.iso7064 import mod_11_10

from customers import services
from customers.models import Customer, CustomerGroup
from inventory import services as inventory
from inventory.models import PriceList, PriceListItem, Product, ReorderPoint, TaxCategory, TaxRate, Warehouse
from invoicing import services as invoicing
from orders import services as orders
from orders.models import Order
from otc.audit import acting
from otc.models import CompanyProfile, ExchangeRate, User
from payments.models import CompanyBankAccount, DunningLevel, DunningPolicy
from payments.money import services as payments
from workflows.demo_history import History

DEMO_PASSWORD = "demo-password-2026"
STAFF = [
    ("admin@demo.otc", "Ada Admin", "admin", True),
    ("finance@demo.otc", "Finn Finance", "finance", False),
    ("approver@demo.otc", "Petra Approver", "finance", False),
    ("sales@demo.otc", "Sam Sales", "sales", False),
    ("service@demo.otc", "Sophie Service", "service", False),
]
PORTAL_USER = "buyer@nordwind.example"
CUSTOMERS = [
    ("Nordwind Handel GmbH", "DE", "EUR", "de", "Hamburg", "20457"),
    ("Alpenblick Maschinenbau AG", "DE", "EUR", "de", "München", "80331"),
    ("Rheinland Logistik GmbH", "DE", "EUR", "de", "Köln", "50667"),
    ("Ostsee Fisch KG", "DE", "EUR", "de", "Rostock", "18055"),
    ("Brasserie du Port SARL", "FR", "EUR", "fr", "Marseille", "13002"),
    ("Atelier Lumière SAS", "FR", "EUR", "fr", "Lyon", "69002"),
    ("Van Dijk Bouw B.V.", "NL", "EUR", "nl", "Utrecht", "3511"),
    ("Tulp & Co Groothandel", "NL", "EUR", "nl", "Rotterdam", "3011"),
    ("Ferretería Sol S.L.", "ES", "EUR", "es", "Sevilla", "41001"),
    ("Thames Valley Supplies Ltd", "GB", "GBP", "en", "Reading", "RG1 1AA"),
    ("Highland Outdoor Ltd", "GB", "GBP", "en", "Inverness", "IV1 1AA"),
    ("Great Lakes Hardware Inc", "US", "USD", "en", "Chicago", "60601"),
    ("Pacific Trade LLC", "US", "USD", "en", "Seattle", "98101"),
    ("Zürcher Feinmechanik AG", "CH", "CHF", "de", "Zürich", "8001"),
    ("Wiener Kaffeehaus Bedarf GmbH", "AT", "EUR", "de", "Wien", "1010"),
    ("Nordic Design AB", "SE", "SEK", "en", "Stockholm", "111 20"),
]


def _german_vat_id(seed: int) -> str:
    base = f"{10000000 + seed * 7919:08d}"[:8]
    return f"DE{base}{mod_11_10.calc_check_digit(base)}"


class Command(BaseCommand):
    help = "Load demo staff, a portal user and demo customers (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Allow outside DEBUG (never in production).")

    def handle(self, *args, force: bool = False, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo loads known passwords; it runs only with DEBUG on (or --force).")
        orders_before = Order.objects.count()
        with transaction.atomic():
            staff = {email: self._staff(email, name, role, superuser) for email, name, role, superuser in STAFF}
            self._company_and_rates(staff["admin@demo.otc"])
            created = self._customers(staff)
            products = self._catalogue(staff["admin@demo.otc"])
            self._dunning_policy(staff["admin@demo.otc"])
            if not Order.objects.exists():
                History(staff=staff, today=timezone.localdate()).play()
                self._orders(staff, products)
                self._service_invoice(staff["finance@demo.otc"])
        placed = Order.objects.count() - orders_before
        self.stdout.write(self.style.SUCCESS(f"Demo data ready ({created} customers, {placed} orders added)."))
        self.stdout.write(f"  Staff logins (password {DEMO_PASSWORD}): " + ", ".join(email for email, *_ in STAFF))
        self.stdout.write(f"  Portal login (password {DEMO_PASSWORD}): {PORTAL_USER}")

    def _staff(self, email: str, name: str, role: str, superuser: bool) -> User:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email, DEMO_PASSWORD, full_name=name, is_staff=True, is_superuser=superuser)
            user.groups.set(Group.objects.filter(name=role))
        return user

    def _customers(self, staff: dict[str, User]) -> int:
        clerk, approver, rep = staff["finance@demo.otc"], staff["approver@demo.otc"], staff["sales@demo.otc"]
        created = 0
        for index, (name, country, currency, language, city, postal_code) in enumerate(CUSTOMERS):
            if Customer.objects.filter(legal_name=name).exists():
                continue
            tax_id = _german_vat_id(index) if country == "DE" else ""
            # An e-invoice needs the buyer's electronic address, which the demo derives from a VAT ID.
            delivery = ["pdf_email", "e_invoice" if tax_id else "pdf_email", "portal_only"][index % 3]
            customer = services.create_customer(
                actor=clerk,
                legal_name=name,
                country=country,
                default_currency=currency,
                language=language,
                tax_id=tax_id,
                sales_rep=rep,
                payment_terms_days=(14, 30, 45, 60)[index % 4],
                confirm_duplicate=True,
                contacts=[
                    {
                        "name": f"Accounts {name.split()[0]}",
                        "email": f"ap{index}@customer{index}.example",
                        "roles": ["billing", "dunning"],
                    },
                    {
                        "name": f"Purchasing {name.split()[0]}",
                        "email": f"buyer{index}@customer{index}.example",
                        "roles": ["purchasing", "shipping"],
                    },
                ],
                addresses=[
                    {
                        "kind": "billing",
                        "line1": f"{index + 1} Market Street",
                        "postal_code": postal_code,
                        "city": city,
                        "country": country,
                    },
                    {
                        "kind": "shipping",
                        "line1": f"Dock {index + 3}",
                        "postal_code": postal_code,
                        "city": city,
                        "country": country,
                    },
                ],
                preferences={
                    "channels": ["email", "portal"],
                    "po_number_required": index % 3 == 0,
                    "invoicing_schedule": "monthly" if index % 4 == 3 else "per_shipment",
                    "invoice_delivery": delivery,
                    "document_layout": ["standard", "detailed", "compact"][index % 3],
                },
            )
            created += 1
            limit = services.request_credit_limit_change(
                customer=customer,
                actor=clerk,
                credit_limit=str(5000 * (index % 5 + 1)),
                reason="Opening limit from credit check",
            )
            if index % 4 != 3:
                services.approve_change_request(change_request=limit, actor=approver, note="Credit report fine")
            if index == 0:
                request = services.request_bank_account(
                    customer=customer,
                    actor=clerk,
                    holder_name=name,
                    iban="DE89370400440532013000",
                    bic="COBADEFFXXX",
                    reason="Direct debit mandate received",
                )
                services.approve_change_request(change_request=request, actor=approver)
                portal_user = services.grant_portal_access(
                    customer=customer, actor=clerk, email=PORTAL_USER, full_name="Nora Nordwind"
                )
                portal_user.set_password(DEMO_PASSWORD)
                portal_user.save(update_fields=["password"])
            if index == 5:
                services.place_credit_hold(customer=customer, actor=clerk, reason="Cheque returned unpaid")
        return created

    def _catalogue(self, admin: User) -> list[Product]:
        if Product.objects.exists():
            return list(Product.objects.order_by("sku"))
        standard, _ = TaxCategory.objects.get_or_create(code="standard", defaults={"name": "Standard rate"})
        reduced, _ = TaxCategory.objects.get_or_create(code="reduced", defaults={"name": "Reduced rate"})
        for category, rates in (
            (standard, {"DE": "19", "AT": "20", "FR": "20", "NL": "21", "ES": "21", "SE": "25"}),
            (reduced, {"DE": "7", "AT": "10", "FR": "5.5", "NL": "9", "ES": "10", "SE": "6"}),
        ):
            for country, rate in rates.items():
                TaxRate.objects.get_or_create(
                    category=category, country=country, valid_from=date(2020, 1, 1), defaults={"rate": rate}
                )
        main = Warehouse.objects.create(code="hamburg", name="Hamburg central", country="DE", is_default=True)
        Warehouse.objects.create(code="lyon", name="Lyon depot", country="FR")
        wholesale = CustomerGroup.objects.create(code="wholesale", name="Wholesale")
        general = PriceList.objects.create(name="List prices EUR 2026", currency="EUR", valid_from=date(2026, 1, 1))
        trade = PriceList.objects.create(
            name="Wholesale EUR 2026", currency="EUR", customer_group=wholesale, valid_from=date(2026, 1, 1)
        )
        products = []
        for sku, name, category, kind, price, stock in CATALOGUE:
            product = inventory.create_product(
                actor=admin, sku=sku, name=name, kind=kind, tax_category=standard if category == "standard" else reduced
            )
            PriceListItem.objects.create(price_list=general, product=product, unit_price=price)
            PriceListItem.objects.create(
                price_list=general, product=product, min_quantity=10, unit_price=Decimal(price) * Decimal("0.92")
            )
            PriceListItem.objects.create(price_list=trade, product=product, unit_price=Decimal(price) * Decimal("0.85"))
            if kind == "stocked":
                inventory.receive_stock(
                    product=product, warehouse=main, quantity=Decimal(stock), actor=admin, reference="opening stock"
                )
                ReorderPoint.objects.create(
                    product=product, warehouse=main, minimum=Decimal(stock) / 5, reorder_quantity=Decimal(stock)
                )
            products.append(product)
        Customer.objects.filter(legal_name__in=["Van Dijk Bouw B.V.", "Tulp & Co Groothandel"]).update(group=wholesale)
        return products

    def _company_and_rates(self, admin: User) -> None:
        if not CompanyProfile.objects.exists():
            invoicing.save_company_profile(actor=admin, data=COMPANY)
        if not CompanyBankAccount.objects.exists():
            with acting(admin, "demo bank account"):
                CompanyBankAccount.objects.create(
                    name=f"{COMPANY['bank_name']} EUR", iban=COMPANY["iban"], bank_code=COMPANY["bic"], currency="EUR"
                )
        for currency, rate in RATES.items():
            ExchangeRate.objects.get_or_create(
                currency=currency, rate_date=date(2026, 1, 2), defaults={"rate": Decimal(rate), "source": "demo"}
            )

    def _service_invoice(self, finance: User) -> None:
        """A service invoice by hand for the portal customer, a goodwill credit note on it, and a first
        instalment paid."""
        customer = Customer.objects.get(legal_name="Nordwind Handel GmbH")
        hours = invoicing.ManualLine(
            description="On-site installation (hours)",
            quantity=Decimal("6"),
            unit_price=Decimal("85.00"),
            tax_rate=Decimal("19"),
        )
        invoice = invoicing.create_manual_invoice(customer=customer, lines=[hours], actor=finance, po_number="PO-4700")
        line = invoice.lines.get()
        invoicing.issue_credit_note(
            invoice=invoice,
            actor=finance,
            reason="Goodwill: the technician arrived late",
            lines=[invoicing.CreditLine(line, net_amount=Decimal("42.50"))],
        )
        payment = payments.record_payment(
            customer=customer,
            amount=Decimal("300.00"),
            currency=invoice.currency,
            method="bank_transfer",
            source="staff",
            actor=finance,
            reference=f"{invoice.number} first instalment",
            payer_name=customer.legal_name,
        )
        payments.allocate_payment(
            payment=payment, applications=[payments.Application(invoice, Decimal("300.00"))], actor=finance
        )

    def _dunning_policy(self, admin: User) -> None:
        """The standard dunning policy: a reminder, a second notice, a final demand that holds credit."""
        if not DunningPolicy.objects.exists():
            with acting(admin, "demo dunning policy"):
                policy = DunningPolicy.objects.create(name="Standard", is_default=True)
                for level, days, template, fee, interest, hold in DUNNING_LEVELS:
                    DunningLevel.objects.create(
                        policy=policy,
                        level=level,
                        days_after_due=days,
                        template=template,
                        fee=Decimal(fee),
                        interest_rate_percent_per_year=Decimal(interest),
                        places_credit_hold=hold,
                    )

    def _orders(self, staff: dict[str, User], products: list[Product]) -> None:
        """Today's orders: one per euro customer (confirmed, shipped in part or in full and delivered, or
        held for credit), one waiting for stock, a draft and a cancelled one."""
        sales, finance = staff["sales@demo.otc"], staff["finance@demo.otc"]
        stocked = [product for product in products if product.kind == "stocked" and product.sku != SCARCE_SKU]
        for index, customer in enumerate(Customer.objects.filter(default_currency="EUR").order_by("number")):
            lines = [orders.LineInput(stocked[(index + n) % len(stocked)], Decimal(3 + n * 4)) for n in range(3)]
            order = orders.create_order(actor=sales, customer=customer, lines=lines, po_number=f"PO-{4711 + index}")
            order = orders.confirm_order(order=order, actor=sales)
            if order.status != "confirmed":
                continue
            if index % 3 == 0:
                first = order.lines.order_by("line_no").first()
                orders.dispatch_shipment(
                    order=order,
                    actor=finance,
                    quantities={first.pk: first.quantity_reserved},
                    carrier="DHL",
                    tracking_number=f"JJD00{index:06d}",
                    tracking_url=f"https://www.dhl.com/track?id=JJD00{index:06d}",
                )
            elif index % 3 == 1:
                shipment = orders.dispatch_shipment(
                    order=order, actor=finance, carrier="UPS", tracking_number=f"1Z999AA1{index:08d}"
                )
                orders.mark_delivered(shipment=shipment, actor=finance)
        customers = {customer.legal_name: customer for customer in Customer.objects.all()}
        scarce = next(product for product in products if product.sku == SCARCE_SKU)
        waiting = orders.create_order(
            actor=sales,
            customer=customers["Wiener Kaffeehaus Bedarf GmbH"],
            lines=[orders.LineInput(scarce, Decimal("30"))],
            po_number="PO-4790",
            notes="Whole season's filters in one delivery; the rest follows when stock arrives.",
        )
        orders.confirm_order(order=waiting, actor=sales)  # 12 in stock: 18 on backorder
        orders.create_order(
            actor=sales,
            customer=customers["Tulp & Co Groothandel"],
            lines=[orders.LineInput(stocked[0], Decimal("24"))],
            po_number="PO-4791",
            notes="Quote sent; waiting for the buyer's go-ahead.",
        )
        twice = orders.create_order(
            actor=sales,
            customer=customers["Ferretería Sol S.L."],
            lines=[orders.LineInput(stocked[1], Decimal("5"))],
            po_number="PO-4792",
        )
        orders.cancel_order(
            order=orders.confirm_order(order=twice, actor=sales), actor=sales, reason="Entered twice by the customer"
        )


SCARCE_SKU = "FLT-10"  # little stock: an order waits for more
# level, days after due, letter, fee, interest % a year, places a credit hold
DUNNING_LEVELS = [
    (1, 7, "reminder", "0", "0", False),
    (2, 21, "second_notice", "5.00", "9.12", False),
    (3, 35, "final_demand", "10.00", "9.12", True),
]

COMPANY = {
    "legal_name": "OTC Demo Trading GmbH",
    "line1": "Am Sandtorkai 1",
    "postal_code": "20457",
    "city": "Hamburg",
    "country": "DE",
    "tax_id": "DE136695976",
    "registration": "Amtsgericht Hamburg HRB 123456",
    "email": "billing@otc-demo.example",
    "phone": "+49 40 1234560",
    "bank_name": "Demo Bank Hamburg",
    "iban": "DE89370400440532013000",
    "bic": "COBADEFFXXX",
    "payment_instructions": "Please quote the invoice number with your payment.",
    "legal_text": "Managing director: Ada Admin · Goods remain our property until paid in full.",
}
# Company currency (EUR) per unit on the first business day of 2026 (rounded demo figures).
RATES = {"USD": "0.8540", "GBP": "1.1480", "CHF": "1.0710", "SEK": "0.0905"}

CATALOGUE = [
    ("WID-100", "Steel widget 100 mm", "standard", "stocked", "12.50", "400"),
    ("WID-200", "Steel widget 200 mm", "standard", "stocked", "18.90", "250"),
    ("BRK-10", "Mounting bracket", "standard", "stocked", "4.20", "1200"),
    ("SCR-M8", "Hex screw M8 (box of 100)", "standard", "stocked", "9.80", "600"),
    ("PMP-5", "Circulation pump 5 bar", "standard", "stocked", "349.00", "40"),
    ("VLV-22", "Ball valve 22 mm", "standard", "stocked", "23.40", "300"),
    ("MAN-DE", "Installation handbook (print)", "reduced", "stocked", "19.99", "150"),
    ("FLT-10", "Filter cartridge 10 µm", "standard", "stocked", "15.60", "12"),
    ("SRV-INST", "Installation service (hour)", "standard", "service", "85.00", "0"),
]
