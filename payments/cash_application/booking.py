"""Booking what the matching engine is sure of, a reconciliation batch at a time, set-based.

Each line is what `auto_apply.apply_proposal` makes of it alone (the same payment, allocations, ledger
entries, invoice settlement, events and audit trail), but a batch costs a fixed handful of statements
instead of some forty per line, as bulk invoicing does for invoices: payments, allocations and journal
entries with their lines are written with COPY (`otc.bulk_rows`, `ledger.services.post_entries`), the
invoices and statement lines are updated with one statement each.

The batch commits in one transaction, so a crash leaves each of its lines either applied with its
payment or unmatched without one. Inside it the lines still unmatched are locked, then the invoices in
id order; each decision is checked again against the invoices' open amounts as locked (less what the
batch's earlier lines took): a line whose invoice was settled meanwhile is not booked and goes back to
the queue, never applied wrong.
"""

import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from customers.models import Customer
from invoicing.models import Invoice
from invoicing.services import settle_invoices
from ledger.models import EntryKind, ItemKind
from ledger.selectors import item_ids_for_documents
from ledger.services import EntryToPost, account_ids, post_entries
from otc.audit import acting
from otc.bulk_rows import copy_rows, copy_values, next_ids
from otc.errors import DomainError
from otc.events import publish_many
from otc.exchange_rates import rate_on
from otc.models import User
from payments.cash_application.auto_apply import bank_payment_fields
from payments.cash_application.matching import Proposal
from payments.cash_application.selectors import bank_line
from payments.models import Allocation, BankStatementLine, Payment, StatementLineStatus
from payments.money.services import (
    allocation_entry_kind,
    allocation_memo,
    allocation_postings,
    checked_write_off,
    payment_allocated,
    payment_numbers,
    payment_received,
    received_memo,
    received_postings,
)

ZERO = Decimal("0")
# What checking, settling and announcing an application read of a locked invoice: a batch locks
# hundreds, and the rest of their columns cost more to convert than to lock.
LOCKED_INVOICE_FIELDS = (
    "number",
    "kind",
    "status",
    "customer_id",
    "currency",
    "gross_total",
    "credited_amount",
    "open_amount",
)
ALLOCATION_FIELDS = (
    "payment",
    "invoice",
    "amount",
    "write_off_amount",
    "journal_entry",
    "created_by",
    "created_at",
    "reversal_reason",
)
LOCK_LINES_SQL = """
    SELECT id FROM payments_bankstatementline
     WHERE id = ANY(%s) AND status = %s AND amount > 0
     ORDER BY id
       FOR UPDATE
"""
MARK_LINES_SQL = """
    UPDATE payments_bankstatementline AS line
       SET status = %s, applied_automatically = true, payment_id = booked.payment_id,
           match_confidence = booked.confidence, match_reasons = booked.reasons::jsonb
      FROM unnest(%s::bigint[], %s::bigint[], %s::float8[], %s::text[]) AS booked (id, payment_id, confidence, reasons)
     WHERE line.id = booked.id
"""


@dataclass(frozen=True)
class Decision:
    """The matching engine's clear winner for a statement line."""

    line: BankStatementLine
    proposal: Proposal


@dataclass
class Booking:
    """One line's payment and what it applies, before it is written."""

    line: BankStatementLine
    proposal: Proposal
    payment: Payment
    # (invoice, amount, write-off) per allocation, in the proposal's order.
    applications: list[tuple[Invoice, Decimal, Decimal]] = field(default_factory=list)


@dataclass
class Booked:
    applied: list[Booking] = field(default_factory=list)
    # Lines not booked: applied or ignored meanwhile, or their invoices no longer open as proposed.
    refused: list[BankStatementLine] = field(default_factory=list)


def book_decisions(*, decisions: list[Decision], actor: User) -> Booked:
    """Book the decisions' lines as their customers' payments applied as proposed, all in one
    transaction; a line the locked rows no longer allow is refused and the others are booked."""
    booked = Booked()
    if not decisions:
        return booked
    with transaction.atomic(), acting(actor, "cash applied automatically"):
        waiting = _lock_lines([decision.line.pk for decision in decisions])
        invoices = {
            invoice.pk: invoice
            for invoice in Invoice.objects.select_for_update()
            .only(*LOCKED_INVOICE_FIELDS)
            .filter(pk__any=sorted({pk for decision in decisions for pk in decision.proposal.invoice_ids}))
            .order_by("pk")
        }
        open_at_lock = {pk: invoice.open_amount for pk, invoice in invoices.items()}
        for decision in decisions:
            booking = _checked(decision, invoices, actor=actor) if decision.line.pk in waiting else None
            if booking is None:
                booked.refused.append(decision.line)
            else:
                booked.applied.append(booking)
        if booked.applied:
            _write(booked.applied, invoices, open_at_lock, actor=actor)
    for booking in booked.applied:
        booking.line.status, booking.line.payment = StatementLineStatus.APPLIED, booking.payment
        booking.line.applied_automatically = True
        booking.line.match_confidence, booking.line.match_reasons = (
            booking.proposal.confidence,
            list(booking.proposal.reasons),
        )
    return booked


def _lock_lines(line_ids: list[int]) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(LOCK_LINES_SQL, [line_ids, StatementLineStatus.UNMATCHED])
        return {line_id for (line_id,) in cursor.fetchall()}


def _checked(decision: Decision, invoices: dict[int, Invoice], *, actor: User) -> Booking | None:
    """The line's booking when every application is allowed by the invoices as locked (their open amounts
    lowered in memory by what the batch applied before); None, changing nothing, when one is not."""
    line, proposal = decision.line, decision.proposal
    payment = Payment(customer_id=proposal.customer_id, created_by=actor, **bank_payment_fields(bank_line(line)))
    applications, left, last = [], line.amount, len(proposal.invoice_ids) - 1
    try:
        for index, (invoice_id, amount) in enumerate(zip(proposal.invoice_ids, proposal.amounts, strict=True)):
            invoice = invoices[invoice_id]
            written_off = checked_write_off(
                payment, invoice, amount, left, write_off=proposal.write_off and index == last
            )
            applications.append((invoice, amount, written_off))
            left -= amount
    except (DomainError, KeyError):
        return None
    for invoice, amount, written_off in applications:
        invoice.open_amount -= amount + written_off
    payment.allocated_amount = line.amount - left
    return Booking(line=line, proposal=proposal, payment=payment, applications=applications)


def _write(
    bookings: list[Booking], invoices: dict[int, Invoice], open_at_lock: dict[int, Decimal], *, actor: User
) -> None:
    now, today = timezone.now(), timezone.localdate()
    customers = {
        customer.pk: customer
        for customer in Customer.objects.filter(pk__any=sorted({b.payment.customer_id for b in bookings}))
        .only("number", "legal_name")
        .order_by()
    }
    _number_payments([booking.payment for booking in bookings])
    copy_rows(Payment, [booking.payment for booking in bookings], now=now)
    item_ids = item_ids_for_documents(
        kind=ItemKind.INVOICE, document_ids=[invoice.pk for b in bookings for invoice, _, _ in b.applications]
    )
    rates: dict[tuple[str, date], Decimal] = {}

    def rate(currency: str, on: date) -> Decimal:
        if (currency, on) not in rates:
            rates[currency, on] = rate_on(currency, on)
        return rates[currency, on]

    received = [
        EntryToPost(
            kind=EntryKind.PAYMENT,
            posted_on=b.payment.received_on,
            memo=received_memo(b.payment.number, customers[b.payment.customer_id]),
            postings=received_postings(amount=b.payment.amount, bank_fee=ZERO, customer_id=b.payment.customer_id),
            currency=b.payment.currency,
            rate=rate(b.payment.currency, b.payment.received_on),
            source=f"payment:{b.payment.pk}",
        )
        for b in bookings
    ]
    applied = [
        (b.payment, invoice, amount, written_off) for b in bookings for invoice, amount, written_off in b.applications
    ]
    allocating = [
        EntryToPost(
            kind=allocation_entry_kind(amount),
            posted_on=today,
            memo=allocation_memo(payment.number, invoice.number, written_off),
            postings=allocation_postings(
                customer_id=invoice.customer_id, item_id=item_ids[invoice.pk], amount=amount, write_off=written_off
            ),
            currency=invoice.currency,
            rate=rate(invoice.currency, today),
            item_id=item_ids[invoice.pk],
            source=f"payment:{payment.pk}",
        )
        for payment, invoice, amount, written_off in applied
    ]
    entry_ids = post_entries(entries=received + allocating, actor=actor, accounts=account_ids(), now=now)
    copy_values(
        Allocation,
        ALLOCATION_FIELDS,
        [
            (payment.pk, invoice.pk, amount, written_off, entry_id, actor.pk, now, "")
            for (payment, invoice, amount, written_off), entry_id in zip(
                applied, entry_ids[len(received) :], strict=True
            )
        ],
    )
    settled = {invoice: open_at_lock[pk] - invoice.open_amount for pk, invoice in invoices.items()}
    for invoice in settled:
        invoice.open_amount = open_at_lock[invoice.pk]
    settle_invoices(settled={invoice: amount for invoice, amount in settled.items() if amount}, now=now)
    _mark_lines(bookings)
    publish_many(_events(bookings, customers, actor=actor))


def _number_payments(payments: list[Payment]) -> None:
    """Ids and numbers from their sequences (numbers per year of receipt, in the batch's order)."""
    for payment, payment_id in zip(payments, next_ids(Payment, len(payments)), strict=True):
        payment.pk = payment_id
    for year in sorted({payment.received_on.year for payment in payments}):
        of_year = [payment for payment in payments if payment.received_on.year == year]
        for payment, number in zip(of_year, payment_numbers(year, len(of_year)), strict=True):
            payment.number = number


def _mark_lines(bookings: list[Booking]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            MARK_LINES_SQL,
            [
                StatementLineStatus.APPLIED,
                [b.line.pk for b in bookings],
                [b.payment.pk for b in bookings],
                [b.proposal.confidence for b in bookings],
                [json.dumps(list(b.proposal.reasons)) for b in bookings],
            ],
        )


def _events(bookings: list[Booking], customers: dict[int, Customer], *, actor: User) -> list:
    """payment.received and payment.allocated for each payment, as `record_payment` and `allocate_payment`
    publish them."""
    events = []
    for b in bookings:
        customer = customers[b.payment.customer_id]
        events.append(payment_received(b.payment, customer=customer, actor=actor))
        events.append(payment_allocated(b.payment, customer=customer, actor=actor, applied=b.applications))
    return events
