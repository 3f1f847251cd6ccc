"""The customer 360 on the customer's admin page: money, open orders and invoices, tickets, open
disputes with their tickets and survey scores, at a query count that does not grow with the rows."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from payments.collections import services as collections
from service import services
from service.models import DisputeReason, Survey, SurveyTrigger, TicketStatus
from service.selectors import customer_360
from tests.factories import CustomerFactory, StaffFactory, manual_invoice, open_for, pay

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(buyer, paula, clerk, agent):
    """Two invoices ten days overdue (119.00 and 238.00 EUR), the first disputed on a ticket, a solved
    ticket with a low survey answer."""
    issued = timezone.localdate() - timedelta(days=40)
    first = manual_invoice(buyer, clerk, ("1", "100", "19"), issue_date=issued)
    manual_invoice(buyer, clerk, ("2", "100", "19"), issue_date=issued)
    disputed_on = open_for(buyer, clerk, subject="Two widgets missing", assignee=agent)
    services.open_dispute(
        invoice=first, reason=DisputeReason.MISSING, description="Missing", actor=clerk, ticket=disputed_on
    )
    solved = open_for(buyer, clerk, subject="Copy of the invoice", contact=paula)
    services.change_status(ticket=solved, status=TicketStatus.SOLVED, actor=agent)
    Survey.objects.create(
        customer=buyer,
        contact=paula,
        trigger=SurveyTrigger.TICKET_SOLVED,
        ticket=solved,
        sent_at=timezone.now(),
        expires_at=timezone.now() + timedelta(days=3),
        answered_at=timezone.now(),
        csat=2,
    )
    return disputed_on, solved


def test_the_360_sums_up_the_customer(buyer, history):
    disputed_on, solved = history

    summary = customer_360(buyer)

    assert [(b.currency, b.balance) for b in summary.balances] == [("EUR", Decimal("357.00"))]
    assert summary.overdue == {"EUR": Decimal("357.00")}
    assert summary.open_invoice_count == 2
    assert (summary.open_ticket_count, summary.open_tickets, summary.recent_tickets) == (1, [disputed_on], [solved])
    assert [(d.invoice.number, d.ticket) for d in summary.open_disputes] == [
        (disputed_on.invoices.get().number, disputed_on)
    ]
    assert (summary.surveys.answered, summary.surveys.average_csat, summary.surveys.low_scores) == (
        1,
        Decimal("2.00"),
        1,
    )
    assert (summary.exposure.open_receivables, summary.exposure.total) == (Decimal("357.00"), Decimal("357.00"))
    assert (summary.held_orders, summary.last_payments, summary.open_promises) == ([], [], [])


def test_the_360_shows_exposure_payments_promises_and_offers_the_statement(
    admin_client, company, buyer, clerk, history
):
    invoice = buyer.invoices.order_by("pk").last()
    payment = pay(buyer, clerk, "50.00")
    promise = collections.record_promise_to_pay(
        customer=buyer,
        invoices=[invoice],
        promised_date=timezone.localdate() + timedelta(days=7),
        amount=Decimal("238.00"),
        actor=clerk,
    )

    page = admin_client.get(f"/admin/customers/customer/{buyer.pk}/change/").content.decode()
    statement = admin_client.get(f"/admin/customers/customer/{buyer.pk}/statement/")

    assert "Exposure" in page
    assert f"/admin/payments/payment/{payment.pk}/change/" in page
    assert f"/admin/payments/promisetopay/{promise.pk}/change/" in page
    assert f"/admin/customers/customer/{buyer.pk}/request-credit-limit/" in page
    assert statement.status_code == 200
    assert statement["Content-Type"] == "application/pdf"
    assert statement.getvalue().startswith(b"%PDF")


def test_the_statement_needs_permission_to_see_invoices(buyer, history):
    client = Client()
    client.force_login(StaffFactory(email="sven@otc.test", groups=["no such group"]))  # staff without permissions

    assert client.get(f"/admin/customers/customer/{buyer.pk}/statement/").status_code == 403


def queries_for_page(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_the_customers_page_shows_the_360_without_n_plus_one(admin_client, buyer, clerk, history):
    url = f"/admin/customers/customer/{buyer.pk}/change/"
    page = admin_client.get(url)
    assert b'id="customer-360"' in page.content
    assert b"Two widgets missing" in page.content
    assert b"357.00" in page.content
    before = queries_for_page(admin_client, url)

    for number in range(4):  # more tickets, invoices and disputes: the same number of queries
        ticket = open_for(buyer, clerk, subject=f"Question {number}")
        invoice = manual_invoice(buyer, clerk, ("1", "10", "19"))
        services.open_dispute(invoice=invoice, reason=DisputeReason.OTHER, description="?", actor=clerk, ticket=ticket)

    assert queries_for_page(admin_client, url) == before


def test_every_ticket_page_opens_the_customer_360(admin_client, buyer, history):
    disputed_on, _ = history
    page = admin_client.get(f"/admin/service/ticket/{disputed_on.pk}/change/")
    assert f'href="/admin/customers/customer/{buyer.pk}/change/#customer-360"'.encode() in page.content


def test_the_360_starts_an_order_and_a_payment_with_the_customer_and_its_currency(clerk):
    customer = CustomerFactory(actor=clerk, legal_name="Nordwind Handel GmbH", default_currency="CHF")
    client = Client()
    client.force_login(StaffFactory(groups=["finance", "sales"]))
    finance_only = Client()
    finance_only.force_login(clerk)
    assert (
        "/admin/orders/order/add/"
        not in finance_only.get(f"/admin/customers/customer/{customer.pk}/change/").content.decode()
    )
    page = client.get(f"/admin/customers/customer/{customer.pk}/change/").content.decode()
    query = f"?customer={customer.pk}"
    assert f'href="/admin/orders/order/add/{query}"' in page
    assert f'href="/admin/payments/payment/add/{query}"' in page

    # The links name only the customer: each add page takes the currency from it.
    payment_form = client.get(f"/admin/payments/payment/add/{query}").context["adminform"]
    order_form = client.get(f"/admin/orders/order/add/{query}").context["adminform"]

    assert (payment_form.form["customer"].value(), payment_form.form["currency"].value()) == (str(customer.pk), "CHF")
    assert (order_form.form["customer"].value(), order_form.form["currency"].value()) == (str(customer.pk), "CHF")


def test_without_a_company_profile_the_statement_says_what_to_set_up(admin_client, buyer, history):
    response = admin_client.get(f"/admin/customers/customer/{buyer.pk}/statement/", follow=True)

    assert response.redirect_chain[0][0] == f"/admin/customers/customer/{buyer.pk}/change/"
    assert "Set up the company profile" in response.content.decode()
