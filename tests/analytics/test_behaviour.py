"""RFM segments, churn risk and top customers against five customers invoiced on known days before
today (net, EUR, no VAT):

| customer | invoices (days before today, net each) | in last 365 days | R | F | M | segment     |
|----------|----------------------------------------|------------------|---|---|---|-------------|
| Anna     | 302, 211, 121, 10 at 1000              | 4, 4000          | 5 | 4 | 4 | champions   |
| Bert     | 333, 241, 149, 60, 29 at 500           | 5, 2500          | 4 | 5 | 3 | loyal       |
| Cleo     | 350, 288 at 3000                       | 2, 6000          | 2 | 3 | 5 | at risk     |
| Dora     | 900, 355 at 200                        | 1, 200           | 1 | 1 | 2 | hibernating |
| Emil     | 46 at 100 (first ever)                 | 1, 100           | 3 | 2 | 1 | new         |
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from analytics import services
from analytics.errors import UnknownSegment
from analytics.selectors import behaviour, forecast
from analytics.selectors.receivables import Period
from customers import services as customer_services
from customers.models import CustomerBehaviour as CustomerPaymentBehaviour
from orders import services as orders
from tests.factories import CustomerFactory, invoice_for, placed_order

pytestmark = pytest.mark.django_db
D = Decimal
HISTORY = {
    "Anna": ([302, 211, 121, 10], "1000"),
    "Bert": ([333, 241, 149, 60, 29], "500"),
    "Cleo": ([350, 288], "3000"),
    "Dora": ([900, 355], "200"),
    "Emil": ([46], "100"),
}


@pytest.fixture
def customers(clerk):
    today = timezone.localdate()
    made = {}
    for name, (days_ago, amount) in HISTORY.items():
        made[name] = CustomerFactory(actor=clerk, legal_name=name)
        for days in days_ago:
            invoice_for(made[name], clerk, amount, today - timedelta(days=days))
    return made


def test_rfm_quintiles_segments_and_churn_risk(customers):
    rows = {row["customer_id"]: row for row in behaviour.customer_behaviour_on(on=timezone.localdate())}

    figures = {
        name: (
            rows[customer.pk]["invoices"],
            rows[customer.pk]["revenue"],
            rows[customer.pk]["recency_score"],
            rows[customer.pk]["frequency_score"],
            rows[customer.pk]["monetary_score"],
            rows[customer.pk]["segment"],
            rows[customer.pk]["average_interval_days"],
            rows[customer.pk]["churn_risk"],
        )
        for name, customer in customers.items()
    }
    # Cleo's usual interval is 62 days and she last bought 288 days ago: high risk of having gone.
    assert figures == {
        "Anna": (4, D("4000"), 5, 4, 4, "champions", D("97.3"), "low"),
        "Bert": (5, D("2500"), 4, 5, 3, "loyal", D("76.0"), "low"),
        "Cleo": (2, D("6000"), 2, 3, 5, "at_risk", D("62.0"), "high"),
        "Dora": (1, D("200"), 1, 1, 2, "hibernating", D("545.0"), "low"),
        "Emil": (1, D("100"), 3, 2, 1, "new", None, "unknown"),
    }


def test_the_snapshot_feeds_segments_and_customers_in_segment(customers):
    services.refresh_snapshots()

    assert behaviour.snapshot_taken_at() is not None
    assert list(behaviour.customers_in_segment("at_risk")) == [customers["Cleo"]]
    assert list(behaviour.customers_in_segment("needs_attention")) == []
    summary = {row.segment: (row.customers, row.revenue) for row in behaviour.segment_summary()}
    assert summary == {
        "champions": (1, D("4000")),
        "loyal": (1, D("2500")),
        "new": (1, D("100")),
        "at_risk": (1, D("6000")),
        "hibernating": (1, D("200")),
        "needs_attention": (0, D("0")),
    }
    with pytest.raises(UnknownSegment):
        behaviour.customers_in_segment("whales")


def test_top_customers_and_products_by_revenue(customers):
    today = timezone.localdate()
    year = Period(today - timedelta(days=364), today)

    top = behaviour.top_customers(period=year, limit=3)

    assert [(row.rank, row.customer.split(" ", 1)[1], row.invoices, row.revenue, row.share_percent) for row in top] == [
        (1, "Cleo", 2, D("6000.00"), D("46.9")),  # of 12,800
        (2, "Anna", 4, D("4000.00"), D("31.3")),
        (3, "Bert", 5, D("2500.00"), D("19.5")),
    ]
    [product] = behaviour.top_products(period=year)
    assert (product.description, product.quantity, product.revenue) == ("Service 1", D("13"), D("12800.00"))


def test_monthly_trend_counts_invoices_customers_and_average_size(customers):
    today = timezone.localdate()
    start = today - timedelta(days=364)

    trend = behaviour.monthly_trend(period=Period(start, today))

    assert next(row.month for row in trend) == start.replace(day=1)
    assert len(trend) == (today.year - start.year) * 12 + today.month - start.month + 1  # empty months too
    assert sum(row.invoices for row in trend) == 13  # Dora's invoice of 900 days ago is outside
    assert sum(row.revenue for row in trend) == D("12800.00")
    anna = next(row for row in trend if row.month == (today - timedelta(days=10)).replace(day=1))
    assert anna.invoices >= 1
    assert anna.average_invoice == (anna.revenue / anna.invoices).quantize(D("0.01"))


def test_credit_holds_by_outcome_and_hours_to_decision(clock, clerk, customer, widget, credit_controller):
    customer_services.place_credit_hold(customer=customer, actor=clerk, reason="cheque bounced")
    clock(date(2026, 5, 4))
    held = [placed_order(customer, clerk, (widget, "1")) for _ in range(4)]
    clock(date(2026, 5, 5))
    orders.release_credit_hold(order=held[0], actor=credit_controller, reason="paid in advance")
    orders.release_credit_hold(order=held[1], actor=credit_controller, reason="paid in advance")
    clock(date(2026, 5, 7))
    orders.reject_order(order=held[2], actor=credit_controller, reason="No payment guarantee")

    outcomes = behaviour.credit_hold_outcomes(period=Period(date(2026, 5, 1), date(2026, 5, 31)))

    assert [(row.outcome, row.orders, row.average_hours_to_decision) for row in outcomes] == [
        ("rejected", 1, D("72.0")),
        ("released", 2, D("24.0")),
        ("still held", 1, None),
    ]
    assert behaviour.credit_hold_outcomes(period=Period(date(2026, 6, 1), date(2026, 6, 30))) == []


def test_segments_and_payer_scores_are_shared_with_customers_for_automation_rules(customers):
    services.refresh_snapshots()

    written = services.share_behaviour_with_customers(on=timezone.localdate())

    shared = {row.customer_id: row for row in CustomerPaymentBehaviour.objects.all()}
    segments = {name: shared[customer.pk].segment for name, customer in customers.items()}
    assert segments == {"Anna": "champions", "Bert": "loyal", "Cleo": "at_risk", "Dora": "hibernating", "Emil": "new"}
    assert written == len(shared)
    scores = {row.customer_id: row.predicted_days_late for row in forecast.payer_scores(on=timezone.localdate())}
    assert {pk: row.predicted_days_late for pk, row in shared.items() if pk in scores} == scores
