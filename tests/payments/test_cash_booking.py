"""Set-based booking of a reconciliation batch: the same rows, to the cent, as booking line by line,
in a number of statements that does not grow with the batch; a line whose invoice was settled
meanwhile is refused and left waiting, with nothing booked for it."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from invoicing.models import InvoiceStatus
from ledger.models import AccountRole, EntryKind, JournalEntry, JournalLine
from payments.cash_application import services as reconciliation
from payments.cash_application.booking import Decision, book_decisions
from payments.cash_application.matching import Proposal
from payments.models import Allocation, Payment, StatementLineStatus
from tests import factories
from workflows.models import OutboxEvent

pytestmark = pytest.mark.django_db
D = Decimal


def statement_paying(clerk, invoices, amounts=None):
    """A statement with one line per invoice, citing its number, of `amounts` (the gross totals by default)."""
    amounts = amounts or [invoice.gross_total for invoice in invoices]
    return factories.imported_statement(
        clerk,
        (
            {
                "amount": amount,
                "counterparty_name": "Nordwind Handel GmbH",
                "remittance_information": f"Invoice {invoice.number}",
            }
            for invoice, amount in zip(invoices, amounts, strict=True)
        ),
        statement_id=f"booking-{invoices[0].pk}",
        booked_on=date(2026, 12, 4),
        filename="booking.csv",
    )


def decisions_for(statement, invoices):
    """Each line's proposal to pay its invoice in full, as the engine's clear winner."""
    return [
        Decision(
            line,
            Proposal(
                customer_id=invoice.customer_id,
                invoice_ids=(invoice.pk,),
                amounts=(invoice.gross_total,),
                confidence=0.95,
                reasons=("invoice number cited",),
                difference=D("0"),
                write_off=False,
            ),
        )
        for line, invoice in zip(statement.lines.order_by("line_no"), invoices, strict=True)
    ]


def test_a_batch_books_payments_allocations_entries_and_events_to_the_cent(clerk, buyer):
    invoices = [factories.manual_invoice(buyer, clerk, ("1", amount, "19")) for amount in ("100.00", "33.33", "0.10")]
    statement = statement_paying(clerk, invoices)
    events_before = OutboxEvent.objects.count()

    result = reconciliation.reconcile_statement(statement=statement, actor=clerk)

    assert [line.line_no for line in result.applied] == [1, 2, 3]
    for line, invoice in zip(statement.lines.order_by("line_no"), invoices, strict=True):
        invoice.refresh_from_db()
        payment = line.payment
        assert (line.status, line.applied_automatically) == (StatementLineStatus.APPLIED, True)
        assert line.match_confidence >= 0.9, "the decision keeps its confidence"
        assert line.match_reasons, "and its reasons"
        assert (payment.amount, payment.allocated_amount, payment.external_id) == (
            invoice.gross_total,
            invoice.gross_total,
            f"bank-line:{line.pk}",
        )
        assert (invoice.open_amount, invoice.status) == (D("0.00"), InvoiceStatus.PAID)
        allocation = Allocation.objects.get(payment=payment)
        assert (allocation.invoice_id, allocation.amount, allocation.write_off_amount) == (
            invoice.pk,
            invoice.gross_total,
            0,
        )
        entries = JournalEntry.objects.filter(source=f"payment:{payment.pk}")
        assert sorted(entries.values_list("kind", flat=True)) == sorted([EntryKind.PAYMENT, EntryKind.ALLOCATION])
        receivable = JournalLine.objects.filter(entry=allocation.journal_entry, account__role=AccountRole.RECEIVABLE)
        assert receivable.get().amount == -invoice.gross_total
    assert [D("119.00"), D("39.66"), D("0.12")] == [invoice.gross_total for invoice in invoices]
    for entry_id in JournalEntry.objects.values_list("pk", flat=True):
        assert JournalLine.objects.filter(entry_id=entry_id).aggregate(total=Sum("amount"))["total"] == 0
    events = OutboxEvent.objects.order_by("pk")[events_before:]
    assert sorted(event.event_type for event in events) == ["payment.allocated"] * 3 + ["payment.received"] * 3
    received = {
        event.payload["payment_id"]: event.payload for event in events if event.event_type == "payment.received"
    }
    assert sorted(received) == sorted(Payment.objects.values_list("pk", flat=True))


def test_a_line_whose_invoice_was_settled_meanwhile_is_refused_and_books_nothing(clerk, buyer):
    invoices = [factories.manual_invoice(buyer, clerk, ("1", "100.00", "19")) for _ in range(3)]
    statement = statement_paying(clerk, invoices)
    decisions = decisions_for(statement, invoices)
    paid_by_clerk = reconciliation.apply_line(  # the invoice of the second line, paid from another line
        line=statement.lines.get(line_no=3),
        customer=buyer,
        applications=[factories.apply(invoices[1], "119.00")],
        actor=clerk,
    )

    booked = book_decisions(decisions=decisions[:2], actor=clerk)

    assert [b.line.line_no for b in booked.applied] == [1]
    assert [line.line_no for line in booked.refused] == [2]
    second = statement.lines.get(line_no=2)
    assert (second.status, second.payment) == (StatementLineStatus.UNMATCHED, None)
    assert not Payment.objects.filter(external_id=f"bank-line:{second.pk}").exists()
    assert Allocation.objects.filter(invoice=invoices[1]).get().payment == paid_by_clerk
    invoices[1].refresh_from_db()
    assert invoices[1].open_amount == D("0.00"), "never below zero, never applied twice"
    # A line applied meanwhile (the third, by the clerk) is refused as well.
    assert [line.line_no for line in book_decisions(decisions=decisions[2:], actor=clerk).refused] == [3]


def test_two_decisions_for_one_invoice_book_the_first_and_refuse_the_second(clerk, buyer):
    invoice = factories.manual_invoice(buyer, clerk, ("1", "100.00", "19"))
    statement = statement_paying(clerk, [invoice, invoice])

    booked = book_decisions(decisions=decisions_for(statement, [invoice, invoice]), actor=clerk)

    assert ([b.line.line_no for b in booked.applied], [line.line_no for line in booked.refused]) == ([1], [2])
    assert Payment.objects.count() == Allocation.objects.count() == 1


def test_the_statements_a_batch_costs_do_not_grow_with_its_size(clerk, buyer):
    invoices = [factories.manual_invoice(buyer, clerk, ("1", "100.00", "19")) for _ in range(12)]
    statement = statement_paying(clerk, invoices)
    decisions = decisions_for(statement, invoices)
    counts = []
    for batch in (decisions[:2], decisions[2:12]):
        with CaptureQueriesContext(connection) as queries:
            booked = book_decisions(decisions=batch, actor=clerk)
        assert len(booked.applied) == len(batch)
        counts.append(len(queries))

    assert counts[0] == counts[1]
    assert counts[1] <= 25
