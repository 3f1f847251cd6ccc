from decimal import Decimal

import pytest

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
