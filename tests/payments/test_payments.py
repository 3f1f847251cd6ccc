from decimal import Decimal

import pytest

from invoicing.models import InvoiceStatus
from ledger.models import AccountRole, JournalLine
from orders.selectors import customer_exposure
from otc.errors import InvalidInput, PermissionDenied
from payments.models import Allocation, Payment, RefundStatus
from payments.money import services
from payments.money.errors import DuplicatePayment, OverAllocation
from payments.money.selectors import unallocated_payments
from tests.factories import CustomerFactory, apply, manual_invoice, pay

pytestmark = pytest.mark.django_db
D = Decimal


def postings(**filters) -> dict[str, Decimal]:
    rows = JournalLine.objects.filter(**filters).values_list("account__role", "amount")
    totals: dict[str, Decimal] = {}
    for role, amount in rows:
        totals[role] = totals.get(role, D(0)) + amount
    return totals


def test_a_payment_is_booked_as_the_customers_unapplied_money_net_of_the_bank_fee(buyer, clerk):
    payment = pay(buyer, clerk, "357.00", bank_fee=D("2.50"), reference="INV-2026-000001 INV-2026-000002")

    assert payment.number.startswith("PAY-")
    assert payment.unallocated_amount == D("357.00")
    assert postings(entry__source=f"payment:{payment.pk}") == {
        AccountRole.CASH: D("354.50"),
        AccountRole.BANK_FEES: D("2.50"),
        AccountRole.CUSTOMER_CREDIT: D("-357.00"),
    }


def test_one_payment_settles_several_invoices_and_the_rest_stays_as_credit(buyer, clerk, invoices):
    first, second = invoices
    payment = pay(buyer, clerk, "400.00")

    services.allocate_payment(
        payment=payment, applications=[apply(first, "119.00"), apply(second, "238.00")], actor=clerk
    )

    first.refresh_from_db()
    second.refresh_from_db()
    payment.refresh_from_db()
    assert (first.status, first.open_amount, second.status, second.open_amount) == (
        InvoiceStatus.PAID,
        D("0"),
        InvoiceStatus.PAID,
        D("0"),
    )
    assert (payment.allocated_amount, payment.unallocated_amount) == (D("357.00"), D("43.00"))
    assert list(unallocated_payments(customer=buyer)) == [payment]
    assert customer_exposure(customer=buyer).open_receivables == D("0")


def test_a_partial_payment_leaves_the_invoice_partially_paid(buyer, clerk, invoices):
    payment = pay(buyer, clerk, "100.00")

    services.allocate_payment(payment=payment, applications=[apply(invoices[0], "100.00")], actor=clerk)

    invoices[0].refresh_from_db()
    assert (invoices[0].status, invoices[0].open_amount) == (InvoiceStatus.PARTIALLY_PAID, D("19.00"))


def test_a_short_payment_within_tolerance_is_written_off_and_above_it_refused(buyer, clerk, invoices):
    second = invoices[1]
    payment = pay(buyer, clerk, "345.00")

    with pytest.raises(OverAllocation, match="above the write-off tolerance"):
        services.allocate_payment(payment=payment, applications=[apply(second, "228.00", write_off=True)], actor=clerk)
    services.allocate_payment(payment=payment, applications=[apply(second, "234.00", write_off=True)], actor=clerk)

    second.refresh_from_db()
    allocation = Allocation.objects.get()
    assert (second.status, second.open_amount, allocation.write_off_amount) == (InvoiceStatus.PAID, D("0"), D("4.00"))
    assert postings(entry=allocation.journal_entry) == {
        AccountRole.CUSTOMER_CREDIT: D("234.00"),
        AccountRole.WRITE_OFF: D("4.00"),
        AccountRole.RECEIVABLE: D("-238.00"),
    }


def test_allocations_beyond_the_payment_or_the_open_amount_are_refused_and_change_nothing(buyer, clerk, invoices):
    first, second = invoices
    other = manual_invoice(CustomerFactory(actor=clerk), clerk, ("1", "10", "19"))
    payment = pay(buyer, clerk, "200.00")
    refusals = [
        (OverAllocation, [apply(first, "119.01")]),
        (OverAllocation, [apply(first, "119.00"), apply(second, "81.01")]),
        (InvalidInput, [apply(other, "11.90")]),
        (InvalidInput, [apply(first, "-1")]),
        (InvalidInput, [apply(first, "1.001")]),
        (InvalidInput, []),
    ]
    for error, applications in refusals:
        with pytest.raises(error):
            services.allocate_payment(payment=payment, applications=applications, actor=clerk)

    payment.refresh_from_db()
    first.refresh_from_db()
    assert (payment.allocated_amount, first.open_amount) == (D("0"), D("119.00"))
    assert not Allocation.objects.exists()


def test_undoing_an_allocation_reopens_the_invoice_and_reverses_the_posting(buyer, clerk, invoices):
    payment = pay(buyer, clerk, "119.00")
    (allocation,) = services.allocate_payment(payment=payment, applications=[apply(invoices[0], "119.00")], actor=clerk)

    services.unallocate(allocation=allocation, actor=clerk, reason="belongs to another customer")

    invoices[0].refresh_from_db()
    payment.refresh_from_db()
    assert (invoices[0].status, invoices[0].open_amount, payment.allocated_amount) == (
        InvoiceStatus.ISSUED,
        D("119.00"),
        D("0"),
    )
    assert postings(entry__source=f"payment:{payment.pk}", entry__kind__in=["allocation", "reversal"]) == {
        AccountRole.CUSTOMER_CREDIT: D("0"),
        AccountRole.RECEIVABLE: D("0"),
    }
    with pytest.raises(services.Conflict, match="undone already"):
        services.unallocate(allocation=allocation, actor=clerk, reason="again")


def test_a_payment_with_a_known_external_id_is_not_booked_twice(buyer, clerk):
    pay(buyer, clerk, "50.00", source="provider", external_id="evt_1")

    with pytest.raises(DuplicatePayment):
        pay(buyer, clerk, "50.00", source="provider", external_id="evt_1")

    assert Payment.objects.count() == 1


def test_a_credit_balance_is_refunded_only_after_someone_else_approves(buyer, clerk, refund_approver):
    payment = pay(buyer, clerk, "80.00")
    refund = services.request_refund(payment=payment, amount=D("30.00"), reason="customer asked", actor=clerk)

    with pytest.raises(OverAllocation):
        services.request_refund(payment=payment, amount=D("50.01"), reason="too much", actor=clerk)
    with pytest.raises(PermissionDenied):
        services.decide_refund(refund=refund, actor=clerk, approve=True)
    services.decide_refund(refund=refund, actor=refund_approver, approve=True)

    payment.refresh_from_db()
    refund.refresh_from_db()
    assert (refund.status, payment.refunded_amount, payment.unallocated_amount) == (
        RefundStatus.PAID,
        D("30.00"),
        D("50.00"),
    )
    assert postings(entry=refund.journal_entry) == {
        AccountRole.CUSTOMER_CREDIT: D("30.00"),
        AccountRole.CASH: D("-30.00"),
    }
