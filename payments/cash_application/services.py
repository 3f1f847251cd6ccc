"""Reconciling imported bank statements: every incoming line becomes a payment applied to invoices,
automatically when the matching engine is sure, otherwise by a clerk from the ranked proposals, by
hand (their own choice of invoices, or left on account), or it is ignored with a reason.

A line is applied at most once: the line row is locked and must still be unmatched, and the payment
it books carries the line's id as its external id, which is unique. The payment, its allocations and the
line's state commit together (a clerk's decision line by line, the engine's a batch at a time, see
`booking`), so reconciling a statement can be killed at any point and run again: it carries on with the
lines still unmatched.
"""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from decimal import Decimal
from queue import Empty, SimpleQueue

from django.db import connection, transaction

from customers.models import Customer
from otc.audit import acting
from otc.errors import Conflict, InvalidInput
from otc.models import User
from payments.cash_application.auto_apply import (
    apply_proposal,
    auto_apply_threshold,
    clear_winner,
    lock_unmatched_line,
    mark_line_applied,
    record_bank_payment,
)
from payments.cash_application.booking import Decision, book_decisions
from payments.cash_application.errors import LineAlreadyReconciled
from payments.cash_application.matching import PROPOSAL_LIMIT, Proposal, propose_matches
from payments.cash_application.selectors import bank_line
from payments.models import (
    BankStatement,
    BankStatementLine,
    Payment,
    PaymentSource,
    StatementLineStatus,
)
from payments.money.services import Application, allocate_payment, unallocate

ZERO = Decimal("0")


@dataclass
class Reconciliation:
    applied: list[BankStatementLine] = field(default_factory=list)
    queued: list[BankStatementLine] = field(default_factory=list)
    ignored: list[BankStatementLine] = field(default_factory=list)
    # Each queued line's ranked proposals (by line id), from the one matching pass of the reconciliation.
    proposals: dict[int, list[Proposal]] = field(default_factory=dict)


BOOKING_BATCH = 500  # lines matched and booked per transaction


def reconcile_statement(*, statement: BankStatement, actor: User) -> Reconciliation:
    """Apply what the engine is sure of; outgoing money is not a customer's payment and is set aside.
    Lines are matched and booked `BOOKING_BATCH` at a time (see `reconcile_statement_in_batches`); the
    queued lines keep the proposals of their batch's matching run.

    Each batch commits on its own; run again after a crash, it takes up the lines still unmatched, after
    showing as applied any line whose payment was booked already."""
    return _merged(reconcile_statement_in_batches(statement=statement, actor=actor, batch_size=BOOKING_BATCH))


def reconcile_statement_in_batches(
    *, statement: BankStatement, actor: User, batch_size: int
) -> Iterator[Reconciliation]:
    """reconcile_statement a batch of lines at a time, in statement order, for a caller that reports
    progress: each batch's result is yielded once its lines are committed. The matching engine runs
    once per batch, so a later batch sees the invoices an earlier one paid."""
    for first, last in _unmatched_line_ranges(statement, batch_size):
        if lines := _unmatched_lines(statement, first, last):
            yield _reconcile_lines(lines, actor=actor)


def reconcile_statements_in_batches(
    *, statements: list[BankStatement], actor: User, batch_size: int, workers: int = 1
) -> Iterator[Reconciliation]:
    """reconcile_statement_in_batches for the statements of one file, `workers` batches at a time, each on a
    database connection of its own (a thread): while one waits for the database, another matches. A
    statement's unmatched lines are cut into batches first, so one long statement is shared out too.
    Batches are yielded as they commit, in no set order.

    Batches reconciled at the same time do not see each other's payments before they commit: a line whose
    invoice another batch paid meanwhile is refused under the invoice's lock and queued, never applied
    twice. Invoices are locked in id order, so two batches cannot deadlock. A batch that fails stops its
    thread, the others carry on, and the error is raised once they are done."""
    if workers <= 1:
        for statement in statements:
            yield from reconcile_statement_in_batches(statement=statement, actor=actor, batch_size=batch_size)
        return
    waiting: SimpleQueue[tuple[BankStatement, int, int]] = SimpleQueue()
    for statement in statements:
        for first, last in _unmatched_line_ranges(statement, batch_size):
            waiting.put((statement, first, last))
    committed: SimpleQueue[Reconciliation | None] = SimpleQueue()

    def reconcile_waiting() -> None:
        """Batches off the queue until none is left, on this thread's connection (opened once)."""
        try:
            while True:
                try:
                    statement, first, last = waiting.get_nowait()
                except Empty:
                    return
                if lines := _unmatched_lines(statement, first, last):
                    committed.put(_reconcile_lines(lines, actor=actor))
        finally:
            connection.close()  # this thread's own
            committed.put(None)  # this thread is done, or stopped on an error its future carries

    threads = min(workers, waiting.qsize())
    if not threads:
        return
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="reconcile") as pool:
        futures = [pool.submit(reconcile_waiting) for _ in range(threads)]
        try:
            for _ in futures:
                while (batch := committed.get()) is not None:
                    yield batch
        finally:
            # A caller that stops early (its progress report failed) stops the threads after the batch
            # each is at: the rest stays unmatched for the next run, as after a crash.
            with suppress(Empty):  # a thread may take the last one meanwhile
                while True:
                    waiting.get_nowait()
        for future in futures:
            future.result()


def _unmatched_line_ranges(statement: BankStatement, batch_size: int) -> list[tuple[int, int]]:
    """The statement's unmatched lines as (first, last) line numbers of `batch_size` lines each, after
    showing as applied the lines whose payments a dead run booked."""
    adopt_booked_payments(statement=statement)
    numbers = list(
        statement.lines.filter(status=StatementLineStatus.UNMATCHED)
        .order_by("line_no")
        .values_list("line_no", flat=True)
    )
    return [
        (numbers[start], numbers[min(start + batch_size, len(numbers)) - 1])
        for start in range(0, len(numbers), batch_size)
    ]


def _unmatched_lines(statement: BankStatement, first: int, last: int) -> list[BankStatementLine]:
    """The lines of the range still unmatched (a clerk may have taken some meanwhile), in statement order;
    the payer's IBAN stays encrypted until asked for (matching reads its fingerprint)."""
    lines = statement.lines.filter(status=StatementLineStatus.UNMATCHED, line_no__range=(first, last))
    return list(lines.defer("counterparty_iban").order_by("line_no"))


def _merged(batches: Iterator[Reconciliation]) -> Reconciliation:
    result = Reconciliation()
    for batch in batches:
        result.applied += batch.applied
        result.queued += batch.queued
        result.ignored += batch.ignored
        result.proposals.update(batch.proposals)
    return result


def _reconcile_lines(lines: list[BankStatementLine], *, actor: User) -> Reconciliation:
    """Match the lines in one run and book the clear winners set-based, in one transaction."""
    result = Reconciliation()
    incoming = [line for line in lines if line.amount > ZERO]
    for line in lines:
        if line.amount <= ZERO:
            ignore_line(line=line, actor=actor, reason="Outgoing money: not a customer payment")
            result.ignored.append(line)
    ranked = propose_matches([bank_line(line) for line in incoming], limit=PROPOSAL_LIMIT)
    threshold = auto_apply_threshold()
    decisions = [
        Decision(incoming[index], winner)
        for index, proposals in sorted(ranked.items())
        if (winner := clear_winner(proposals, threshold)) is not None
    ]
    booked = book_decisions(decisions=decisions, actor=actor)
    applied = {booking.line.pk for booking in booked.applied}
    paid = {invoice_id for booking in booked.applied for invoice_id in booking.proposal.invoice_ids}
    for index, line in enumerate(incoming):
        if line.pk in applied:
            result.applied.append(line)
            continue
        result.queued.append(line)
        # A proposal naming an invoice this run just applied money to is stale: reading the line again
        # ranks afresh.
        result.proposals[line.pk] = [
            proposal for proposal in ranked.get(index, []) if paid.isdisjoint(proposal.invoice_ids)
        ]
    return result


def adopt_booked_payments(*, statement: BankStatement) -> int:
    """Show as applied every unmatched line of the statement whose payment exists (booked by a
    reconciliation that died before it could mark the line, in releases that did not commit both
    together): such a line can be neither applied again nor ignored. Returns how many lines it adopted.

    The payments are looked up by their external ids in one query on the unique (source, external id)
    index, which is partial (hence the exclude): a correlated subquery per line was planned as a scan
    of the payments per line while the table's statistics were older than its growth."""
    line_of = {
        f"bank-line:{pk}": pk
        for pk in statement.lines.filter(status=StatementLineStatus.UNMATCHED).values_list("pk", flat=True)
    }
    booked = (
        Payment.objects.filter(source=PaymentSource.BANK_STATEMENT, external_id__any=list(line_of))
        .exclude(external_id="")
        .order_by()
        .values_list("external_id", "pk")
    )
    adopted = [
        BankStatementLine(pk=line_of[external_id], status=StatementLineStatus.APPLIED, payment_id=payment_id)
        for external_id, payment_id in booked
    ]
    BankStatementLine.objects.bulk_update(adopted, ["status", "payment"])
    return len(adopted)


@transaction.atomic
def accept_proposal(*, line: BankStatementLine, proposal: Proposal, actor: User) -> Payment:
    """The clerk's one click: book the line and allocate it as proposed."""
    payment = apply_proposal(line=bank_line(line), proposal=proposal, actor=actor)
    line.status, line.payment = StatementLineStatus.APPLIED, payment
    return payment


@transaction.atomic
def apply_line(*, line: BankStatementLine, customer: Customer, applications: list[Application], actor: User) -> Payment:
    """The clerk's own decision: the line is this customer's payment, for these invoices (split as
    given); with no invoices it stays on the customer's account as credit."""
    line = lock_unmatched_line(line.pk)
    payment = record_bank_payment(line=bank_line(line), customer=customer, actor=actor)
    if applications:
        allocate_payment(payment=payment, applications=applications, actor=actor)
    mark_line_applied(line, payment)
    return payment


@transaction.atomic
def ignore_line(*, line: BankStatementLine, actor: User, reason: str) -> BankStatementLine:
    """Set a line aside (a transfer between own accounts, a refund coming back) with the reason why."""
    if not reason.strip():
        raise InvalidInput("Ignoring a line needs a reason.", fields={"reason": ["This field is required."]})
    line = BankStatementLine.objects.select_for_update().get(pk=line.pk)
    if line.status != StatementLineStatus.UNMATCHED:
        raise LineAlreadyReconciled(f"Line {line.line_no} is {line.get_status_display()}.")
    with acting(actor, f"bank line ignored: {reason.strip()}"):
        line.status = StatementLineStatus.IGNORED
        line.save(update_fields=["status"])
    return line


@transaction.atomic
def undo_line(*, line: BankStatementLine, actor: User, reason: str) -> Payment:
    """Undo what was applied: every live allocation of the line's payment is reversed, so the invoices
    reopen and the money stays on the customer's account, to be allocated again on the payment."""
    line = BankStatementLine.objects.select_for_update().get(pk=line.pk)
    if line.payment is None:
        raise Conflict(f"Line {line.line_no} has no payment to undo.")
    for allocation in line.payment.allocations.filter(reversed_at__isnull=True):
        unallocate(allocation=allocation, actor=actor, reason=reason)
    return line.payment
