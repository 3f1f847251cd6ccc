"""Every document's History shows its audit trail, as the customer's does: who, when, what, before and
after, and why (the reason the service gave), for the document and the rows that reference it."""

from decimal import Decimal

import pytest
from django.test import Client

from customers import services as customer_services
from payments.money import services as money
from payments.money.services import Application
from tests.factories import CustomerFactory, manual_invoice, pay

pytestmark = pytest.mark.django_db


def history(user, url: str) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_an_orders_history_shows_entry_and_confirmation_with_who_and_why(clerk, confirmed_order):
    page = history(clerk, f"/admin/orders/order/{confirmed_order.pk}/history/")

    assert "Order added" in page
    assert "Order line added" in page
    assert "Order changed" in page
    assert "enter order" in page
    assert "confirm order" in page
    assert "Clara Clerk" in page
    assert "Draft" in page
    assert "Confirmed" in page


def test_an_invoices_history_shows_its_issue_and_the_payment_allocated_to_it(clerk):
    customer = CustomerFactory(actor=clerk, legal_name="Historie GmbH")
    invoice = manual_invoice(customer, clerk, ("2", "50.00", "19"))
    payment = pay(customer, clerk, "119.00")
    money.allocate_payment(payment=payment, applications=[Application(invoice, Decimal("119.00"))], actor=clerk)

    page = history(clerk, f"/admin/invoicing/invoice/{invoice.pk}/history/")

    assert "Invoice added" in page
    assert "Invoice changed" in page
    assert "manual invoice" in page
    assert invoice.number in page  # the number it was issued with, after
    assert "Open amount" in page
    assert "119.00" in page
    assert "Paid" in page

    payment_page = history(clerk, f"/admin/payments/payment/{payment.pk}/history/")
    assert "Payment added" in payment_page


def test_a_change_requests_history_shows_who_asked_and_who_approved(clerk, approver):
    customer = CustomerFactory(actor=clerk, legal_name="Limit AG")
    request = customer_services.request_credit_limit_change(
        customer=customer, actor=clerk, credit_limit="5000", reason="Annual review"
    )
    customer_services.approve_change_request(change_request=request, actor=approver)

    page = history(clerk, f"/admin/customers/changerequest/{request.pk}/history/")

    assert "Change request added" in page
    assert "Change request changed" in page
    assert "Annual review" in page
    assert str(approver) in page


def test_a_record_without_recorded_changes_says_so(clerk, warehouse):
    page = history(clerk, f"/admin/inventory/warehouse/{warehouse.pk}/history/")

    assert "No recorded changes yet." in page
