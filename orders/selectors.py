"""Read side of orders: lists at a constant query cost, the credit-hold queue, timelines, exposure."""

from decimal import Decimal

from django.db import connection
from django.db.models import Prefetch, QuerySet

from customers.models import Customer
from orders.models import OPEN_STATUSES, Order, OrderLine, OrderStatus, OrderTimelineEntry
from otc.money import quantize


def order_list() -> QuerySet[Order]:
    return Order.objects.select_related("customer", "warehouse", "created_by")


def order_detail(*, pk: int) -> Order:
    return (
        Order.objects.select_related("customer", "warehouse")
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.select_related("product")),
            "shipments__lines__order_line",
            Prefetch("timeline", queryset=OrderTimelineEntry.objects.select_related("actor", "shipment")),
        )
        .get(pk=pk)
    )


def credit_hold_queue() -> QuerySet[Order]:
    return order_list().filter(status=OrderStatus.ON_CREDIT_HOLD).order_by("created_at")


def order_timeline(*, order: Order) -> QuerySet[OrderTimelineEntry]:
    return order.timeline.select_related("actor", "shipment").order_by("at", "pk")


def open_order_value(customer: Customer, currency: str) -> Decimal:
    """Unshipped gross value of the customer's open orders in `currency`: their order exposure."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT COALESCE(SUM((l.quantity - l.quantity_shipped) / l.quantity * (l.net_amount + l.tax_amount)), 0)
              FROM orders_orderline l JOIN orders_order o ON o.id = l.order_id
             WHERE o.customer_id = %s AND o.currency = %s AND o.status = ANY(%s)
            """,
            [customer.pk, currency, [str(status) for status in OPEN_STATUSES]],
        )
        (value,) = cursor.fetchone()
    return quantize(value, currency)
