"""Fixtures any test may ask for by name, registered for the whole suite by tests/conftest.py.

People (clerk, approver, sales_rep, credit_controller), a catalogue (warehouse, widget, manual at the
reduced rate), a customer with a 10,000 limit and its confirmed order and shipment, the issuing
company, a payer with two open invoices, and the check that every test leaves a ledger that verifies.
A directory's conftest.py may override a name for its own tests (tests/service has its own `buyer`).
"""

import importlib
from datetime import date
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from inventory.models import TaxCategory, TaxRate
from otc.services import create_api_key
from payments.models import CompanyBankAccount
from tests import factories
from tests.factories import CustomerFactory, StaffFactory, make_catalogue, make_product


@pytest.fixture
def admin_user(db, django_user_model):
    """pytest-django's superuser (behind `admin_client`), with the authenticator app admins must have."""
    return factories.give_totp(django_user_model.objects.create_superuser("admin@otc.test", "password"))


@pytest.fixture
def clerk(db):
    return StaffFactory(full_name="Clara Clerk", email="clara@otc.test")


@pytest.fixture
def approver(db):
    return StaffFactory(full_name="Anton Approver", email="anton@otc.test")


@pytest.fixture
def sales_rep(db):
    return StaffFactory(full_name="Rita Rep", email="rita@otc.test")


@pytest.fixture
def credit_controller(db):
    return StaffFactory(email="fiona@otc.test", full_name="Fiona Finance", groups=["finance"])


@pytest.fixture
def refund_approver(credit_controller):
    """Fiona of finance, who approves refunds others asked for."""
    return credit_controller


@pytest.fixture
def api_client_for(db, clerk):
    """api_client_for("customers:read", ...) -> an APIClient signed with a fresh key of those scopes."""

    def make(*scopes: str) -> APIClient:
        key, plaintext = create_api_key(name=f"partner {'+'.join(scopes)}", scopes=list(scopes), actor=clerk)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {plaintext}")
        client.api_key = key
        return client

    return make


@pytest.fixture(autouse=True)
def ledger_verifies_after_each_test(request):
    """Every test that touches the database leaves a ledger that verifies (trial balance zero,
    receivables equal open items), unless it is about a broken ledger."""
    if request.node.get_closest_marker("ledger_broken"):
        yield
        return
    names, marker = request.fixturenames, request.node.get_closest_marker("django_db")
    if "transactional_db" in names or "live_server" in names or (marker and marker.kwargs.get("transaction")):
        request.getfixturevalue("transactional_db")
    elif "db" in names or marker:
        request.getfixturevalue("db")
    else:
        yield
        return
    yield
    from workflows.verification import ledger_problems

    assert ledger_problems() == []


# --- Catalogue, customer, order ----------------------------------------------------------------------


@pytest.fixture
def warehouse(clerk):
    return make_catalogue(actor=clerk)[1]


@pytest.fixture
def reduced_rate(clerk, warehouse):
    reduced = TaxCategory.objects.create(code="reduced", name="Reduced rate")
    TaxRate.objects.create(category=reduced, country="DE", rate="7.00", valid_from="2020-01-01")
    return reduced


@pytest.fixture
def customer(clerk, approver, sales_rep, warehouse):
    """Nordwind, with purchasing and shipping contacts, a Hamburg shipping address and a 10,000 limit."""
    customer = CustomerFactory(
        actor=clerk,
        legal_name="Nordwind Handel GmbH",
        sales_rep=sales_rep,
        contacts=[
            {"name": "Paula Purchasing", "email": "paula@nordwind.example", "roles": ["purchasing"]},
            {"name": "Sven Shipping", "email": "sven@nordwind.example", "roles": ["shipping"]},
        ],
        addresses=[
            {"kind": "shipping", "line1": "Hafenweg 9", "postal_code": "20457", "city": "Hamburg", "country": "DE"}
        ],
    )
    factories.approved_limit(customer, limit="10000", clerk=clerk, approver=approver)
    return customer


@pytest.fixture
def widget(clerk, warehouse):
    return make_product(actor=clerk, sku="WIDGET", price="10.00", stock="100", breaks={"10": "9.00"})


@pytest.fixture
def manual(clerk, reduced_rate):
    return make_product(actor=clerk, sku="MANUAL", price="19.99", stock="50", tax_category=reduced_rate)


@pytest.fixture
def confirmed_order(clerk, customer, widget, manual):
    """12 widgets at the 9.00 break −5% and 3 manuals at 19.99 (7%), with a 2% order discount."""
    return factories.placed_order(
        customer, clerk, (widget, "12", "5"), (manual, "3"), discount_percent=Decimal("2"), po_number="PO-4711"
    )


@pytest.fixture
def shipment(confirmed_order, clerk):
    return factories.ship(confirmed_order, clerk)


# --- Documents and receivables -----------------------------------------------------------------------


@pytest.fixture
def media_root(settings, tmp_path):
    """Stored documents and attachments go to a directory of the test's own."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def company(db, media_root):
    """The issuing company, as printed on every document; its documents go to the test's media root."""
    from otc.models import CompanyProfile

    return CompanyProfile.objects.create(
        pk=1,
        legal_name="Hanse Werkzeug GmbH",
        line1="Speicherstadt 1",
        postal_code="20457",
        city="Hamburg",
        country="DE",
        tax_id="DE123456789",
        registration="Amtsgericht Hamburg HRB 12345",
        email="billing@hanse-werkzeug.example",
        bank_name="Hamburger Sparkasse",
        iban="DE89370400440532013000",
        bic="HASPDEHHXXX",
        legal_text="Managing director: Hanna Hanse",
        payment_instructions="Please quote the invoice number with your payment.",
    )


@pytest.fixture
def buyer(clerk):
    return CustomerFactory(actor=clerk, legal_name="Nordwind Handel GmbH")


@pytest.fixture
def invoices(buyer, clerk):
    """Two open invoices: 119.00 and 238.00 EUR."""
    return [
        factories.manual_invoice(buyer, clerk, ("1", "100", "19")),
        factories.manual_invoice(buyer, clerk, ("2", "100", "19")),
    ]


@pytest.fixture
def statement(clerk, invoices):
    """An imported statement of four lines: the first invoice by number, the second by amount, a card
    settlement, and 100.00 on account."""
    first = invoices[0]
    rows = [
        (Decimal("119.00"), "Nordwind Handel GmbH", f"Payment {first.number} thank you"),
        (Decimal("238.00"), "Nordwind Handel GmbH", "november"),
        (Decimal("-50.00"), "Office supplies", "card settlement"),
        (Decimal("100.00"), "Nordwind Handel GmbH", "on account"),
    ]
    return factories.imported_statement(
        clerk,
        (
            {"amount": amount, "counterparty_name": payer, "remittance_information": text}
            for amount, payer, text in rows
        ),
        statement_id="2026-11-23",
        booked_on=date(2026, 11, 23),
        filename="today.csv",
    )


@pytest.fixture
def own_accounts(db):
    """The company's accounts the sample statements are of: the main account by IBAN, and a German account
    that old-style statements name by bank code and account number."""
    return [
        CompanyBankAccount.objects.create(name="Commerzbank EUR", iban="DE89370400440532013000", currency="EUR"),
        CompanyBankAccount.objects.create(name="Sparkasse EUR", iban="DE12500105170648489890", currency="EUR"),
        CompanyBankAccount.objects.create(name="ING EUR", iban="NL20INGB0001234567", currency="EUR"),
    ]


@pytest.fixture
def builtin_rules(db):
    """The built-in automation rules as the data migration makes them: a transactional test elsewhere
    flushes the tables (and with them the migration's rows) before this test may run."""
    from django.apps import apps

    from workflows.models import AutomationRule

    if not AutomationRule.objects.exclude(builtin_handler="").exists():
        for name in ("0010_builtin_rules", "0013_builtin_rule_for_return_request_decisions"):
            importlib.import_module(f"workflows.migrations.{name}").create_builtin_rules(apps, None)
    return AutomationRule.objects.exclude(builtin_handler="")
