"""Customer behaviour: RFM segments and churn risk (the snapshot, or live for any day), top customers
and products by revenue, monthly invoicing trends, and credit holds with their outcomes.

A purchase is an issued invoice (credit notes count against it), valued net in the company currency
at the invoice's own rate. No product costs are kept yet, so there is no margin report.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Count, QuerySet, Sum

from analytics.errors import UnknownSegment
from analytics.models import CustomerBehaviour, Segment
from analytics.selectors.receivables import Period
from analytics.selectors.sql import fetch_all
from customers.models import Customer


def customer_behaviour_on(*, on: date) -> list[dict]:
    """Every invoiced customer's RFM scores, segment and churn risk as of `on`, computed now by the
    same SQL function the snapshot is made of."""
    return fetch_all("SELECT * FROM analytics_customer_behaviour_on(%(on)s) ORDER BY customer_id", {"on": on})


def snapshot() -> QuerySet[CustomerBehaviour]:
    """The latest snapshot of customer behaviour (see `analytics.services.refresh_snapshots`)."""
    return CustomerBehaviour.objects.select_related("customer")


def snapshot_taken_at() -> datetime | None:
    return CustomerBehaviour.objects.values_list("computed_at", flat=True).first()


@dataclass(frozen=True)
class SegmentRow:
    segment: str
    label: str
    customers: int
    revenue: Decimal


def segment_summary() -> list[SegmentRow]:
    """Customers and revenue (last 365 days) per segment of the snapshot; every segment listed."""
    totals = {
        row["segment"]: row
        for row in CustomerBehaviour.objects.values("segment").annotate(
            customers=Count("customer"), revenue=Sum("revenue")
        )
    }
    return [
        SegmentRow(
            segment=segment.value,
            label=segment.label,
            customers=totals.get(segment.value, {}).get("customers", 0),
            revenue=totals.get(segment.value, {}).get("revenue") or Decimal("0"),
        )
        for segment in Segment
    ]


def customers_in_segment(name: str) -> QuerySet[Customer]:
    """The customers the snapshot puts in segment `name`; a queryset, so callers filter further
    (the customer admin's segment filter, automation rules)."""
    if name not in Segment.values:
        raise UnknownSegment(f"No segment {name!r}.", fields={"segment": [f"One of {', '.join(Segment.values)}."]})
    return Customer.objects.filter(pk__in=CustomerBehaviour.objects.filter(segment=name).values("customer_id"))


_PURCHASES = """
    SELECT i.id, i.customer_id, i.issue_date, i.kind, i.exchange_rate,
           CASE i.kind WHEN 'credit_note' THEN -1 ELSE 1 END AS sign,
           CASE i.kind WHEN 'credit_note' THEN -1 ELSE 1 END * i.net_total * i.exchange_rate AS revenue
      FROM invoicing_invoice i
     WHERE i.status <> 'draft' AND i.issue_date BETWEEN %(start)s AND %(end)s
"""


@dataclass(frozen=True)
class TopCustomer:
    rank: int
    customer_id: int
    customer: str
    invoices: int
    revenue: Decimal
    share_percent: Decimal


def top_customers(*, period: Period, limit: int = 20) -> list[TopCustomer]:
    """The customers who bought most in the period, net of credit notes, with their share of all."""
    rows = fetch_all(
        f"""
        WITH p AS ({_PURCHASES}),
        ranked AS (
            SELECT customer_id, COUNT(*) FILTER (WHERE kind = 'invoice') AS invoices,
                   ROUND(SUM(revenue), 2) AS revenue,
                   RANK() OVER (ORDER BY SUM(revenue) DESC) AS rank,
                   ROUND(100 * SUM(revenue) / NULLIF(SUM(SUM(revenue)) OVER (), 0), 1) AS share_percent
              FROM p GROUP BY customer_id
        )
        SELECT r.rank, r.customer_id, c.number || ' ' || c.legal_name AS customer, r.invoices, r.revenue,
               r.share_percent
          FROM ranked r JOIN customers_customer c ON c.id = r.customer_id
         ORDER BY r.rank, r.customer_id LIMIT %(limit)s
        """,
        {"start": period.start, "end": period.end, "limit": limit},
    )
    return [TopCustomer(**row) for row in rows]


@dataclass(frozen=True)
class TopProduct:
    rank: int
    sku: str
    description: str
    quantity: Decimal
    revenue: Decimal


def top_products(*, period: Period, limit: int = 20) -> list[TopProduct]:
    """The products (by SKU; lines without one by description) that brought most net revenue."""
    rows = fetch_all(
        f"""
        WITH p AS ({_PURCHASES})
        SELECT RANK() OVER (ORDER BY SUM(p.sign * l.net_amount * p.exchange_rate) DESC) AS rank,
               l.sku, MIN(l.description) AS description, SUM(p.sign * l.quantity) AS quantity,
               ROUND(SUM(p.sign * l.net_amount * p.exchange_rate), 2) AS revenue
          FROM p JOIN invoicing_invoiceline l ON l.invoice_id = p.id
         GROUP BY l.sku, CASE WHEN l.sku = '' THEN l.description END
         ORDER BY 1, 2 LIMIT %(limit)s
        """,
        {"start": period.start, "end": period.end, "limit": limit},
    )
    return [TopProduct(**row) for row in rows]


@dataclass(frozen=True)
class MonthTrend:
    month: date
    invoices: int
    customers: int
    revenue: Decimal
    average_invoice: Decimal | None


def monthly_trend(*, period: Period) -> list[MonthTrend]:
    """Per month of the period: how many invoices, to how many customers, and their average size."""
    rows = fetch_all(
        f"""
        WITH p AS ({_PURCHASES})
        SELECT m::date AS month,
               COUNT(p.id) FILTER (WHERE p.kind = 'invoice') AS invoices,
               COUNT(DISTINCT p.customer_id) FILTER (WHERE p.kind = 'invoice') AS customers,
               ROUND(COALESCE(SUM(p.revenue), 0), 2) AS revenue,
               ROUND(AVG(p.revenue) FILTER (WHERE p.kind = 'invoice'), 2) AS average_invoice
          FROM generate_series(date_trunc('month', %(start)s::date), %(end)s::date, interval '1 month') AS m
          LEFT JOIN p ON date_trunc('month', p.issue_date) = m
         GROUP BY m ORDER BY m
        """,
        {"start": period.start, "end": period.end},
    )
    return [MonthTrend(**row) for row in rows]


@dataclass(frozen=True)
class CreditHoldOutcome:
    outcome: str
    orders: int
    average_hours_to_decision: Decimal | None


def credit_hold_outcomes(*, period: Period) -> list[CreditHoldOutcome]:
    """Orders put on credit hold in the period, by what became of them (released, rejected, still
    held) and how long the decision took."""
    rows = fetch_all(
        """
        WITH held AS (
            SELECT t.order_id, MIN(t.at) AS held_at FROM orders_ordertimelineentry t
             WHERE t.kind = 'held' AND t.at::date BETWEEN %(start)s AND %(end)s GROUP BY t.order_id
        ),
        decided AS (
            SELECT DISTINCT ON (h.order_id) h.order_id, h.held_at, t.kind, t.at
              FROM held h LEFT JOIN orders_ordertimelineentry t
                ON t.order_id = h.order_id AND t.kind IN ('released', 'rejected') AND t.at >= h.held_at
             ORDER BY h.order_id, t.at
        )
        SELECT COALESCE(kind, 'still held') AS outcome, COUNT(*) AS orders,
               ROUND(AVG(EXTRACT(EPOCH FROM at - held_at) / 3600)::numeric, 1) AS average_hours_to_decision
          FROM decided GROUP BY 1 ORDER BY 1
        """,
        {"start": period.start, "end": period.end},
    )
    return [CreditHoldOutcome(**row) for row in rows]
