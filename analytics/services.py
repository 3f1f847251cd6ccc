"""Analytics writes nothing of the business: it refreshes its own snapshots, hands each customer's
segment and payment score to customers (through customers' service, so automation rules below
analytics can test them), and announces the weekly KPIs, which the outbox emails to the staff who
opted in."""

from datetime import date, timedelta

from django.db import connection, transaction
from django.utils import timezone

from analytics.events import Kpi, WeeklyKpisReady
from analytics.models import CustomerBehaviour
from analytics.selectors import forecast, receivables
from analytics.selectors.receivables import Period
from customers.services import record_behaviour
from otc.events import publish

SNAPSHOTS = ["analytics_customer_behaviour"]


def refresh_snapshots() -> None:
    """Recompute every materialised snapshot as of today, CONCURRENTLY: readers keep the old rows and
    writers are never blocked while it runs (each view has the unique index this needs)."""
    with connection.cursor() as cursor:
        for view in SNAPSHOTS:
            cursor.execute(f"REFRESH MATERIALIZED VIEW CONCURRENTLY {view}")


def share_behaviour_with_customers(*, on: date) -> int:
    """Give customers the snapshot's segment and the payer score (predicted days late) of every
    customer either knows, so rules on segment and payment behaviour read today's figures."""
    segments = dict(CustomerBehaviour.objects.values_list("customer_id", "segment"))
    days_late = {score.customer_id: score.predicted_days_late for score in forecast.payer_scores(on=on)}
    scores = [(pk, segments.get(pk, ""), days_late.get(pk)) for pk in sorted(segments.keys() | days_late.keys())]
    return record_behaviour(scores=scores, scored_at=timezone.now())


def weekly_kpis(*, week_ending: date) -> list[Kpi]:
    """The figures of the weekly finance email: DSO and CEI over the 90 days to `week_ending`, the
    disputed share and the next four weeks of expected cash on that day (company currency)."""
    period = Period(week_ending - timedelta(days=89), week_ending)
    dso = receivables.days_sales_outstanding(period=period)
    weeks = forecast.cash_forecast(on=week_ending, weeks=4).weeks
    figures = [
        ("DSO (standard)", dso.standard, "days"),
        ("DSO (count-back)", dso.count_back, "days"),
        ("Best possible DSO", dso.best_possible, "days"),
        ("CEI", receivables.collection_effectiveness(period=period), "%"),
        ("Disputed share", receivables.disputed_share(on=week_ending).percent, "%"),
        ("Cash expected in the next 4 weeks", sum(week.expected for week in weeks), ""),
    ]
    return [Kpi(name=name, value="–" if value is None else str(value), unit=unit) for name, value, unit in figures]


@transaction.atomic
def announce_weekly_kpis(*, week_ending: date) -> None:
    """Send the week's KPIs as an event (the outbox records it in this transaction and emails it)."""
    publish(
        WeeklyKpisReady(
            week_ending=week_ending,
            period_start=week_ending - timedelta(days=89),
            kpis=weekly_kpis(week_ending=week_ending),
        )
    )
