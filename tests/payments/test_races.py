"""Two clerks, or two statements of one file, at once on real connections: the invariants hold whatever the
interleaving."""

import threading
from decimal import Decimal

import pytest
from django.utils import timezone

from invoicing.models import InvoiceStatus
from payments.cash_application import services as reconciliation
from payments.models import Allocation, BankStatementLine, Payment, StatementLineStatus
from payments.money import services
from payments.money.errors import OverAllocation
from tests import factories
from tests.factories import apply
from tests.support.races import race

pytestmark = pytest.mark.django_db(transaction=True)
D = Decimal


def test_two_clerks_allocating_one_payment_at_once_cannot_apply_it_twice(buyer, clerk, approver, invoices):
    first, second = invoices
    payment = services.record_payment(
        customer=buyer, amount=D("238.00"), currency="EUR", method="bank_transfer", source="staff", actor=clerk
    )

    results = race(
        lambda: services.allocate_payment(payment=payment, applications=[apply(second, "238.00")], actor=clerk),
        lambda: services.allocate_payment(payment=payment, applications=[apply(first, "119.00")], actor=approver),
    )

    payment.refresh_from_db()
    assert sum(isinstance(result, OverAllocation) for result in results) == 1
    assert payment.allocated_amount in {D("238.00"), D("119.00")}
    assert Allocation.objects.count() == 1


def test_two_payments_racing_for_one_invoice_never_take_it_below_zero(buyer, clerk, approver, invoices):
    first = invoices[0]
    payments = [
        services.record_payment(
            customer=buyer, amount=D("119.00"), currency="EUR", method="bank_transfer", source="staff", actor=clerk
        )
        for _ in range(2)
    ]

    results = race(
        *[
            lambda payment=payment, actor=actor: services.allocate_payment(
                payment=payment, applications=[apply(first, "119.00")], actor=actor
            )
            for payment, actor in zip(payments, [clerk, approver], strict=True)
        ]
    )

    first.refresh_from_db()
    assert first.open_amount == D("0")
    assert sum(isinstance(result, OverAllocation) for result in results) == 1
    assert sum(p.allocated_amount for p in Payment.objects.all()) == D("119.00")


def statement_of(clerk, statement_id: str, *rows: tuple[Decimal, str]):
    """An imported statement of lines (amount, remittance) from the buyer."""
    return factories.imported_statement(
        clerk,
        (
            {"amount": amount, "counterparty_name": "Nordwind Handel GmbH", "remittance_information": text}
            for amount, text in rows
        ),
        statement_id=statement_id,
        booked_on=timezone.localdate(),
        filename=f"{statement_id}.csv",
    )


def reconciled_at_once(statements, clerk, *, batch_size: int = 500) -> dict[str, list]:
    """The lines applied, queued and ignored of the statements reconciled two batches at a time."""
    batches = list(
        reconciliation.reconcile_statements_in_batches(
            statements=statements, actor=clerk, batch_size=batch_size, workers=2
        )
    )
    return {
        kind: [line for batch in batches for line in getattr(batch, kind)] for kind in ("applied", "queued", "ignored")
    }


def test_the_statements_of_a_file_are_reconciled_at_once_on_connections_of_their_own(
    buyer, clerk, invoices, monkeypatch
):
    first, second = invoices
    statements = [
        statement_of(clerk, "S1", (D("119.00"), f"Invoice {first.number}"), (D("-5.00"), "fee")),
        statement_of(clerk, "S2", (D("238.00"), f"Invoice {second.number}"), (D("12.34"), "who knows")),
    ]
    reconcile_lines = reconciliation._reconcile_lines
    threads = set()

    def recording_thread(lines, **kwargs):
        threads.add(threading.current_thread().name)
        return reconcile_lines(lines, **kwargs)

    monkeypatch.setattr(reconciliation, "_reconcile_lines", recording_thread)

    result = reconciled_at_once(statements, clerk)

    assert len(threads) == 2  # one per statement, neither the caller's
    assert all(name.startswith("reconcile") for name in threads)
    assert sorted(line.statement.statement_id for line in result["applied"]) == ["S1", "S2"]
    assert [line.amount for line in result["queued"]] == [D("12.34")]
    assert [line.amount for line in result["ignored"]] == [D("-5.00")]
    for invoice in invoices:
        invoice.refresh_from_db()
        assert (invoice.status, invoice.open_amount) == (InvoiceStatus.PAID, D("0"))
    assert BankStatementLine.objects.filter(status=StatementLineStatus.UNMATCHED).count() == 1


def test_one_long_statement_is_cut_into_batches_that_the_threads_share(buyer, clerk, invoices, monkeypatch):
    first, second = invoices
    statement = statement_of(
        clerk,
        "S1",
        (D("119.00"), f"Invoice {first.number}"),
        (D("-5.00"), "fee"),
        (D("238.00"), f"Invoice {second.number}"),
        (D("12.34"), "who knows"),
    )
    reconcile_lines = reconciliation._reconcile_lines
    batches = []

    def recording_batch(lines, **kwargs):
        batches.append((threading.current_thread().name, [line.line_no for line in lines]))
        return reconcile_lines(lines, **kwargs)

    monkeypatch.setattr(reconciliation, "_reconcile_lines", recording_batch)

    result = reconciled_at_once([statement], clerk, batch_size=2)

    assert sorted(numbers for _, numbers in batches) == [[1, 2], [3, 4]]
    assert len({thread for thread, _ in batches}) == 2
    assert sorted(line.line_no for line in result["applied"]) == [1, 3]
    assert ([line.line_no for line in result["queued"]], [line.line_no for line in result["ignored"]]) == ([4], [2])


def test_a_caller_that_stops_early_stops_the_threads_after_their_batch_and_the_rest_waits(buyer, clerk):
    invoices = [factories.manual_invoice(buyer, clerk, ("1", "100", "19")) for _ in range(12)]
    statement = statement_of(clerk, "S1", *[(D("119.00"), f"Invoice {invoice.number}") for invoice in invoices])
    batches = reconciliation.reconcile_statements_in_batches(
        statements=[statement], actor=clerk, batch_size=1, workers=2
    )

    first = next(batches)
    batches.close()  # as when reporting the progress fails

    assert len(first.applied) == 1
    lines = BankStatementLine.objects.filter(statement=statement)
    applied = lines.filter(status=StatementLineStatus.APPLIED).count()
    assert 1 <= applied <= 8  # the first batch and the few the threads were at: never all twelve
    assert lines.filter(status=StatementLineStatus.UNMATCHED).count() == 12 - applied
    assert Payment.objects.count() == applied


def test_an_invoice_paid_in_two_statements_reconciled_at_once_is_applied_once_and_the_other_line_waits(
    buyer, clerk, invoices
):
    first = invoices[0]
    statements = [statement_of(clerk, f"S{n}", (D("119.00"), f"Invoice {first.number}")) for n in (1, 2)]

    result = reconciled_at_once(statements, clerk)

    first.refresh_from_db()
    assert (len(result["applied"]), len(result["queued"])) == (1, 1)
    assert (first.open_amount, Allocation.objects.filter(invoice=first).count()) == (D("0"), 1)
    assert Payment.objects.count() == 1


def test_a_statement_that_fails_stops_the_run_with_its_error_and_the_other_statement_is_reconciled(
    buyer, clerk, invoices, monkeypatch
):
    first, second = invoices
    failing = statement_of(clerk, "S1", (D("119.00"), f"Invoice {first.number}"))
    other = statement_of(clerk, "S2", (D("238.00"), f"Invoice {second.number}"))
    reconcile_lines = reconciliation._reconcile_lines

    def failing_on_the_first(lines, **kwargs):
        if lines[0].statement_id == failing.pk:
            raise RuntimeError("database went away")
        return reconcile_lines(lines, **kwargs)

    monkeypatch.setattr(reconciliation, "_reconcile_lines", failing_on_the_first)

    with pytest.raises(RuntimeError, match="database went away"):
        reconciled_at_once([failing, other], clerk)

    assert list(BankStatementLine.objects.filter(statement=other).values_list("status", flat=True)) == ["applied"]
    assert BankStatementLine.objects.get(statement=failing).status == StatementLineStatus.UNMATCHED
