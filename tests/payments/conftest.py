from decimal import Decimal

import pytest

from payments.models import CompanyBankAccount
from payments.money.services import Application
from tests.factories import CustomerFactory, StaffFactory
from tests.invoicing.conftest import manual_invoice


@pytest.fixture
def buyer(clerk):
    return CustomerFactory(actor=clerk, legal_name="Nordwind Handel GmbH")


@pytest.fixture
def invoices(buyer, clerk):
    """Two open invoices: 119.00 and 238.00 EUR."""
    return [manual_invoice(buyer, clerk, ("1", "100", "19")), manual_invoice(buyer, clerk, ("2", "100", "19"))]


@pytest.fixture
def refund_approver(db):
    return StaffFactory(email="fiona@otc.test", full_name="Fiona Finance", groups=["finance"])


def apply(invoice, amount: str, **options) -> Application:
    return Application(invoice, Decimal(amount), **options)


@pytest.fixture
def own_accounts(db):
    """The company's accounts the sample statements are of: the main account by IBAN, and a German account
    that old-style statements name by bank code and account number."""
    return [
        CompanyBankAccount.objects.create(name="Commerzbank EUR", iban="DE89370400440532013000", currency="EUR"),
        CompanyBankAccount.objects.create(name="Sparkasse EUR", iban="DE12500105170648489890", currency="EUR"),
        CompanyBankAccount.objects.create(name="ING EUR", iban="NL20INGB0001234567", currency="EUR"),
    ]
