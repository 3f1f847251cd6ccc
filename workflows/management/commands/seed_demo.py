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

from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from stdnum.iso7064 import mod_11_10

from customers import services
from customers.models import Customer, CustomerGroup
from inventory.models import Product
from invoicing import services as invoicing
from orders import services as orders
from orders.models import Order
from otc.models import User
from payments.money import services as payments
from workflows.demo_history import History
from workflows.demo_setup import DEMO_PASSWORD, SCARCE_SKU, STAFF, WHOLESALE, reference_data

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
            staff, products = reference_data()
            created = self._customers(staff)
            if not Order.objects.exists():
                History(staff=staff, today=timezone.localdate()).play()
                self._orders(staff, products)
                self._service_invoice(staff["finance@demo.otc"])
        placed = Order.objects.count() - orders_before
        self.stdout.write(self.style.SUCCESS(f"Demo data ready ({created} customers, {placed} orders added)."))
        self.stdout.write(f"  Staff logins (password {DEMO_PASSWORD}): " + ", ".join(email for email, *_ in STAFF))
        self.stdout.write(f"  Portal login (password {DEMO_PASSWORD}): {PORTAL_USER}")

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
        Customer.objects.filter(legal_name__in=["Van Dijk Bouw B.V.", "Tulp & Co Groothandel"]).update(
            group=CustomerGroup.objects.get(code=WHOLESALE)
        )
        return created

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
