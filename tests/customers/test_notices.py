"""Who receives which customer email is customers' rule: the first role, in order, with an active
contact; an opt-out stops a notification but never a legal document."""

import pytest

from customers.models import Contact, Customer, NotificationType, Preferences
from customers.notices import RECIPIENT_ROLES, LegalNotice, customer_recipients
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(clerk):
    customer = CustomerFactory(actor=clerk, legal_name="Nordwind Handel GmbH")
    for name, email, roles, active in [
        ("Paula Purchasing", "paula@nordwind.example", ["purchasing"], True),
        ("Bea Billing", "bea@nordwind.example", ["billing"], True),
        ("Bob Billing", "bob@nordwind.example", ["billing"], True),
        ("Old Billing", "old@nordwind.example", ["billing", "dunning"], False),
    ]:
        Contact.objects.create(customer=customer, name=name, email=email, roles=roles, is_active=active)
    return customer


def test_the_first_role_with_an_active_contact_receives_it(customer):
    assert customer_recipients(customer, NotificationType.ORDER_CONFIRMATION) == ["paula@nordwind.example"]
    assert customer_recipients(customer, NotificationType.PAYMENT_RECEIPT) == [
        "bea@nordwind.example",
        "bob@nordwind.example",
    ]
    # No active dunning contact (the only one left): billing gets the letter.
    assert customer_recipients(customer, LegalNotice.DUNNING_LETTER) == [
        "bea@nordwind.example",
        "bob@nordwind.example",
    ]


def test_an_opt_out_stops_notifications_but_not_legal_documents(customer):
    Preferences.objects.filter(customer=customer).update(opt_outs=NotificationType.values)
    customer = Customer.objects.get(pk=customer.pk)

    assert [customer_recipients(customer, kind) for kind in NotificationType if kind in RECIPIENT_ROLES] == [
        [],
        [],
        [],
        [],
    ]
    assert customer_recipients(customer, LegalNotice.INVOICE) == ["bea@nordwind.example", "bob@nordwind.example"]


def test_a_customer_without_a_contact_in_any_role_gets_nothing(clerk):
    customer = CustomerFactory(actor=clerk)
    assert customer_recipients(customer, NotificationType.SHIPMENT_NOTIFICATION) == []
