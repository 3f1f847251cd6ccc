"""Payer scoring and the 13-week cash forecast.

A customer's predicted lateness is the amount- and recency-weighted average of the days late of
their settlements (a settlement `HALF_LIFE_DAYS` old counts half), blended with their group's
average (all customers' when they have no group) as if the group had `GROUP_WEIGHT` settlements
of its own: a new customer gets the group's figure, a long history speaks for itself.

The forecast expects each invoice open on the day on its due date plus its customer's predicted
lateness (overdue ones no earlier than the first week), less what is disputed, in weeks from the
day. From the day of the latest scoring on, it reads the scores the hourly task stored with the
customers (recomputing two years of settlements per payer on every view would cost seconds at a
million invoices); customers scored since get their group's average stored score (all customers'
without a group). Earlier days are scored as of that day, on what was known then.

Its backtest runs the same forecast as of 13 weeks earlier, on what was known then, and compares
each week with what those invoices actually brought in.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from analytics.selectors.receivables import SETTLEMENTS_SQL, balances_sql
from analytics.selectors.sql import fetch_all
from customers.models import CustomerBehaviour
from ledger.models import ItemKind

HALF_LIFE_DAYS = 180
GROUP_WEIGHT = 3
HISTORY_DAYS = 730
WEEKS = 13

# Per customer with history before %(on)s or an item open on it: settlements, own and fallback
# lateness, and the prediction. Needs the CTE `b` (balances on %(on)s) before it.
_SCORES = f"""
    s AS (
        SELECT x.customer_id, x.days_late,
               x.amount::float8 * power(0.5, (%(on)s - x.posted_on) / %(half_life)s::float8) AS weight
          FROM ({SETTLEMENTS_SQL}) x
         WHERE x.posted_on <= %(on)s AND x.posted_on > %(on)s - %(history)s
    ),
    own AS (
        SELECT customer_id, COUNT(*) AS settlements, SUM(weight * days_late) / NULLIF(SUM(weight), 0) AS days_late
          FROM s GROUP BY customer_id
    ),
    grp AS (
        SELECT c.group_id, SUM(s.weight * s.days_late) / NULLIF(SUM(s.weight), 0) AS days_late
          FROM s JOIN customers_customer c ON c.id = s.customer_id
         WHERE c.group_id IS NOT NULL GROUP BY c.group_id
    ),
    overall AS (SELECT SUM(weight * days_late) / NULLIF(SUM(weight), 0) AS days_late FROM s),
    scores AS (
        SELECT c.id AS customer_id, c.number || ' ' || c.legal_name AS customer,
               COALESCE(g.name, '') AS group_name,
               COALESCE(own.settlements, 0) AS settlements,
               ROUND(own.days_late::numeric, 1) AS own_days_late,
               ROUND(COALESCE(grp.days_late, overall.days_late, 0)::numeric, 1) AS fallback_days_late,
               grp.days_late IS NOT NULL AS fallback_is_group,
               ROUND(((COALESCE(own.settlements, 0) * COALESCE(own.days_late, 0)
                       + %(group_weight)s * COALESCE(grp.days_late, overall.days_late, 0))
                      / (COALESCE(own.settlements, 0) + %(group_weight)s))::numeric, 1) AS predicted_days_late
          FROM customers_customer c
          LEFT JOIN customers_customergroup g ON g.id = c.group_id
          LEFT JOIN own ON own.customer_id = c.id
          LEFT JOIN grp ON grp.group_id = c.group_id
          CROSS JOIN overall
         WHERE own.customer_id IS NOT NULL OR c.id IN (SELECT customer_id FROM b)
    )
"""


# The scores last stored with the customers, as the CTE `scores` (needs `b` before it): a customer
# without one gets the average of its group's stored scores, else of everyone's.
_STORED_SCORES = """
    scored AS (
        SELECT cb.customer_id, cb.predicted_days_late, c.group_id
          FROM customers_customerbehaviour cb JOIN customers_customer c ON c.id = cb.customer_id
         WHERE cb.predicted_days_late IS NOT NULL
    ),
    grp AS (SELECT group_id, AVG(predicted_days_late) AS days_late FROM scored GROUP BY group_id),
    scores AS (
        SELECT o.customer_id,
               COALESCE(s.predicted_days_late, grp.days_late, (SELECT AVG(predicted_days_late) FROM scored), 0)
                   AS predicted_days_late
          FROM (SELECT DISTINCT customer_id FROM b) o
          JOIN customers_customer c ON c.id = o.customer_id
          LEFT JOIN scored s ON s.customer_id = o.customer_id
          LEFT JOIN grp ON grp.group_id = c.group_id AND s.customer_id IS NULL
    )
"""


def _score_params(on: date) -> dict:
    return {"on": on, "half_life": HALF_LIFE_DAYS, "history": HISTORY_DAYS, "group_weight": GROUP_WEIGHT}


@dataclass(frozen=True)
class PayerScore:
    customer_id: int
    customer: str
    group_name: str
    settlements: int
    own_days_late: Decimal | None
    fallback_days_late: Decimal
    fallback_is_group: bool
    predicted_days_late: Decimal

    @property
    def reasons(self) -> list[str]:
        """Why the prediction is what it is, in words."""
        fallback = f"group {self.group_name}" if self.fallback_is_group else "all customers"
        if not self.settlements:
            return [f"No payments yet: the average of {fallback} ({self.fallback_days_late} days late)."]
        return [
            f"{self.settlements} settlements, recent ones weighing more: {self.own_days_late} days late on average.",
            f"Blended with {fallback} ({self.fallback_days_late} days) as if it were {GROUP_WEIGHT} settlements.",
        ]


def payer_scores(*, on: date) -> list[PayerScore]:
    """Every customer with payment history or an open item on `on`, latest predicted payers first."""
    balances, params = balances_sql(on)
    rows = fetch_all(
        f"WITH b AS ({balances}), {_SCORES} SELECT * FROM scores ORDER BY predicted_days_late DESC, customer_id",
        {**params, **_score_params(on)},
    )
    return [PayerScore(**row) for row in rows]


@dataclass(frozen=True)
class ForecastWeek:
    week: int
    starts_on: date
    expected: Decimal


@dataclass(frozen=True)
class CashForecast:
    on: date
    weeks: list[ForecastWeek]
    scores_as_of: datetime | None  # when the stored payer scores it used were made; None: scored for `on`


def _stored_scores_time(on: date) -> datetime | None:
    """When the stored scores were made, if they may stand for `on` (made on that day or before it)."""
    scored_at = CustomerBehaviour.objects.aggregate(latest=Max("scored_at"))["latest"]
    return scored_at if scored_at is not None and timezone.localtime(scored_at).date() <= on else None


def cash_forecast(*, on: date, weeks: int = WEEKS) -> CashForecast:
    """What the invoices open on `on` are expected to bring in each week from `on` (company
    currency), net of disputed amounts; every week listed, empty ones with zero."""
    scores_as_of = _stored_scores_time(on)
    balances, params = balances_sql(on)
    rows = fetch_all(
        f"""
        WITH b AS ({balances}), {_SCORES if scores_as_of is None else _STORED_SCORES},
        disputed AS (
            SELECT x.invoice_id, bool_or(x.disputed_amount IS NULL) AS whole, SUM(x.disputed_amount) AS amount
              FROM service_dispute x
             WHERE (x.opened_at AT TIME ZONE %(tz)s)::date <= %(on)s
               AND (x.resolved_at IS NULL OR (x.resolved_at AT TIME ZONE %(tz)s)::date > %(on)s)
             GROUP BY x.invoice_id
        ),
        expected AS (
            SELECT (GREATEST(b.due_on + ROUND(sc.predicted_days_late)::int, %(on)s) - %(on)s) / 7 + 1 AS week,
                   b.open_amount_company * (1 - CASE WHEN d.whole THEN 1
                                                     ELSE LEAST(COALESCE(d.amount, 0) / b.open_amount, 1) END) AS amount
              FROM b JOIN scores sc ON sc.customer_id = b.customer_id
              LEFT JOIN disputed d ON d.invoice_id = b.document_id
             WHERE b.kind = '{ItemKind.INVOICE}' AND b.open_amount > 0
        )
        SELECT w AS week, %(on)s + (w - 1) * 7 AS starts_on, ROUND(COALESCE(SUM(e.amount), 0), 2) AS expected
          FROM generate_series(1, %(weeks)s) AS w LEFT JOIN expected e ON e.week = w
         GROUP BY w ORDER BY w
        """,
        {**params, **_score_params(on), "tz": settings.TIME_ZONE, "weeks": weeks},
    )
    return CashForecast(on=on, weeks=[ForecastWeek(**row) for row in rows], scores_as_of=scores_as_of)


@dataclass(frozen=True)
class BacktestWeek:
    week: int
    starts_on: date
    forecast: Decimal
    actual: Decimal


@dataclass(frozen=True)
class Backtest:
    as_of: date
    weeks: list[BacktestWeek]

    @property
    def mean_absolute_error(self) -> Decimal:
        """The average miss of a weekly total, in the company currency."""
        misses = [abs(week.forecast - week.actual) for week in self.weeks]
        return (sum(misses, Decimal(0)) / len(misses)).quantize(Decimal("0.01"))


def forecast_backtest(*, on: date, weeks: int = WEEKS) -> Backtest:
    """The forecast made `weeks` weeks before `on`, beside what the invoices open then actually
    brought in each week (settlements by payment or write-off, net of those undone)."""
    as_of = on - timedelta(weeks=weeks)
    forecast = cash_forecast(on=as_of, weeks=weeks).weeks
    balances, params = balances_sql(as_of)
    actual = fetch_all(
        f"""
        WITH b AS ({balances})
        SELECT (x.posted_on - %(as_of)s) / 7 + 1 AS week, SUM(x.amount) AS amount
          FROM ({SETTLEMENTS_SQL}) x JOIN b ON b.id = x.item_id
         WHERE x.posted_on >= %(as_of)s AND x.posted_on < %(as_of)s + %(weeks)s * 7
         GROUP BY 1
        """,
        {**params, "as_of": as_of, "weeks": weeks},
    )
    collected = {row["week"]: row["amount"] for row in actual}
    return Backtest(
        as_of=as_of,
        weeks=[
            BacktestWeek(week.week, week.starts_on, week.expected, collected.get(week.week, Decimal("0")))
            for week in forecast
        ],
    )
