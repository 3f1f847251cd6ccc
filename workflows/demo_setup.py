"""The reference data of a demo company, as an administrator enters it: staff of every role, the
company profile printed on documents and its bank account, exchange rates, a catalogue with prices,
taxes, stock and reorder points, and the standard dunning policy. `seed_demo` loads it before its
customers and history; `simulate` before the business it runs. Idempotent: what exists is kept."""

from datetime import date
from decimal import Decimal

from django.contrib.auth.models import Group

from customers.models import CustomerGroup
from inventory import services as inventory
from inventory.models import PriceList, PriceListItem, Product, ReorderPoint, TaxCategory, TaxRate, Warehouse
from invoicing import services as invoicing
from otc.audit import acting
from otc.models import CompanyProfile, ExchangeRate, User
from payments.models import CompanyBankAccount, DunningLevel, DunningPolicy

DEMO_PASSWORD = "demo-password-2026"
STAFF = [
    ("admin@demo.otc", "Ada Admin", "admin", True),
    ("finance@demo.otc", "Finn Finance", "finance", False),
    ("approver@demo.otc", "Petra Approver", "finance", False),
    ("sales@demo.otc", "Sam Sales", "sales", False),
    ("service@demo.otc", "Sophie Service", "service", False),
]
PRICES_FROM = date(2020, 1, 1)  # with the tax rates: a simulated past finds prices and taxes
WHOLESALE = "wholesale"  # the customer group with its own price list
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


def reference_data() -> tuple[dict[str, User], list[Product]]:
    """Everything a demo company needs before its first customer: the staff by email, and the catalogue."""
    staff = {email: staff_member(email, name, role, superuser) for email, name, role, superuser in STAFF}
    admin = staff["admin@demo.otc"]
    company_and_rates(admin)
    products = catalogue(admin)
    dunning_policy(admin)
    return staff, products


def staff_member(email: str, name: str, role: str, superuser: bool) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email, DEMO_PASSWORD, full_name=name, is_staff=True, is_superuser=superuser)
        user.groups.set(Group.objects.filter(name=role))
    return user


def company_and_rates(admin: User) -> None:
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


def catalogue(admin: User) -> list[Product]:
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
    wholesale, _ = CustomerGroup.objects.get_or_create(code=WHOLESALE, defaults={"name": "Wholesale"})
    general = PriceList.objects.create(name="List prices EUR", currency="EUR", valid_from=PRICES_FROM)
    trade = PriceList.objects.create(
        name="Wholesale EUR", currency="EUR", customer_group=wholesale, valid_from=PRICES_FROM
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
            ReorderPoint.objects.create(product=product, warehouse=main, **reorder_levels(Decimal(stock)))
        products.append(product)
    return products


def reorder_levels(stock: Decimal) -> dict[str, Decimal]:
    """A product is reordered when it falls to a fifth of its opening stock, as much as it opened with."""
    return {"minimum": stock / 5, "reorder_quantity": stock}


def dunning_policy(admin: User) -> None:
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
