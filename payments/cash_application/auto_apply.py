"""Write side of cash application for one line: book a bank line as a payment and allocate it as
proposed (a clerk accepting a proposal), and the rule for what the matching engine may apply on its
own. A statement's lines are booked together, set-based: `payments.cash_application.booking`.

A statement line's payment, its allocations and the line's new state commit in one transaction, line
by line: a reconciliation killed at any point leaves each line either applied with its payment or
unmatched without one, and running it again carries on with the unmatched lines.

Undoing an applied line is undoing its allocations: `payments.money.services.unallocate` per allocation
reverses the postings and reopens the invoices; the payment stays as the customer's credit.
"""

from decimal import Decimal

from django.conf import settings
from django.db import transaction

from customers.models import Customer
from invoicing.models import Invoice
from otc.errors import InvalidInput
from otc.models import User
from payments.cash_application.errors import LineAlreadyReconciled
from payments.cash_application.matching import BankLine, Proposal
from payments.models import BankStatementLine, Payment, PaymentMethod, PaymentSource, StatementLineStatus
from payments.money.services import Application, allocate_payment, record_payment

CLEAR_LEAD = 0.1  # how far the best proposal must be ahead of the runner-up to apply on its own


def auto_apply_threshold() -> float:
    return settings.OTC_AUTO_APPLY_CONFIDENCE


def clear_winner(proposals: list[Proposal], threshold: float) -> Proposal | None:
    """The best proposal when it is confident enough and clearly ahead of the next; else a clerk decides."""
    if not proposals or proposals[0].confidence < threshold:
        return None
    if len(proposals) > 1 and proposals[0].confidence - proposals[1].confidence < CLEAR_LEAD - 1e-9:
        return None
    return proposals[0]


def bank_payment_fields(line: BankLine) -> dict:
    """The payment a bank line is booked as; the line's id as external id books it once only."""
    return {
        "amount": line.amount,
        "currency": line.currency,
        "method": PaymentMethod.BANK_TRANSFER,
        "source": PaymentSource.BANK_STATEMENT,
        "received_on": line.booking_date,
        "external_id": f"bank-line:{line.line_id}" if line.line_id is not None else "",
        "reference": (line.remittance or line.structured_reference).strip()[:300],
        "payer_name": line.payer_name.strip()[:200],
    }


def record_bank_payment(*, line: BankLine, customer: Customer, actor: User) -> Payment:
    """The bank line as the customer's payment."""
    return record_payment(customer=customer, actor=actor, **bank_payment_fields(line))


def lock_unmatched_line(line_id: int) -> BankStatementLine:
    """The statement line, locked (call inside a transaction), when it is still an incoming line waiting
    to be applied; LineAlreadyReconciled when it was applied or ignored meanwhile."""
    line = BankStatementLine.objects.select_for_update().get(pk=line_id)
    if line.status != StatementLineStatus.UNMATCHED:
        raise LineAlreadyReconciled(f"Line {line.line_no} of {line.statement_id} is {line.get_status_display()}.")
    if line.amount <= Decimal("0"):
        raise InvalidInput("Outgoing money is not a customer's payment.", fields={"line": ["Not incoming."]})
    return line


def mark_line_applied(line: BankStatementLine, payment: Payment, *, automatically: bool = False) -> None:
    """Link the locked line to its payment, in the transaction that booked it."""
    BankStatementLine.objects.filter(pk=line.pk).update(
        status=StatementLineStatus.APPLIED, payment=payment, applied_automatically=automatically
    )
    payment.refresh_from_db(fields=["allocated_amount"])  # allocating worked on its own locked copy
    line.status, line.payment, line.applied_automatically = StatementLineStatus.APPLIED, payment, automatically


@transaction.atomic
def apply_proposal(*, line: BankLine, proposal: Proposal, actor: User, automatically: bool = False) -> Payment:
    """Record the line as the customer's payment and allocate it to the proposed invoices, writing off
    the short rest of the last one when the proposal says so; a statement line (one with a `line_id`)
    is marked applied in the same transaction. All or nothing.

    Undo with `payments.money.services.unallocate` on each of the payment's allocations.
    """
    statement_line = lock_unmatched_line(line.line_id) if line.line_id is not None else None
    payment = record_bank_payment(line=line, customer=Customer.objects.get(pk=proposal.customer_id), actor=actor)
    invoices = Invoice.objects.in_bulk(proposal.invoice_ids)
    last = len(proposal.invoice_ids) - 1
    allocate_payment(
        payment=payment,
        applications=[
            Application(invoices[invoice_id], amount, write_off=proposal.write_off and index == last)
            for index, (invoice_id, amount) in enumerate(zip(proposal.invoice_ids, proposal.amounts, strict=True))
        ],
        actor=actor,
    )
    if statement_line is not None:
        mark_line_applied(statement_line, payment, automatically=automatically)
    return payment
