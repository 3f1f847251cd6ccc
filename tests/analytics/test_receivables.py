"""Every receivables figure against the hand-computed book in conftest.py (company currency EUR)."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from analytics.errors import InvalidAgingBuckets, InvalidPeriod, UnknownGrouping
from analytics.selectors import receivables as reports
from analytics.selectors.receivables import Period
from payments.cash_application import services as reconciliation
from payments.cash_application.selectors import line_proposals
from payments.collections import services as collections
from payments.models.collections import DunningLevel, DunningPolicy, LetterTemplate
from tests.factories import settle

pytestmark = pytest.mark.django_db
D = Decimal
Q1 = Period(date(2026, 1, 1), date(2026, 3, 31))
Q2 = Period(date(2026, 4, 1), date(2026, 6, 30))


def buckets(row) -> tuple:
    return (*row.buckets.values(), row.unapplied_credit, row.total)


def test_aging_as_of_a_past_date_ignores_the_payments_made_after_it(book):
    rows = reports.aging_report(on=date(2026, 3, 31))

    # current, 1-30, 31-60, 61-90, 90+, unapplied credit, total
    assert [(row.label.split(" ", 1)[1], row.currency, buckets(row)) for row in rows] == [
        ("Bora SARL", "EUR", (D("2000.00"), 0, D("800.00"), 0, D("400.00"), 0, D("3200.00"))),
        ("Alba Bau GmbH", "EUR", (D("300.00"), D("300.00"), 0, 0, 0, 0, D("600.00"))),
    ]


def test_aging_today_shows_the_later_payment(book):
    rows = reports.aging_report(on=date(2026, 4, 30), group_by="country")

    assert [(row.key, buckets(row)) for row in rows] == [
        ("FR", (0, 0, 0, D("800.00"), D("400.00"), 0, D("1200.00"))),
        ("DE", (0, D("300.00"), D("300.00"), 0, 0, 0, D("600.00"))),
    ]


def test_aging_buckets_are_configurable_and_group_by_sales_rep_in_company_currency(book):
    rows = reports.aging_report(on=date(2026, 3, 31), group_by="sales_rep", bounds=[45], in_company_currency=True)

    assert list(rows[0].buckets) == ["current", "1-45", "45+"]
    assert [(row.label, buckets(row)) for row in rows] == [
        ("No sales rep", (D("2000.00"), 0, D("1200.00"), 0, D("3200.00"))),
        ("Rita Rep", (D("300.00"), D("300.00"), 0, 0, D("600.00"))),
    ]


def test_the_documents_behind_an_aging_bucket(book):
    on = date(2026, 3, 31)
    bucket = reports.aging_buckets()[2]  # 31-60

    items = list(reports.aging_items(on=on, bucket=bucket))

    assert bucket.name == "31-60"
    assert [(item.document_id, item.open_amount) for item in items] == [(book.invoices["I4"].pk, D("800.00"))]


@pytest.mark.parametrize("bounds", [[], [30, 30], [60, 30], [0], [1.5]])
def test_aging_refuses_buckets_that_do_not_increase(bounds):
    with pytest.raises(InvalidAgingBuckets):
        reports.aging_buckets(bounds)


def test_unknown_grouping_and_backward_period_are_refused(db):
    with pytest.raises(UnknownGrouping):
        reports.aging_report(on=date(2026, 3, 31), group_by="planet")
    with pytest.raises(InvalidPeriod):
        Period(date(2026, 3, 31), date(2026, 3, 1))


def test_the_figures_behind_dso_and_cei(book):
    assert reports.receivables(period=Q1) == reports.Receivables(
        period=Q1, opening=D("400.00"), closing=D("3800.00"), closing_current=D("2300.00"), credit_sales=D("4600.00")
    )


def test_dso_standard_count_back_best_possible_and_days_delinquent(book):
    # standard 3800 / 4600 x 90 = 74.35; best possible 2300 / 4600 x 90 = 45.0; delinquent 29.3
    # count-back: March 2300 (31 days) + February 500 (28 days) + 1000 of January's 1800 (31 days) = 76.2
    assert reports.days_sales_outstanding(period=Q1) == reports.DaysSalesOutstanding(
        standard=D("74.3"), count_back=D("76.2"), best_possible=D("45.0"), average_days_delinquent=D("29.3")
    )


def test_cei_is_what_was_collected_of_what_could_have_been(book):
    # (400 + 4600 - 3800) / (400 + 4600 - 2300) = 1200 / 2700
    assert reports.collection_effectiveness(period=Q1) == D("44.4")


def test_no_sales_no_dso(db):
    assert reports.days_sales_outstanding(period=Q1) == reports.DaysSalesOutstanding(None, None, None, None)
    assert reports.collection_effectiveness(period=Q1) is None


def test_days_to_pay_and_days_late_per_customer_weighted_by_amount(book):
    # Alba: 1000 after 40 days (10 late), 200 after 23 days (7 early): (40000 + 4600) / 1200, (10000 - 1400) / 1200
    assert reports.payment_behaviour(period=Q1) == [
        reports.PaymentBehaviour(
            customer_id=book.alba.pk,
            customer=f"{book.alba.number} Alba Bau GmbH",
            invoices=2,
            settled=D("1200.00"),
            average_days_to_pay=D("37.2"),
            average_days_late=D("7.2"),
        )
    ]
    [bora] = reports.payment_behaviour(period=Q2)
    assert (bora.customer_id, bora.settled, bora.average_days_to_pay, bora.average_days_late) == (
        book.bora.pk,
        D("2000.00"),
        D("50.0"),
        D("20.0"),
    )


def test_disputed_share_counts_only_disputes_open_that_day(book):
    assert reports.disputed_share(on=date(2026, 3, 14)) == reports.DisputedShare(D("3500.00"), D("0"))
    share = reports.disputed_share(on=date(2026, 3, 31))
    assert (share.receivables, share.disputed, share.percent) == (D("3800.00"), D("200.00"), D("5.3"))


def test_write_offs_by_reason(book):
    assert reports.write_offs(period=Q1) == []
    assert reports.write_offs(period=Q2) == [
        reports.WriteOffRow(reason="Short payment within tolerance", entries=1, amount=D("2.00"))
    ]


def test_promises_to_pay_kept_rate_counts_the_promises_resolved_in_the_period(book, clerk, clock):
    clock(date(2026, 4, 1))
    for invoice, promised in [(book.invoices["I2"], date(2026, 4, 10)), (book.invoices["I4"], date(2026, 4, 5))]:
        invoice.refresh_from_db()
        collections.record_promise_to_pay(
            customer=invoice.customer,
            invoices=[invoice],
            promised_date=promised,
            amount=invoice.open_amount,
            actor=clerk,
        )
    settle(clerk, clock, book.invoices["I2"], "300", date(2026, 4, 8))
    collections.mark_broken_promises(today=date(2026, 4, 11), actor=clerk)

    assert reports.promises_kept(period=Q1) == reports.PromisesKept(kept=0, broken=0)
    assert reports.promises_kept(period=Q1).percent is None
    assert reports.promises_kept(period=Q2).percent == D("50.0")


def test_dunning_level_distribution_of_open_invoices(book, clerk, clock):
    policy = DunningPolicy.objects.create(name="Plain", is_default=True)
    DunningLevel.objects.create(policy=policy, level=1, days_after_due=7, template=LetterTemplate.REMINDER)
    clock(date(2026, 4, 30))
    collections.run_dunning(run_date=date(2026, 4, 30), actor=clerk)

    # I6 (136 days), I2 (44 days) and I5 (11 days) get a reminder; I4 is disputed, so held.
    assert reports.dunning_levels() == [
        reports.DunningLevelRow(level=0, currency="EUR", invoices=1, open_amount=D("800.00")),
        reports.DunningLevelRow(level=1, currency="EUR", invoices=3, open_amount=D("1000.00")),
    ]


def test_touchless_rate_counts_what_the_engine_applied_alone_and_nobody_undid(clerk, statement):
    period = Period(date(2026, 11, 1), date(2026, 11, 30))
    reconciliation.reconcile_statement(statement=statement, actor=clerk)  # line 1 applied on its own
    manual = statement.lines.get(line_no=2)
    reconciliation.accept_proposal(line=manual, proposal=line_proposals(line=manual)[0], actor=clerk)

    figures = reports.cash_application(period=period)
    assert (figures.incoming_lines, figures.applied, figures.touchless, figures.touchless_percent) == (
        3,
        2,
        1,
        D("33.3"),
    )

    reconciliation.undo_line(line=statement.lines.get(line_no=1), actor=clerk, reason="wrong customer")
    assert reports.cash_application(period=period).touchless == 0


def test_the_admin_guides_worked_example_is_what_the_reports_compute(book):
    guide = (Path(__file__).resolve().parents[2] / "docs" / "admin-guide.md").read_text()
    example = guide[guide.index("**Worked example**") : guide.index("### Collection reports")]
    figures = reports.receivables(period=Q1)
    dso = reports.days_sales_outstanding(period=Q1)

    assert f"credit sales = 1000.00 + 500.00 + 2000.00 + 800.00 + 300.00 = {figures.credit_sales}" in example
    assert f"= {figures.closing} (I3 was" in example
    assert f"closing current = I3 2000.00 + I5 300.00 = {figures.closing_current}" in example
    assert f"Opening receivables = {figures.opening} (I6)" in example
    assert f"= **{dso.standard} days**" in example
    assert f"= **{dso.count_back} days**" in example
    assert (
        f"= **{dso.best_possible} days**; average days delinquent = **{dso.average_days_delinquent} days**" in example
    )
    assert f"= **{reports.collection_effectiveness(period=Q1)} %**" in example
