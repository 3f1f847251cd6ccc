"""Reconciling imported bank statements: every incoming line becomes a payment applied to invoices,
automatically when the matching engine is sure, otherwise by a clerk from the ranked proposals, by
hand (their own choice of invoices, or left on account), or it is ignored with a reason.

A line is applied at most once: the line row is locked and must still be unmatched, and the payment
it books carries the line's id as its external id, which is unique.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction

from customers.models import Customer
from otc.audit import acting
from otc.errors import Conflict, InvalidInput
from otc.models import User
from payments.cash_application.auto_apply import apply_proposal, auto_apply, record_bank_payment
from payments.cash_application.errors import LineAlreadyReconciled
from payments.cash_application.matching import PROPOSAL_LIMIT, Proposal
from payments.cash_application.selectors import bank_line
from payments.models import (
    BankStatement,
    BankStatementLine,
    Payment,
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


def reconcile_statement(*, statement: BankStatement, actor: User) -> Reconciliation:
    """Apply what the engine is sure of; outgoing money is not a customer's payment and is set aside.
    The matching engine runs once over the incoming lines: the queued lines keep the proposals of that run."""
    result = Reconciliation()
    lines = list(statement.lines.filter(status=StatementLineStatus.UNMATCHED).order_by("line_no"))
    incoming = [line for line in lines if line.amount > ZERO]
    for line in lines:
        if line.amount <= ZERO:
            ignore_line(line=line, actor=actor, reason="Outgoing money: not a customer payment")
            result.ignored.append(line)
    applied = auto_apply([bank_line(line) for line in incoming], actor=actor, limit=PROPOSAL_LIMIT)
    paid = set()
    for index, payment, proposal in applied.applied:
        _mark_applied(incoming[index], payment, automatically=True)
        result.applied.append(incoming[index])
        paid.update(proposal.invoice_ids)
    for index, proposals in applied.queued:
        result.queued.append(incoming[index])
        # A proposal naming an invoice this run just applied money to is stale: reading the line again
        # ranks afresh.
        result.proposals[incoming[index].pk] = [
            proposal for proposal in proposals if paid.isdisjoint(proposal.invoice_ids)
        ]
    return result


def _locked_unmatched(line: BankStatementLine) -> BankStatementLine:
    line = BankStatementLine.objects.select_for_update().get(pk=line.pk)
    if line.status != StatementLineStatus.UNMATCHED:
        raise LineAlreadyReconciled(f"Line {line.line_no} of {line.statement_id} is {line.get_status_display()}.")
    if line.amount <= ZERO:
        raise InvalidInput("Outgoing money is not a customer's payment.", fields={"line": ["Not incoming."]})
    return line


def _mark_applied(line: BankStatementLine, payment: Payment, *, automatically: bool = False) -> None:
    BankStatementLine.objects.filter(pk=line.pk).update(
        status=StatementLineStatus.APPLIED, payment=payment, applied_automatically=automatically
    )
    payment.refresh_from_db(fields=["allocated_amount"])  # allocating worked on its own locked copy
    line.status, line.payment, line.applied_automatically = StatementLineStatus.APPLIED, payment, automatically


@transaction.atomic
def accept_proposal(*, line: BankStatementLine, proposal: Proposal, actor: User) -> Payment:
    """The clerk's one click: book the line and allocate it as proposed."""
    line = _locked_unmatched(line)
    payment = apply_proposal(line=bank_line(line), proposal=proposal, actor=actor)
    _mark_applied(line, payment)
    return payment


@transaction.atomic
def apply_line(*, line: BankStatementLine, customer: Customer, applications: list[Application], actor: User) -> Payment:
    """The clerk's own decision: the line is this customer's payment, for these invoices (split as
    given); with no invoices it stays on the customer's account as credit."""
    line = _locked_unmatched(line)
    payment = record_bank_payment(line=bank_line(line), customer=customer, actor=actor)
    if applications:
        allocate_payment(payment=payment, applications=applications, actor=actor)
    _mark_applied(line, payment)
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
