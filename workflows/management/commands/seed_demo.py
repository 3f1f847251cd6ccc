"""Demo data for a new installation: staff of every role, a portal user and customers in several
countries with contacts, addresses, credit limits, a bank account, a hold and pending requests.

Idempotent: run it twice and nothing is added the second time. Everything goes through services.
"""

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from stdnum.iso7064 import mod_11_10

from customers import services
from customers.models import Customer
from otc.models import User

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
        with transaction.atomic():
            staff = {email: self._staff(email, name, role, superuser) for email, name, role, superuser in STAFF}
            created = self._customers(staff)
        self.stdout.write(self.style.SUCCESS(f"Demo data ready ({created} customers added)."))
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
            customer = services.create_customer(
                actor=clerk,
                legal_name=name,
                country=country,
                default_currency=currency,
                language=language,
                tax_id=_german_vat_id(index) if country == "DE" else "",
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
                preferences={"channels": ["email", "portal"], "po_number_required": index % 3 == 0},
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
