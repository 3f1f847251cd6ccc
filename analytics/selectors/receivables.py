"""Receivables reports, all read from the ledger's dated lines so any past date is exact: aging with
configurable buckets, DSO (standard, count-back, best possible), average days delinquent, CEI, days
to pay and days late per customer, disputed share, promise-to-pay kept rate, dunning levels,
write-offs by reason and the touchless cash application rate.

Amounts across currencies are in the company currency at the rates the ledger lines were posted
with (`amount_company`); per-currency figures are in the document currency.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import QuerySet

from analytics.errors import InvalidAgingBuckets, InvalidPeriod, UnknownGrouping
from analytics.selectors.sql import fetch_all, fetch_one, fetch_rows
from ledger.models import AccountRole, EntryKind, ItemKind, OpenItem
from ledger.selectors import item_balances
from otc.exchange_rates import company_currency
from otc.money import minor_units_sql, quantize

ZERO = Decimal("0")
HUNDRED = Decimal("100")
DEFAULT_AGING_BOUNDS = (30, 60, 90)

# What a report can be grouped by: (key, label) as SQL over the customer `c` and the balance `b`.
GROUPINGS = {
    "customer": ("c.id::text", "c.number || ' ' || c.legal_name"),
    "group": ("COALESCE(g.code, '')", "COALESCE(g.name, 'No group')"),
    "sales_rep": ("COALESCE(c.sales_rep_id::text, '')", "COALESCE(NULLIF(u.full_name, ''), u.email, 'No sales rep')"),
    "country": ("c.country", "c.country"),
    "currency": ("p.currency", "p.currency"),
}


@dataclass(frozen=True)
class Period:
    """A closed range of days, both ends included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise InvalidPeriod(f"{self.start} is after {self.end}.", fields={"start": ["After the end."]})

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class AgingBucket:
    name: str
    low: int | None  # days past due, exclusive; None: no lower limit (current)
    high: int | None  # days past due, inclusive; None: no upper limit


def aging_buckets(bounds: Sequence[int] = DEFAULT_AGING_BOUNDS) -> list[AgingBucket]:
    """'current' (not yet due), one bucket up to each bound, and one beyond the last: the default
    bounds 30, 60, 90 give current, 1-30, 31-60, 61-90 and 90+."""
    bounds = list(bounds)
    if not bounds or any(not isinstance(b, int) or b < 1 for b in bounds) or bounds != sorted(set(bounds)):
        raise InvalidAgingBuckets(f"Bounds {bounds} are not increasing whole days.", fields={"buckets": ["Invalid."]})
    buckets = [AgingBucket("current", None, 0)]
    lows = [0, *bounds]
    buckets += [AgingBucket(f"{low + 1}-{high}", low, high) for low, high in zip(lows, bounds, strict=False)]
    return [*buckets, AgingBucket(f"{bounds[-1]}+", bounds[-1], None)]


@dataclass(frozen=True)
class AgingRow:
    key: str
    label: str
    currency: str
    buckets: dict[str, Decimal]
    unapplied_credit: Decimal
    total: Decimal


def _grouping(group_by: str) -> tuple[str, str]:
    if group_by not in GROUPINGS:
        raise UnknownGrouping(
            f"Cannot group by {group_by!r}.", fields={"group_by": [f"One of {', '.join(GROUPINGS)}."]}
        )
    return GROUPINGS[group_by]


# The receivable account's id, as an init plan, so an index on the line's account can be used.
RECEIVABLE_ACCOUNT = f"(SELECT id FROM ledger_ledgeraccount WHERE role = '{AccountRole.RECEIVABLE}')"


def balances_sql(on: date) -> tuple[str, dict]:
    """The balances of items open on `on` (the figures of `ledger.selectors.item_balances`), as SQL
    for a WITH clause and its parameters. Only the items not settled by then are read (the index on
    `settled_on`), joined to their lines posted by then (the covering index on item and posting
    date) and summed per item: one join the planner may run in parallel, where a subquery per item
    would run a quarter of a million index lookups one after the other."""
    sql = """
        SELECT i.id, i.customer_id, i.kind, i.reference, i.document_id, i.currency, i.due_on,
               SUM(l.amount) AS open_amount, SUM(l.amount_company) AS open_amount_company
          FROM ledger_openitem i
          JOIN ledger_journalline l ON l.item_id = i.id AND l.posted_on <= %(balance_on)s
         WHERE i.settled_on IS NULL OR i.settled_on > %(balance_on)s
         GROUP BY i.id
        HAVING SUM(l.amount) <> 0
    """
    return sql, {"balance_on": on}


def aging_report(
    *,
    on: date,
    group_by: str = "customer",
    bounds: Sequence[int] = DEFAULT_AGING_BOUNDS,
    in_company_currency: bool = False,
) -> list[AgingRow]:
    """What was open on `on` (the ledger's lines posted by then, so later payments do not count), in
    buckets of days past due on that day, per group and currency, or per group in the company
    currency. Credit notes and overpaid items are unapplied credit, outside the buckets."""
    buckets = aging_buckets(bounds)
    key, label = _grouping(group_by)
    amount = "b.open_amount_company" if in_company_currency else "b.open_amount"
    currency = "%(company_currency)s" if in_company_currency else "b.currency"
    owed = f"b.kind = '{ItemKind.INVOICE}' AND b.open_amount > 0"
    conditions = [
        " AND ".join(
            [owed]
            + ([f"%(on)s - b.due_on > {bucket.low}"] if bucket.low is not None else [])
            + ([f"%(on)s - b.due_on <= {bucket.high}"] if bucket.high is not None else [])
        )
        for bucket in buckets
    ]
    sums = ", ".join(
        f"COALESCE(SUM({amount}) FILTER (WHERE {condition}), 0) AS bucket_{index}"
        for index, condition in enumerate(conditions)
    )
    # Summed per customer first (the open items, by an integer key, no joins), then per group from those
    # sums (per customer they are the figures already), with the customers' names, groups and sales reps
    # joined to one row per customer; rounded in SQL, as the tens of thousands of rows a million invoices
    # give would take half a second in Python.
    per_customer = group_by == "customer"

    def figure(column: str) -> str:
        return f"ROUND(p.{column}, p.units)" if per_customer else f"ROUND(SUM(p.{column}), MIN(p.units))"

    columns = ", ".join(f"{figure(column)} AS {column}" for column in _aging_columns(buckets))
    balances, params = balances_sql(on)
    rows = fetch_rows(
        f"""
        WITH b AS ({balances}),
        p AS (
            SELECT b.customer_id, {currency} AS currency, {minor_units_sql(currency)} AS units, {sums},
                   COALESCE(SUM({amount}) FILTER (WHERE NOT ({owed})), 0) AS unapplied_credit,
                   SUM({amount}) AS total
              FROM b
             GROUP BY 1, 2
        )
        SELECT {key} AS key, {label if per_customer else f"MIN({label})"} AS label, p.currency, {columns}
          FROM p JOIN customers_customer c ON c.id = p.customer_id
          LEFT JOIN customers_customergroup g ON g.id = c.group_id
          LEFT JOIN otc_user u ON u.id = c.sales_rep_id
         {"" if per_customer else "GROUP BY 1, 3"}
         ORDER BY {"p.total" if per_customer else "SUM(p.total)"} DESC, 1, 3
        """,
        {**params, "on": on, "company_currency": company_currency()},
    )
    names = [bucket.name for bucket in buckets]
    return [
        AgingRow(
            key=key,
            label=label,
            currency=row_currency,
            buckets=dict(zip(names, figures[:-2], strict=True)),
            unapplied_credit=figures[-2],
            total=figures[-1],
        )
        for key, label, row_currency, *figures in rows
    ]


def _aging_columns(buckets: list[AgingBucket]) -> list[str]:
    return [f"bucket_{index}" for index in range(len(buckets))] + ["unapplied_credit", "total"]


def aging_items(*, on: date, customer_id: int | None = None, bucket: AgingBucket | None = None) -> QuerySet[OpenItem]:
    """The documents behind an aging figure: the items open on `on`, oldest due first, optionally of
    one customer and in one bucket (credit notes never are)."""
    items = item_balances(on=on).select_related("customer").order_by("due_on", "pk")
    if customer_id is not None:
        items = items.filter(customer_id=customer_id)
    if bucket is not None:
        items = items.filter(kind=ItemKind.INVOICE, open_amount__gt=0)
        if bucket.low is not None:
            items = items.filter(due_on__lt=on - timedelta(days=bucket.low))
        if bucket.high is not None:
            items = items.filter(due_on__gte=on - timedelta(days=bucket.high))
    return items


@dataclass(frozen=True)
class Receivables:
    """The period's receivables figures behind DSO and CEI, in the company currency."""

    period: Period
    opening: Decimal  # receivables at the end of the day before the period
    closing: Decimal  # receivables at the end of the period
    closing_current: Decimal  # of which not yet due
    credit_sales: Decimal  # invoices issued in the period


def receivables(*, period: Period) -> Receivables:
    """One pass over the receivable lines posted by the end of the period, read from the lines alone
    (each carries its entry's date and kind); only the invoices not yet due then are looked up."""
    row = fetch_one(
        f"""
        SELECT COALESCE(SUM(l.amount_company) FILTER (WHERE l.posted_on < %(start)s), 0) AS opening,
               COALESCE(SUM(l.amount_company), 0) AS closing,
               COALESCE(SUM(l.amount_company) FILTER (WHERE l.item_id IN (
                   SELECT id FROM ledger_openitem WHERE kind = '{ItemKind.INVOICE}' AND due_on >= %(end)s
               )), 0) AS closing_current,
               COALESCE(SUM(l.amount_company) FILTER (
                   WHERE l.entry_kind = '{EntryKind.INVOICE}' AND l.posted_on >= %(start)s), 0) AS credit_sales
          FROM ledger_journalline l
         WHERE l.account_id = {RECEIVABLE_ACCOUNT} AND l.posted_on <= %(end)s
        """,
        {"start": period.start, "end": period.end},
    )
    home = company_currency()
    return Receivables(period=period, **{name: quantize(amount, home) for name, amount in row.items()})


def _days(amount: Decimal, sales: Decimal, days: int) -> Decimal | None:
    return None if not sales else (amount / sales * days).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class DaysSalesOutstanding:
    standard: Decimal | None  # closing receivables / credit sales x days of the period
    count_back: Decimal | None  # days of the latest months whose sales make up the closing receivables
    best_possible: Decimal | None  # closing current receivables / credit sales x days
    average_days_delinquent: Decimal | None  # standard - best possible


def count_back_dso(*, on: date, closing: Decimal, months: int = 24) -> Decimal | None:
    """Count-back DSO on `on`: take the receivables then (`closing`, as `receivables` gives them), and
    walk back month by month (the current month up to `on`), subtracting each month's credit sales,
    until they are used up; the days walked, the last month in proportion, are the DSO. None when
    there are no receivables to explain or no sales; capped at the months looked back."""
    rows = fetch_all(
        f"""
        WITH months AS (
            SELECT start::date, LEAST((start + interval '1 month' - interval '1 day')::date, %(end)s) AS finish
              FROM generate_series(date_trunc('month', %(end)s::date),
                                   date_trunc('month', %(end)s::date) - make_interval(months => %(months)s - 1),
                                   interval '-1 month') AS start
        ),
        sales AS (
            SELECT date_trunc('month', l.posted_on)::date AS start, SUM(l.amount_company) AS amount
              FROM ledger_journalline l
             WHERE l.account_id = {RECEIVABLE_ACCOUNT} AND l.entry_kind = '{EntryKind.INVOICE}'
               AND l.posted_on <= %(end)s AND l.posted_on >= (SELECT MIN(start) FROM months)
             GROUP BY 1
        )
        SELECT m.finish - m.start + 1 AS days, COALESCE(s.amount, 0) AS amount,
               SUM(COALESCE(s.amount, 0)) OVER (ORDER BY m.start DESC) AS sales_so_far,
               SUM(m.finish - m.start + 1) OVER (ORDER BY m.start DESC) AS days_so_far
          FROM months m LEFT JOIN sales s ON s.start = m.start
         ORDER BY m.start DESC
        """,
        {"end": on, "months": months},
    )
    if closing <= ZERO or not any(row["amount"] for row in rows):
        return None
    month = next((row for row in rows if row["sales_so_far"] >= closing and row["amount"] > 0), None)
    if month is None:
        return Decimal(rows[-1]["days_so_far"]).quantize(Decimal("0.1"))
    used = closing - (month["sales_so_far"] - month["amount"])
    return (month["days_so_far"] - month["days"] + used / month["amount"] * month["days"]).quantize(Decimal("0.1"))


def days_sales_outstanding(*, period: Period) -> DaysSalesOutstanding:
    figures = receivables(period=period)
    standard = _days(figures.closing, figures.credit_sales, period.days)
    best = _days(figures.closing_current, figures.credit_sales, period.days)
    return DaysSalesOutstanding(
        standard=standard,
        count_back=count_back_dso(on=period.end, closing=figures.closing),
        best_possible=best,
        average_days_delinquent=None if standard is None else standard - best,
    )


def collection_effectiveness(*, period: Period) -> Decimal | None:
    """CEI in percent: what was collected of what could have been, (opening + credit sales - closing)
    / (opening + credit sales - closing current) x 100. None when nothing was collectable."""
    figures = receivables(period=period)
    collectable = figures.opening + figures.credit_sales - figures.closing_current
    if collectable <= ZERO:
        return None
    collected = figures.opening + figures.credit_sales - figures.closing
    return (collected / collectable * HUNDRED).quantize(Decimal("0.1"))


# Settlements of invoices by payments and write-offs, net of undone ones (reversed entries).
SETTLEMENTS_SQL = f"""
    SELECT i.customer_id, i.id AS item_id, -l.amount_company AS amount, l.posted_on,
           l.posted_on - i.issued_on AS days_to_pay, l.posted_on - i.due_on AS days_late
      FROM ledger_journalline l
      JOIN ledger_openitem i ON i.id = l.item_id
     WHERE l.account_id = {RECEIVABLE_ACCOUNT} AND i.kind = '{ItemKind.INVOICE}' AND l.amount < 0
       AND l.entry_kind IN ('{EntryKind.ALLOCATION}', '{EntryKind.WRITE_OFF}')
       AND NOT EXISTS (SELECT 1 FROM ledger_journalentry r WHERE r.reverses_id = l.entry_id)
"""


@dataclass(frozen=True)
class PaymentBehaviour:
    customer_id: int
    customer: str
    invoices: int
    settled: Decimal
    average_days_to_pay: Decimal
    average_days_late: Decimal  # negative: paid early on average


def payment_behaviour(*, period: Period) -> list[PaymentBehaviour]:
    """Per customer, of the money settled on invoices in the period: the amount-weighted average days
    from issue and from due date to settlement, latest payers first."""
    rows = fetch_all(
        f"""
        SELECT s.customer_id, MIN(c.number || ' ' || c.legal_name) AS customer,
               COUNT(DISTINCT s.item_id) AS invoices, SUM(s.amount) AS settled,
               ROUND(SUM(s.amount * s.days_to_pay) / SUM(s.amount), 1) AS average_days_to_pay,
               ROUND(SUM(s.amount * s.days_late) / SUM(s.amount), 1) AS average_days_late
          FROM ({SETTLEMENTS_SQL}) s JOIN customers_customer c ON c.id = s.customer_id
         WHERE s.posted_on BETWEEN %(start)s AND %(end)s
         GROUP BY s.customer_id
        HAVING SUM(s.amount) <> 0
         ORDER BY 6 DESC, 1
        """,
        {"start": period.start, "end": period.end},
    )
    return [PaymentBehaviour(**{**row, "settled": quantize(row["settled"], company_currency())}) for row in rows]


@dataclass(frozen=True)
class DisputedShare:
    receivables: Decimal
    disputed: Decimal

    @property
    def percent(self) -> Decimal | None:
        return None if not self.receivables else (self.disputed / self.receivables * HUNDRED).quantize(Decimal("0.1"))


def disputed_share(*, on: date) -> DisputedShare:
    """Of the invoices open on `on` (company currency), the part under a dispute open that day: the
    disputed amount, or the whole open amount when the dispute names none."""
    balances, params = balances_sql(on)
    row = fetch_one(
        f"""
        WITH b AS ({balances})
        SELECT COALESCE(SUM(b.open_amount_company), 0) AS receivables,
               COALESCE(SUM(ROUND(b.open_amount_company * d.disputed / b.open_amount, 2)), 0) AS disputed
          FROM b
          LEFT JOIN LATERAL (
              SELECT CASE WHEN COUNT(*) = 0 THEN 0 WHEN bool_or(x.disputed_amount IS NULL) THEN b.open_amount
                          ELSE LEAST(SUM(x.disputed_amount), b.open_amount) END AS disputed
                FROM service_dispute x
               WHERE x.invoice_id = b.document_id
                 AND (x.opened_at AT TIME ZONE %(tz)s)::date <= %(on)s
                 AND (x.resolved_at IS NULL OR (x.resolved_at AT TIME ZONE %(tz)s)::date > %(on)s)
          ) d ON true
         WHERE b.kind = '{ItemKind.INVOICE}' AND b.open_amount > 0
        """,
        {**params, "on": on, "tz": settings.TIME_ZONE},
    )
    return DisputedShare(**{name: quantize(amount, company_currency()) for name, amount in row.items()})


@dataclass(frozen=True)
class PromisesKept:
    kept: int
    broken: int

    @property
    def percent(self) -> Decimal | None:
        total = self.kept + self.broken
        return None if not total else (Decimal(self.kept) / total * HUNDRED).quantize(Decimal("0.1"))


def promises_kept(*, period: Period) -> PromisesKept:
    """Promises to pay settled in the period (kept or broken; open ones are not yet known)."""
    row = fetch_one(
        """
        SELECT COUNT(*) FILTER (WHERE status = 'kept') AS kept, COUNT(*) FILTER (WHERE status = 'broken') AS broken
          FROM payments_promisetopay WHERE resolved_on BETWEEN %(start)s AND %(end)s
        """,
        {"start": period.start, "end": period.end},
    )
    return PromisesKept(**row)


@dataclass(frozen=True)
class DunningLevelRow:
    level: int
    currency: str
    invoices: int
    open_amount: Decimal


def dunning_levels() -> list[DunningLevelRow]:
    """Open invoices by the dunning level they have reached, per currency (level 0: not dunned)."""
    rows = fetch_all(
        """
        SELECT COALESCE(s.level, 0) AS level, i.currency, COUNT(*) AS invoices, SUM(i.open_amount) AS open_amount
          FROM invoicing_invoice i LEFT JOIN payments_invoicedunningstate s ON s.invoice_id = i.id
         WHERE i.kind = 'invoice' AND i.open_amount > 0
         GROUP BY 1, 2 ORDER BY 1, 2
        """
    )
    return [DunningLevelRow(**{**row, "open_amount": quantize(row["open_amount"], row["currency"])}) for row in rows]


WRITE_OFF_REASONS = {
    EntryKind.ALLOCATION: "Short payment within tolerance",
    EntryKind.WRITE_OFF: "Rest written off without payment",
}


@dataclass(frozen=True)
class WriteOffRow:
    reason: str
    entries: int
    amount: Decimal


def write_offs(*, period: Period) -> list[WriteOffRow]:
    """What was posted to the write-off account in the period (company currency), by why: the kind
    of the entry, a reversal counting against the entry it undoes."""
    reasons = " ".join(f"WHEN '{kind}' THEN '{label}'" for kind, label in WRITE_OFF_REASONS.items())
    rows = fetch_all(
        f"""
        SELECT CASE COALESCE(o.kind, e.kind) {reasons} ELSE COALESCE(o.kind, e.kind) END AS reason,
               COUNT(DISTINCT e.id) FILTER (WHERE e.reverses_id IS NULL)
                 - COUNT(DISTINCT e.id) FILTER (WHERE e.reverses_id IS NOT NULL) AS entries,
               SUM(l.amount_company) AS amount
          FROM ledger_journalline l
          JOIN ledger_ledgeraccount a ON a.id = l.account_id AND a.role = '{AccountRole.WRITE_OFF}'
          JOIN ledger_journalentry e ON e.id = l.entry_id
          LEFT JOIN ledger_journalentry o ON o.id = e.reverses_id
         WHERE l.posted_on BETWEEN %(start)s AND %(end)s
         GROUP BY 1 ORDER BY 3 DESC
        """,
        {"start": period.start, "end": period.end},
    )
    return [WriteOffRow(**{**row, "amount": quantize(row["amount"], company_currency())}) for row in rows]


@dataclass(frozen=True)
class CashApplication:
    incoming_lines: int
    applied: int
    touchless: int  # applied by the matching engine on its own and not undone since

    @property
    def touchless_percent(self) -> Decimal | None:
        if not self.incoming_lines:
            return None
        return (Decimal(self.touchless) / self.incoming_lines * HUNDRED).quantize(Decimal("0.1"))


def cash_application(*, period: Period) -> CashApplication:
    """Of the incoming bank lines booked in the period: how many were applied, and how many with no
    clerk's touch (the reconciliation's own record)."""
    row = fetch_one(
        """
        SELECT COUNT(*) AS incoming_lines,
               COUNT(*) FILTER (WHERE b.status = 'applied') AS applied,
               COUNT(*) FILTER (WHERE b.status = 'applied' AND b.applied_automatically AND NOT EXISTS (
                   SELECT 1 FROM payments_allocation x WHERE x.payment_id = b.payment_id AND x.reversed_at IS NOT NULL
               )) AS touchless
          FROM payments_bankstatementline b
         WHERE b.amount > 0 AND b.booking_date BETWEEN %(start)s AND %(end)s
        """,
        {"start": period.start, "end": period.end},
    )
    return CashApplication(**row)
