"""A random walk through receivables on real PostgreSQL: invoices issued, credited in part or in full,
payments received, allocated, undone, refunded and short rests written off, each through the real
services; after every step the ledger's invariants hold and agree with a model kept beside it.

Each example runs in a savepoint rolled back at its end, so examples never see each other's rows.
Derandomized: CI walks the same paths every run.
"""

from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from invoicing import services as invoicing
from invoicing.models import DocumentKind, Invoice
from ledger.models import AccountRole, JournalLine
from ledger.selectors import receivable_balances
from otc.errors import DomainError
from payments.models import Allocation, Payment, Refund
from payments.money import services as money
from payments.money.services import Application, write_off_tolerance
from tests.factories import CustomerFactory, manual_invoice, pay
from workflows.verification import ledger_problems

pytestmark = pytest.mark.django_db
ZERO, CENT = Decimal("0"), Decimal("0.01")
RATES = ("0", "7", "19")
lines = st.lists(st.tuples(st.integers(1, 4), st.integers(1, 50_000), st.sampled_from(RATES)), min_size=1, max_size=3)
share = st.integers(1, 1000)  # per mille of what is available
pick = st.integers(0, 10_000)  # which one, modulo how many there are


def part(amount: Decimal, per_mille: int) -> Decimal:
    """`per_mille` of `amount`, to the cent, at least a cent."""
    return max(CENT, (amount * per_mille / 1000).quantize(CENT))


class Receivables(RuleBasedStateMachine):
    """Two customers, so that nothing of one leaks into the other's balance."""

    clerk = approver = customers = None  # set by the test from its fixtures

    def __init__(self) -> None:
        super().__init__()
        self.savepoint = transaction.atomic()
        self.savepoint.__enter__()
        self.invoices: list[int] = []
        self.payments: list[int] = []
        self.expected_open: dict[int, Decimal] = {}  # the model: what each invoice should have open

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self.savepoint.__exit__(None, None, None)

    # --- what people do ------------------------------------------------------------------------------

    @rule(customer=st.integers(0, 1), lines=lines)
    def issue_invoice(self, customer: int, lines: list[tuple[int, int, str]]) -> None:
        invoice = manual_invoice(
            self.customers[customer],
            self.clerk,
            *[(str(quantity), str(Decimal(cents) / 100), rate) for quantity, cents, rate in lines],
        )
        self.invoices.append(invoice.pk)
        self.expected_open[invoice.pk] = invoice.gross_total

    @precondition(lambda self: self.invoices)
    @rule(which=pick, full=st.booleans(), per_mille=share)
    def credit_invoice(self, which: int, full: bool, per_mille: int) -> None:
        invoice = self._invoice(which)
        if full:
            credit_lines = None
        else:
            line = invoice.lines.order_by("line_no").first()
            credit_lines = [invoicing.CreditLine(line, net_amount=part(line.net_amount, per_mille))]
        note = self._may_refuse(
            lambda: invoicing.issue_credit_note(
                invoice=invoice, actor=self.clerk, reason="Goodwill", lines=credit_lines
            )
        )
        if note is not None:
            self.expected_open[invoice.pk] -= min(note.gross_total, self.expected_open[invoice.pk])

    @rule(customer=st.integers(0, 1), cents=st.integers(1, 200_000))
    def receive_payment(self, customer: int, cents: int) -> None:
        self.payments.append(pay(self.customers[customer], self.clerk, str(Decimal(cents) / 100)).pk)

    @precondition(lambda self: self.invoices and self.payments)
    @rule(which_payment=pick, which_invoice=pick, per_mille=share, write_off=st.booleans())
    def allocate(self, which_payment: int, which_invoice: int, per_mille: int, write_off: bool) -> None:
        """Mostly within what is open and left; sometimes beyond it, which must be refused unchanged."""
        payment, invoice = self._payment(which_payment), self._invoice(which_invoice)
        amount = part(max(invoice.open_amount, CENT), per_mille) + (CENT if per_mille > 990 else ZERO)
        allocation = self._may_refuse(
            lambda: money.allocate_payment(
                payment=payment, applications=[Application(invoice, amount, write_off=write_off)], actor=self.clerk
            )
        )
        if allocation is not None:
            self.expected_open[invoice.pk] -= allocation[0].amount + allocation[0].write_off_amount

    @precondition(lambda self: self.invoices and self.payments)
    @rule(which_payment=pick, which_invoice=pick)
    def write_off_the_rest(self, which_payment: int, which_invoice: int) -> None:
        """Close a short rest without money: refused above the tolerance or for another's payment."""
        payment, invoice = self._payment(which_payment), self._invoice(which_invoice)
        allocation = self._may_refuse(
            lambda: money.allocate_payment(
                payment=payment, applications=[Application(invoice, ZERO, write_off=True)], actor=self.clerk
            )
        )
        if allocation is not None:
            assert ZERO < allocation[0].write_off_amount <= write_off_tolerance(invoice.currency)
            self.expected_open[invoice.pk] = ZERO

    @precondition(lambda self: self.payments)
    @rule(which=pick)
    def unallocate(self, which: int) -> None:
        live = list(Allocation.objects.filter(payment_id__in=self.payments, reversed_at=None).order_by("pk"))
        if not live:
            return
        allocation = live[which % len(live)]
        money.unallocate(allocation=allocation, actor=self.clerk, reason="Applied to the wrong invoice")
        self.expected_open[allocation.invoice_id] += allocation.amount + allocation.write_off_amount

    @precondition(lambda self: self.payments)
    @rule(which=pick, per_mille=share)
    def refund(self, which: int, per_mille: int) -> None:
        """Pay back part of what a payment has left (asked by the clerk, approved by another)."""
        payment = self._payment(which)
        amount = part(max(payment.unallocated_amount, CENT), per_mille)
        request = self._may_refuse(
            lambda: money.request_refund(payment=payment, amount=amount, reason="Paid twice", actor=self.clerk)
        )
        if request is not None:
            money.decide_refund(refund=request, actor=self.approver, approve=True)

    # --- what must hold after every step -------------------------------------------------------------

    @invariant()
    def the_ledger_verifies(self) -> None:
        """Trial balance zero, entries balanced, open amounts and unapplied payments equal the ledger."""
        assert ledger_problems() == []

    @invariant()
    def invoices_are_open_as_the_model_says_within_their_total(self) -> None:
        for invoice in Invoice.objects.filter(pk__in=self.invoices):
            assert invoice.open_amount == self.expected_open[invoice.pk], invoice.number
            assert ZERO <= invoice.open_amount <= invoice.gross_total
            assert invoice.credited_amount <= invoice.gross_total

    @invariant()
    def each_customers_balance_is_open_invoices_less_unused_credit(self) -> None:
        for customer in self.customers:
            documents = Invoice.objects.filter(customer=customer).exclude(status="draft")
            owed = documents.filter(kind=DocumentKind.INVOICE).aggregate(total=Sum("open_amount"))["total"] or ZERO
            credit = documents.filter(kind=DocumentKind.CREDIT_NOTE).aggregate(t=Sum("open_amount"))["t"] or ZERO
            assert receivable_balances(customer=customer).get("EUR", ZERO) == owed - credit
            unapplied = sum((p.unallocated_amount for p in Payment.objects.filter(customer=customer)), ZERO)
            on_account = JournalLine.objects.filter(customer=customer, account__role=AccountRole.CUSTOMER_CREDIT)
            assert -(on_account.aggregate(total=Sum("amount"))["total"] or ZERO) == unapplied

    @invariant()
    def payments_never_apply_or_refund_more_than_they_brought(self) -> None:
        for payment in Payment.objects.filter(pk__in=self.payments):
            live = payment.allocations.filter(reversed_at=None).aggregate(total=Sum("amount"))["total"] or ZERO
            refunded = payment.refunds.filter(status="paid").aggregate(total=Sum("amount"))["total"] or ZERO
            assert (payment.allocated_amount, payment.refunded_amount) == (live, refunded)
            assert ZERO <= payment.unallocated_amount <= payment.amount

    # --- the machinery -------------------------------------------------------------------------------

    def _invoice(self, which: int) -> Invoice:
        return Invoice.objects.get(pk=self.invoices[which % len(self.invoices)])

    def _payment(self, which: int) -> Payment:
        return Payment.objects.get(pk=self.payments[which % len(self.payments)])

    def _may_refuse(self, action):
        """Run the action; a domain refusal is a fine outcome but must leave every figure as it was."""
        before = self._figures()
        try:
            return action()
        except DomainError:
            assert self._figures() == before
            return None

    def _figures(self) -> tuple:
        return (
            JournalLine.objects.count(),
            Allocation.objects.count(),
            Refund.objects.count(),
            Invoice.objects.count(),
            list(Invoice.objects.order_by("pk").values_list("open_amount", "credited_amount", "status")),
            list(Payment.objects.order_by("pk").values_list("allocated_amount", "refunded_amount")),
        )


def test_receivables_keep_the_ledgers_invariants_whatever_people_do(clerk, refund_approver):
    Receivables.clerk, Receivables.approver = clerk, refund_approver
    Receivables.customers = [
        CustomerFactory(actor=clerk, legal_name="Nordwind Handel GmbH"),
        CustomerFactory(actor=clerk, legal_name="Südwind Import AG"),
    ]
    run_state_machine_as_test(
        Receivables,
        settings=settings(
            max_examples=8,
            stateful_step_count=12,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
