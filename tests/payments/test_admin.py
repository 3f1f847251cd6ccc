"""Payments in the admin: the list at a constant query cost without a full-table COUNT, recording a
payment, the read-only payment page, allocating from the customer's open invoices (pre-filled oldest
due first), undoing an allocation, and refunds decided by someone other than the requester."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from invoicing.models import InvoiceStatus
from otc.models import User
from payments.models import Allocation, Payment, RefundStatus
from payments.money import services
from tests.factories import CustomerFactory, apply, pay

pytestmark = pytest.mark.django_db

PAYMENTS = "/admin/payments/payment/"
REFUNDS = "/admin/payments/refund/"
D = Decimal


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_the_payment_list_costs_the_same_queries_for_2_or_10_and_never_counts_the_table(clerk, buyer):
    client = signed_in(clerk)
    for _ in range(2):
        pay(buyer, clerk, "12.34")
    client.get(PAYMENTS)  # warm caches

    with CaptureQueriesContext(connection) as two:
        response = client.get(PAYMENTS)
    assert response.status_code == 200
    for _ in range(8):
        pay(CustomerFactory(actor=clerk), clerk, "12.34")
    with CaptureQueriesContext(connection) as ten:
        response = client.get(PAYMENTS)

    assert response.content.decode().count("12.34 EUR") >= 2 * 10  # amount and unallocated
    assert len(ten) == len(two)
    counts = [query["sql"] for query in ten.captured_queries if "COUNT(" in query["sql"].upper()]
    assert not [sql for sql in counts if "payments_payment" in sql]


def test_a_payment_opened_for_a_customer_starts_in_its_currency_else_in_the_company_currency(clerk, settings):
    settings.OTC_COMPANY_CURRENCY = "EUR"
    pounds = CustomerFactory(actor=clerk, legal_name="Thames Valley Supplies Ltd", default_currency="GBP")
    client = signed_in(clerk)

    def currency(query: str = "") -> str:
        return client.get(f"{PAYMENTS}add/{query}").context["adminform"].form["currency"].value()

    assert currency(f"?customer={pounds.pk}") == "GBP"
    assert currency() == "EUR"
    assert currency("?customer=999999") == "EUR"
    assert currency(f"?customer={pounds.pk}&currency=USD") == "USD"


def test_the_list_filters_what_is_left_to_allocate_and_searches_references(clerk, buyer, invoices):
    used = pay(buyer, clerk, "119.00", reference="ORDER 4711")
    services.allocate_payment(payment=used, applications=[apply(invoices[0], "119.00")], actor=clerk)
    credit = pay(buyer, clerk, "50.00", reference="ORDER 4712")
    client = signed_in(clerk)

    unallocated = client.get(PAYMENTS, {"unallocated": "yes"}).content.decode()
    found = client.get(PAYMENTS, {"q": "4711"}).content.decode()

    assert credit.number in unallocated
    assert used.number not in unallocated
    assert used.number in found
    assert credit.number not in found


def test_a_payment_recorded_in_the_admin_is_booked_by_the_service(clerk, buyer):
    client = signed_in(clerk)
    form = {
        "customer": buyer.pk,
        "currency": "EUR",
        "amount": "357.00",
        "bank_fee": "2.50",
        "received_on": "2026-03-02",
        "method": "bank_transfer",
        "payer_name": "Nordwind",
        "reference": "INV-2026-000001",
        "external_id": "",
        "_save": "Save",
    }

    assert "Record payment" in client.get(f"{PAYMENTS}add/").content.decode()
    response = client.post(f"{PAYMENTS}add/", form, follow=True)

    payment = Payment.objects.get()
    assert any("recorded" in text for text in messages_of(response))
    assert (payment.source, payment.amount, payment.bank_fee, payment.received_on, payment.created_by) == (
        "staff",
        D("357.00"),
        D("2.50"),
        date(2026, 3, 2),
        clerk,
    )


def test_a_payment_the_service_refuses_shows_why_and_writes_nothing(clerk, buyer):
    pay(buyer, clerk, "10.00", external_id="BANK-1")
    form = {
        "customer": buyer.pk,
        "currency": "EUR",
        "amount": "10.00",
        "bank_fee": "0",
        "received_on": "2026-03-02",
        "method": "bank_transfer",
        "external_id": "BANK-1",
        "_save": "Save",
    }

    response = signed_in(clerk).post(f"{PAYMENTS}add/", form)

    assert response.status_code == 200
    assert "recorded already" in response.content.decode()
    assert Payment.objects.count() == 1


def test_the_allocate_page_prefills_oldest_first_and_allocates_through_the_service(clerk, buyer, invoices):
    first, second = invoices
    payment = pay(buyer, clerk, "200.00")
    client = signed_in(clerk)
    url = f"{PAYMENTS}{payment.pk}/allocate/"

    page = client.get(url)
    form = page.context["form"]
    assert [form[f"amount_{invoice.pk}"].initial for invoice in invoices] == [D("119.00"), D("81.00")]

    response = client.post(url, {f"amount_{first.pk}": "119.00", f"amount_{second.pk}": "81.00"}, follow=True)

    assert f"{payment} allocated." in messages_of(response)
    first.refresh_from_db()
    second.refresh_from_db()
    payment.refresh_from_db()
    assert (first.status, second.status, second.open_amount) == (
        InvoiceStatus.PAID,
        InvoiceStatus.PARTIALLY_PAID,
        D("157.00"),
    )
    assert payment.unallocated_amount == 0


def test_an_over_allocation_in_the_admin_is_a_message_and_writes_nothing(clerk, buyer, invoices):
    first, second = invoices
    payment = pay(buyer, clerk, "100.00")

    response = signed_in(clerk).post(
        f"{PAYMENTS}{payment.pk}/allocate/", {f"amount_{first.pk}": "100.00", f"amount_{second.pk}": "50.00"}
    )

    assert response.status_code == 200
    assert any("left" in text for text in messages_of(response))
    assert not Allocation.objects.exists()


def test_undoing_an_allocation_asks_for_a_reason_and_reopens_the_invoice(clerk, buyer, invoices):
    payment = pay(buyer, clerk, "119.00")
    (allocation,) = services.allocate_payment(payment=payment, applications=[apply(invoices[0], "119.00")], actor=clerk)
    client = signed_in(clerk)
    url = f"/admin/payments/allocation/{allocation.pk}/undo/"

    assert client.post(url, {"reason": ""}).status_code == 200  # the reason is required
    client.post(url, {"reason": "belongs to the next invoice"})

    allocation.refresh_from_db()
    invoices[0].refresh_from_db()
    assert (allocation.reversal_reason, invoices[0].open_amount) == ("belongs to the next invoice", D("119.00"))
    page = client.get(f"{PAYMENTS}{payment.pk}/change/").content.decode()
    assert "belongs to the next invoice" in page
    assert invoices[0].number in page
    assert f"payment:{payment.pk}" not in page  # postings render as entries, not as raw sources
    assert page.count("JE-") >= 3  # receipt, allocation, its reversal
    assert f"{PAYMENTS}{payment.pk}/allocate/" in page
    assert f"{PAYMENTS}{payment.pk}/refund/" in page


def test_a_refund_is_approved_by_someone_else_and_never_by_the_requester(clerk, buyer, refund_approver):
    payment = pay(buyer, clerk, "80.00")
    client = signed_in(clerk)

    client.post(f"{PAYMENTS}{payment.pk}/refund/", {"amount": "30.00", "reason": "paid twice"})
    refund = payment.refunds.get()
    own = client.post(REFUNDS, {"action": "approve_selected", "_selected_action": [refund.pk]}, follow=True)

    assert any("four eyes" in text for text in messages_of(own))
    refund.refresh_from_db()
    assert refund.status == RefundStatus.REQUESTED

    other = signed_in(refund_approver).post(
        REFUNDS, {"action": "approve_selected", "_selected_action": [refund.pk]}, follow=True
    )

    assert "Approved and paid out 1 refund(s)." in messages_of(other)
    refund.refresh_from_db()
    payment.refresh_from_db()
    assert (refund.status, refund.decided_by, payment.unallocated_amount) == (
        RefundStatus.PAID,
        refund_approver,
        D("50.00"),
    )
