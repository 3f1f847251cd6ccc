"""Reconciliation killed mid-way, in a real process on the real database: every line is applied with
its payment or unmatched without one, and reconciling again finishes the statement without booking a
line twice."""

import os
import signal
import subprocess
import sys
from datetime import date
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from invoicing.models import InvoiceStatus
from payments.cash_application import services as reconciliation
from payments.cash_application.auto_apply import record_bank_payment
from payments.cash_application.selectors import bank_line
from payments.models import Allocation, BankStatement, Payment, StatementLineStatus
from tests import factories
from tests.support.workers import database_url

pytestmark = pytest.mark.django_db(transaction=True)
D = Decimal
LINES = 6
KILLED_AT = 3  # the process dies inside the batch of the third line, its allocations written
BATCH = KILLED_AT - 1  # lines booked per transaction in the killed run: the first batch commits

# Reconciles the statement BATCH lines per transaction and SIGKILLs itself right after writing the
# second batch's allocations, before that batch's transaction commits: no cleanup, no rollback of its
# own, as when the OOM killer or gunicorn's timeout strikes.
KILLING_RECONCILIATION = """
import os, signal, sys
import django
django.setup()
from otc.models import User
from payments.cash_application import booking, services
from payments.models import BankStatement

statement_id, actor_id, batch = map(int, sys.argv[1:4])
services.BOOKING_BATCH = batch
mark, calls = booking._mark_lines, []

def mark_then_die(bookings):
    mark(bookings)
    calls.append(1)
    if len(calls) == 2:
        os.kill(os.getpid(), signal.SIGKILL)

booking._mark_lines = mark_then_die
services.reconcile_statement(statement=BankStatement.objects.get(pk=statement_id), actor=User.objects.get(pk=actor_id))
"""


@pytest.fixture
def cited_statement(clerk, buyer):
    """Six open invoices of 119.00 to 714.00 EUR and a statement of six lines, each paying one by number."""
    invoices = [factories.manual_invoice(buyer, clerk, (str(n), "100", "19")) for n in range(1, LINES + 1)]
    statement = factories.imported_statement(
        clerk,
        (
            {
                "amount": invoice.gross_total,
                "counterparty_name": "Nordwind Handel GmbH",
                "remittance_information": f"Invoice {invoice.number}",
            }
            for invoice in invoices
        ),
        statement_id="2026-12-04",
        booked_on=date(2026, 12, 4),
        filename="crash.csv",
    )
    return statement, invoices


def consistent_lines(statement: BankStatement) -> dict[str, int]:
    """Every line applied with a payment fully allocated to its amount, or unmatched with no payment
    booked under its id at all; counts per state."""
    counts = {"applied": 0, "unmatched": 0}
    for line in statement.lines.order_by("line_no"):
        booked = Payment.objects.filter(external_id=f"bank-line:{line.pk}")
        if line.status == StatementLineStatus.APPLIED:
            assert booked.get() == line.payment, f"line {line.line_no} applied without its own payment"
            assert line.payment.allocated_amount == line.amount, f"line {line.line_no} applied but not allocated"
            counts["applied"] += 1
        else:
            assert line.status == StatementLineStatus.UNMATCHED
            assert not booked.exists(), f"line {line.line_no} shows unmatched with a payment booked"
            counts["unmatched"] += 1
    return counts


def test_a_reconciliation_killed_mid_way_leaves_every_line_consistent_and_resumes(clerk, cited_statement):
    statement, invoices = cited_statement
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "otc.settings.test", "DATABASE_URL": database_url()}
    env.pop("REDIS_URL", None)

    killed = subprocess.run(
        [sys.executable, "-c", KILLING_RECONCILIATION, str(statement.pk), str(clerk.pk), str(BATCH)],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        timeout=120,
    )

    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-2000:]
    assert consistent_lines(statement) == {"applied": KILLED_AT - 1, "unmatched": LINES - KILLED_AT + 1}
    assert Payment.objects.count() == Allocation.objects.count() == KILLED_AT - 1

    resumed = reconciliation.reconcile_statement(statement=statement, actor=clerk)

    assert [line.line_no for line in resumed.applied] == list(range(KILLED_AT, LINES + 1))
    assert consistent_lines(statement) == {"applied": LINES, "unmatched": 0}
    assert Payment.objects.count() == Allocation.objects.count() == LINES
    for invoice in invoices:
        invoice.refresh_from_db()
        assert (invoice.status, invoice.open_amount) == (InvoiceStatus.PAID, D("0"))


def test_a_line_whose_payment_was_booked_shows_as_applied_and_is_not_booked_again(clerk, buyer, cited_statement):
    statement, invoices = cited_statement
    first = statement.lines.get(line_no=1)
    # What a release that committed payment and line apart left behind when killed between the two.
    orphan = record_bank_payment(line=bank_line(first), customer=buyer, actor=clerk)
    first.refresh_from_db()
    assert (first.status, first.payment) == (StatementLineStatus.UNMATCHED, None)

    result = reconciliation.reconcile_statement(statement=statement, actor=clerk)

    first.refresh_from_db()
    assert (first.status, first.payment) == (StatementLineStatus.APPLIED, orphan)
    assert [line.line_no for line in result.applied] == list(range(2, LINES + 1))
    assert Payment.objects.count() == LINES
    assert Payment.objects.filter(external_id=f"bank-line:{first.pk}").count() == 1
    invoices[0].refresh_from_db()
    assert invoices[0].open_amount == D("119.00"), "the adopted payment stays on account for a clerk to allocate"


@pytest.mark.django_db  # reads a plan only: no commits needed
def test_adopting_booked_payments_finds_them_by_their_unique_index(clerk):
    """The adoption runs before every reconciliation: a scan of the payments per line cost 0.6 s per
    1,000 lines at 7,000 payments, and grows with the table. A statement of more than 100 lines, as the
    planner proves a short list of ids non-empty by itself."""
    lines = [{"amount": D("10.00"), "remittance_information": f"line {n}"} for n in range(1, 202)]
    statement = factories.imported_statement(clerk, lines, statement_id="LONG-1", booked_on=date(2026, 3, 2))
    with CaptureQueriesContext(connection) as queries:
        assert reconciliation.adopt_booked_payments(statement=statement) == 0
    (lookup,) = [query["sql"] for query in queries if "payments_payment" in query["sql"]]

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {lookup}")
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "payment_external_id_once" in plan
    assert "Seq Scan" not in plan
