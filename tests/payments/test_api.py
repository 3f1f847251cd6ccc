"""The payments API: lists at a constant query cost with their filters, a payment with its live
allocations; recording and allocating are idempotent, an over-allocation is a 409 with nothing written,
an allocation is undone once; scopes and staff permissions; a customer's balance per currency."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from invoicing.models import InvoiceStatus
from ledger.models import JournalEntry
from payments.models import Allocation, Payment
from payments.money import services
from tests.factories import CustomerFactory, StaffFactory, apply, pay

pytestmark = pytest.mark.django_db

PAYMENTS = "/api/v1/payments/"
D = Decimal


@pytest.fixture
def reader(api_client_for) -> APIClient:
    return api_client_for("payments:read")


@pytest.fixture
def partner(api_client_for) -> APIClient:
    """A bank gateway: reads payments, records and allocates them."""
    return api_client_for("payments:read", "payments:write")


def new_payment(customer, /, **overrides) -> dict:
    return {
        "customer": customer.pk,
        "amount": "357.00",
        "currency": "EUR",
        "method": "bank_transfer",
        "received_on": "2026-03-02",
        "reference": "INV-2026-000001 INV-2026-000002",
        "payer_name": "Nordwind Handel GmbH",
        **overrides,
    }


def counts() -> tuple[int, int, int]:
    return Payment.objects.count(), Allocation.objects.count(), JournalEntry.objects.count()


# -- reading --------------------------------------------------------------------------------------------


def test_the_payment_list_costs_the_same_queries_for_2_or_10_payments(reader, buyer, clerk):
    for _ in range(2):
        pay(buyer, clerk, "10.00")
    reader.get(PAYMENTS)  # warm caches

    with CaptureQueriesContext(connection) as two:
        response = reader.get(PAYMENTS)
    assert len(response.json()["results"]) == 2
    for _ in range(8):
        pay(CustomerFactory(actor=clerk), clerk, "10.00")
    with CaptureQueriesContext(connection) as ten:
        response = reader.get(PAYMENTS)

    assert len(response.json()["results"]) == 10
    assert len(ten) == len(two)
    assert not any("COUNT(" in query["sql"] for query in ten.captured_queries)


def test_the_list_filters_by_customer_date_and_what_is_left_to_allocate(reader, buyer, clerk, invoices):
    other = CustomerFactory(actor=clerk)
    used = pay(buyer, clerk, "119.00", received_on=date(2026, 1, 5))
    services.allocate_payment(payment=used, applications=[apply(invoices[0], "119.00")], actor=clerk)
    credit = pay(buyer, clerk, "50.00", received_on=date(2026, 2, 5))
    elsewhere = pay(other, clerk, "20.00", received_on=date(2026, 2, 6))

    def numbers(**params) -> set[str]:
        response = reader.get(PAYMENTS, params)
        assert response.status_code == 200, response.json()
        return {item["number"] for item in response.json()["results"]}

    assert numbers(customer=buyer.pk) == {used.number, credit.number}
    assert numbers(unallocated="true") == {credit.number, elsewhere.number}
    assert numbers(received_before="2026-01-31") == {used.number}
    assert numbers(received_after="2026-02-06") == {elsewhere.number}
    assert numbers(currency="USD") == set()
    assert numbers(search=credit.number) == {credit.number}
    assert reader.get(PAYMENTS, {"received_after": "someday"}).status_code == 422


def test_a_payment_reads_with_its_live_allocations_only(reader, buyer, clerk, invoices):
    payment = pay(buyer, clerk, "400.00", bank_fee=D("1.50"))
    first, second = services.allocate_payment(
        payment=payment, applications=[apply(invoices[0], "119.00"), apply(invoices[1], "238.00")], actor=clerk
    )
    services.unallocate(allocation=first, actor=clerk, reason="wrong invoice")

    body = reader.get(f"{PAYMENTS}{payment.pk}/").json()

    assert (body["number"], body["source"], body["method"]) == (payment.number, "staff", "bank_transfer")
    assert body["customer"] == {"id": buyer.pk, "number": buyer.number, "legal_name": "Nordwind Handel GmbH"}
    assert (body["amount"], body["bank_fee"], body["allocated_amount"], body["unallocated_amount"]) == (
        "400.00",
        "1.50",
        "238.00",
        "162.00",
    )
    assert [(item["id"], item["invoice"], item["amount"]) for item in body["allocations"]] == [
        (second.pk, invoices[1].number, "238.00")
    ]
    missing = reader.get(f"{PAYMENTS}999999/")
    assert (missing.status_code, missing["Content-Type"]) == (404, "application/problem+json")


# -- recording ------------------------------------------------------------------------------------------


def test_a_partner_records_a_payment_and_a_replay_returns_it_without_a_second(partner, buyer):
    first = partner.post(PAYMENTS, new_payment(buyer), HTTP_IDEMPOTENCY_KEY="bank-line-17")
    replay = partner.post(PAYMENTS, new_payment(buyer), HTTP_IDEMPOTENCY_KEY="bank-line-17")

    assert first.status_code == replay.status_code == 201, first.json()
    assert replay.json() == first.json()
    assert replay["Idempotent-Replayed"] == "true"
    payment = Payment.objects.get()
    assert (first.json()["number"], first.json()["source"], first.json()["unallocated_amount"]) == (
        payment.number,
        "api",
        "357.00",
    )
    assert (payment.created_by_id, payment.received_on) == (partner.api_key.user_id, date(2026, 3, 2))
    assert JournalEntry.objects.filter(source=f"payment:{payment.pk}").count() == 1


def test_a_payment_with_a_known_external_id_is_a_409_and_writes_nothing_more(partner, buyer):
    assert partner.post(PAYMENTS, new_payment(buyer, external_id="TX-1")).status_code == 201

    again = partner.post(PAYMENTS, new_payment(buyer, external_id="TX-1"))

    assert (again.status_code, again.json()["code"]) == (409, "duplicate_payment")
    assert counts() == (1, 0, 1)


@pytest.mark.parametrize(
    ("change", "field"),
    [({"amount": "0"}, "amount"), ({"amount": "1.001"}, "amount"), ({"method": "cash"}, "method"), ({"tip": 1}, "tip")],
)
def test_a_bad_payment_is_a_422_naming_the_field_and_writes_nothing(partner, buyer, change, field):
    response = partner.post(PAYMENTS, new_payment(buyer, **change))

    assert (response.status_code, response["Content-Type"]) == (422, "application/problem+json")
    assert field in response.json()["errors"]
    assert counts() == (0, 0, 0)


def test_staff_record_as_staff_and_need_the_permission(clerk, buyer):
    seller = StaffFactory(email="sam@otc.test", groups=["sales"])
    sales, finance = APIClient(), APIClient()
    sales.force_login(seller)
    finance.force_login(clerk)

    assert sales.get(PAYMENTS).status_code == 403
    assert sales.post(PAYMENTS, new_payment(buyer)).status_code == 403
    assert not Payment.objects.exists()
    response = finance.post(PAYMENTS, new_payment(buyer))
    assert (response.status_code, response.json()["source"]) == (201, "staff")


def test_keys_need_the_payment_scopes(reader, api_client_for, buyer, clerk, invoices):
    payment = pay(buyer, clerk, "119.00")
    invoices_only = api_client_for("invoices:read")
    allocation = {"applications": [{"invoice": invoices[0].number, "amount": "119.00"}]}
    before = counts()

    refused = [
        invoices_only.get(PAYMENTS),
        invoices_only.get(f"/api/v1/customers/{buyer.pk}/balance/"),
        reader.post(PAYMENTS, new_payment(buyer)),
        reader.post(f"{PAYMENTS}{payment.pk}/allocations/", allocation),
    ]

    assert [response.status_code for response in refused] == [403, 403, 403, 403]
    assert "payments:write" in refused[2].json()["detail"]
    assert counts() == before


# -- allocating -----------------------------------------------------------------------------------------


def test_a_payment_is_allocated_by_invoice_number_and_a_replay_allocates_nothing_more(partner, buyer, clerk, invoices):
    payment = pay(buyer, clerk, "353.00")
    url = f"{PAYMENTS}{payment.pk}/allocations/"
    body = {
        "applications": [
            {"invoice": invoices[0].number, "amount": "119.00"},
            {"invoice": invoices[1].number, "amount": "234.00", "write_off": True},
        ]
    }

    first = partner.post(url, body, HTTP_IDEMPOTENCY_KEY="apply-1")
    replay = partner.post(url, body, HTTP_IDEMPOTENCY_KEY="apply-1")

    assert first.status_code == replay.status_code == 201, first.json()
    assert replay.json() == first.json()
    assert sorted(
        (item["invoice"], item["amount"], item["write_off_amount"]) for item in first.json()["allocations"]
    ) == [
        (invoices[0].number, "119.00", "0.00"),
        (invoices[1].number, "234.00", "4.00"),
    ]
    assert first.json()["unallocated_amount"] == "0.00"
    assert Allocation.objects.count() == 2
    for invoice in invoices:
        invoice.refresh_from_db()
        assert (invoice.status, invoice.open_amount) == (InvoiceStatus.PAID, 0)


def test_over_allocating_is_a_409_and_writes_nothing(partner, buyer, clerk, invoices):
    payment = pay(buyer, clerk, "200.00")
    before = counts()
    body = {
        "applications": [
            {"invoice": invoices[0].number, "amount": "119.00"},
            {"invoice": invoices[1].number, "amount": "100.00"},
        ]
    }

    response = partner.post(f"{PAYMENTS}{payment.pk}/allocations/", body)

    assert (response.status_code, response.json()["code"]) == (409, "over_allocation")
    assert counts() == before
    payment.refresh_from_db()
    invoices[0].refresh_from_db()
    assert (payment.allocated_amount, invoices[0].open_amount) == (0, D("119.00"))


def test_an_unknown_or_repeated_invoice_number_is_a_422_naming_it(partner, buyer, clerk, invoices):
    payment = pay(buyer, clerk, "200.00")
    url = f"{PAYMENTS}{payment.pk}/allocations/"

    unknown = partner.post(url, {"applications": [{"invoice": "INV-1999-000001", "amount": "1.00"}]})
    twice = partner.post(
        url,
        {"applications": [{"invoice": invoices[0].number, "amount": "1.00"}] * 2},
    )

    assert unknown.status_code == twice.status_code == 422
    assert "INV-1999-000001" in str(unknown.json()["errors"])
    assert "twice" in str(twice.json()["errors"])
    assert Allocation.objects.count() == 0


def test_an_allocation_is_undone_once_and_the_invoice_reopens(partner, buyer, clerk, invoices):
    payment = pay(buyer, clerk, "119.00")
    (allocation,) = services.allocate_payment(payment=payment, applications=[apply(invoices[0], "119.00")], actor=clerk)
    url = f"/api/v1/allocations/{allocation.pk}/reverse/"

    missing_reason = partner.post(url, {})
    undone = partner.post(url, {"reason": "paid the wrong invoice"})
    again = partner.post(url, {"reason": "twice"})

    assert missing_reason.status_code == 422
    assert undone.status_code == 200, undone.json()
    assert (undone.json()["reversal_reason"], undone.json()["reversed_at"] is not None) == (
        "paid the wrong invoice",
        True,
    )
    assert (again.status_code, again.json()["code"]) == (409, "conflict")
    invoices[0].refresh_from_db()
    payment.refresh_from_db()
    assert (invoices[0].open_amount, payment.unallocated_amount) == (D("119.00"), D("119.00"))


# -- balance --------------------------------------------------------------------------------------------


def test_the_balance_gives_receivables_and_unapplied_payments_per_currency(reader, buyer, clerk, invoices):
    payment = pay(buyer, clerk, "200.00")
    services.allocate_payment(payment=payment, applications=[apply(invoices[0], "119.00")], actor=clerk)

    body = reader.get(f"/api/v1/customers/{buyer.pk}/balance/").json()

    assert body["customer"]["number"] == buyer.number
    assert body["currencies"] == [
        {"currency": "EUR", "open_receivables": "238.00", "unapplied_payments": "81.00", "balance": "157.00"}
    ]
    assert reader.get("/api/v1/customers/999999/balance/").status_code == 404
