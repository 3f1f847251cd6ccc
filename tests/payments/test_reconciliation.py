from decimal import Decimal

import pytest

from invoicing.models import InvoiceStatus
from payments.cash_application import services as reconciliation
from payments.cash_application.errors import LineAlreadyReconciled
from payments.cash_application.selectors import line_proposals
from payments.models import Payment, StatementLineStatus
from tests.factories import apply

pytestmark = pytest.mark.django_db
D = Decimal


def line(statement, number):
    return statement.lines.get(line_no=number)


def test_a_statement_applies_what_is_certain_queues_the_rest_and_sets_outgoing_money_aside(clerk, statement, invoices):
    result = reconciliation.reconcile_statement(statement=statement, actor=clerk)

    assert [row.line_no for row in result.applied] == [1]
    assert [row.line_no for row in result.queued] == [2, 4]
    assert [row.line_no for row in result.ignored] == [3]
    applied = line(statement, 1)
    invoices[0].refresh_from_db()
    assert (applied.status, applied.payment.amount, invoices[0].status) == (
        StatementLineStatus.APPLIED,
        D("119.00"),
        InvoiceStatus.PAID,
    )
    assert reconciliation.reconcile_statement(statement=statement, actor=clerk).applied == []


def test_a_clerk_accepts_a_proposal_once(clerk, statement, invoices):
    queued = line(statement, 2)
    proposals = line_proposals(line=queued)
    assert proposals, "the payer's name and the amount point at the second invoice"
    assert any("amount" in reason for reason in proposals[0].reasons)

    payment = reconciliation.accept_proposal(line=queued, proposal=proposals[0], actor=clerk)

    invoices[1].refresh_from_db()
    assert (payment.amount, invoices[1].open_amount) == (D("238.00"), D("0"))
    with pytest.raises(LineAlreadyReconciled):
        reconciliation.accept_proposal(line=queued, proposal=proposals[0], actor=clerk)
    assert Payment.objects.count() == 1


def test_a_clerk_splits_a_line_by_hand_ignores_another_and_can_undo(clerk, buyer, statement, invoices):
    first, second = invoices
    split = reconciliation.apply_line(
        line=line(statement, 4),
        customer=buyer,
        applications=[apply(first, "60.00"), apply(second, "40.00")],
        actor=clerk,
    )
    reconciliation.ignore_line(line=line(statement, 2), actor=clerk, reason="Paid twice by mistake; refund agreed")

    first.refresh_from_db()
    assert (first.open_amount, split.allocated_amount) == (D("59.00"), D("100.00"))
    assert line(statement, 2).status == StatementLineStatus.IGNORED

    reconciliation.undo_line(line=line(statement, 4), actor=clerk, reason="wrong invoices")

    first.refresh_from_db()
    split.refresh_from_db()
    assert (first.open_amount, split.unallocated_amount) == (D("119.00"), D("100.00"))
