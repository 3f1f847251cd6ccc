from decimal import Decimal

import pytest

from customers import services as customer_services
from inventory.models import TaxCategory, TaxRate
from tests.factories import CustomerFactory, StaffFactory, make_catalogue, make_product


@pytest.fixture
def warehouse(clerk):
    return make_catalogue(actor=clerk)[1]


@pytest.fixture
def reduced_rate(clerk, warehouse):
    reduced = TaxCategory.objects.create(code="reduced", name="Reduced rate")
    TaxRate.objects.create(category=reduced, country="DE", rate="7.00", valid_from="2020-01-01")
    return reduced


@pytest.fixture
def credit_controller(db):
    return StaffFactory(email="fiona@otc.test", full_name="Fiona Finance", groups=["finance"])


def approved_limit(customer, *, limit: str, clerk, approver) -> None:
    request = customer_services.request_credit_limit_change(
        customer=customer, actor=clerk, credit_limit=limit, reason="credit report"
    )
    customer_services.approve_change_request(change_request=request, actor=approver)


@pytest.fixture
def customer(clerk, approver, sales_rep, warehouse):
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
    approved_limit(customer, limit="10000", clerk=clerk, approver=approver)
    return customer


@pytest.fixture
def widget(clerk, warehouse):
    return make_product(actor=clerk, sku="WIDGET", price="10.00", stock="100", breaks={"10": "9.00"})


@pytest.fixture
def manual(clerk, reduced_rate):
    return make_product(actor=clerk, sku="MANUAL", price="19.99", stock="50", tax_category=reduced_rate)


def qty(value: str) -> Decimal:
    return Decimal(value)
