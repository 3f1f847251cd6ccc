"""Read side of orders: lists at a constant query cost, the credit-hold queue, timelines, and the
customer's exposure against the credit limit (open orders here, receivables from the ledger)."""

from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import DecimalField, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from customers.models import CreditProfile, Customer
from customers.selectors import CUSTOMER_SEARCH
from inventory.models import ProductKind
from ledger.selectors import receivable_balances
from orders.models import (
    ALLOWED_TRANSITIONS,
    OPEN_STATUSES,
    Order,
    OrderLine,
    OrderStatus,
    OrderTimelineEntry,
    ReturnRequest,
    ReturnRequestLine,
    ReturnRequestStatus,
    Shipment,
    ShipmentLine,
    ShipmentStatus,
)
from otc.exchange_rates import convert
from otc.money import quantize
from otc.search import SearchSpec


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


def _line_total(queryset: QuerySet) -> Coalesce:
    """The sum of `quantity` per order line of `queryset` (rows pointing at the outer line), 0 if none."""
    summed = queryset.filter(order_line=OuterRef("pk")).values("order_line").annotate(total=Sum("quantity"))
    field = DecimalField(max_digits=14, decimal_places=3)
    return Coalesce(Subquery(summed.values("total"), output_field=field), Value(0, output_field=field))


def returnable_lines(*, order: Order) -> QuerySet[OrderLine]:
    """The order's lines with `returnable`: delivered, less returned, less asked for in open return
    requests (a customer may ask to return only what reached them)."""
    delivered = _line_total(ShipmentLine.objects.filter(shipment__status=ShipmentStatus.DELIVERED))
    requested = _line_total(ReturnRequestLine.objects.filter(request__status=ReturnRequestStatus.REQUESTED))
    return (
        order.lines.select_related("product")
        .annotate(returnable=delivered - F("quantity_returned") - requested)
        .order_by("line_no")
    )


def returnable_quantities(*, order: Order) -> dict[int, Decimal]:
    """What each line may still be asked back for, by line id; lines with nothing to return are left out."""
    return {line.pk: line.returnable for line in returnable_lines(order=order) if line.returnable > 0}


def shipment_list() -> QuerySet[Shipment]:
    """Shipments with their order and lines, as the API shows them."""
    return Shipment.objects.select_related("order").prefetch_related("lines__order_line")


def return_request_list() -> QuerySet[ReturnRequest]:
    """Return requests with their order, return order and lines, as the API shows them."""
    return ReturnRequest.objects.select_related("order", "return_order").prefetch_related("lines__order_line__product")


def order_return_requests(*, order: Order) -> QuerySet[ReturnRequest]:
    """An order's return requests with their lines, newest first, in two queries."""
    return order.return_requests.select_related("return_order").prefetch_related("lines__order_line").order_by("-pk")


def credit_hold_queue() -> QuerySet[Order]:
    return order_list().filter(status=OrderStatus.ON_CREDIT_HOLD).order_by("created_at")


# Orders by number (whole or its start), PO number, or their customer's number or name.
ORDER_SEARCH = SearchSpec(prefix=("number",), exact=("po_number",), related=(("customer", CUSTOMER_SEARCH),))

# Orders released to the warehouse: what is still to be shipped on them.
SHIPPABLE_STATUSES = [OrderStatus.CONFIRMED, OrderStatus.PARTIALLY_SHIPPED]


def backordered_condition() -> Q:
    """A released order with a stocked line that stock could not cover: ordered beyond what is shipped
    and reserved (a service line holds no stock and waits for nothing). The dashboard counts these and
    the order list filters by the same condition."""
    short = OrderLine.objects.filter(
        order=OuterRef("pk"),
        product__kind=ProductKind.STOCKED,
        quantity__gt=F("quantity_shipped") + F("quantity_reserved"),
    )
    return Q(status__in=SHIPPABLE_STATUSES) & Q(Exists(short))


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


def open_receivables(customer: Customer, currency: str) -> Decimal:
    """The customer's receivable balances in the ledger, converted into `currency` at today's rates."""
    today = timezone.localdate()
    return sum(
        (
            convert(amount, from_currency=code, to_currency=currency, on=today)
            for code, amount in receivable_balances(customer=customer).items()
        ),
        Decimal("0"),
    )


@dataclass(frozen=True)
class Exposure:
    """What the customer owes or has committed to, against the credit limit, in the credit currency."""

    currency: str
    credit_limit: Decimal
    open_orders: Decimal
    open_receivables: Decimal

    @property
    def total(self) -> Decimal:
        return self.open_orders + self.open_receivables

    @property
    def available(self) -> Decimal:
        return self.credit_limit - self.total


def customer_exposure(*, customer: Customer, credit: CreditProfile | None = None) -> Exposure:
    """Open orders plus the ledger's receivable balance, each read by a plain call: no source can
    be missing and silently count as zero. `credit` is the customer's credit profile when the caller
    has just read it (the credit check reads it with the locked order)."""
    credit = credit or CreditProfile.objects.get(customer_id=customer.pk)
    return Exposure(
        currency=credit.credit_currency,
        credit_limit=credit.credit_limit,
        open_orders=open_order_value(customer, credit.credit_currency),
        open_receivables=open_receivables(customer, credit.credit_currency),
    )


# What an order's state allows (orders.models.ALLOWED_TRANSITIONS); the services refuse the rest,
# the admin offers only these.


def is_draft(order: Order) -> bool:
    return order.status == OrderStatus.DRAFT


def is_on_credit_hold(order: Order) -> bool:
    return order.status == OrderStatus.ON_CREDIT_HOLD


def may_be_cancelled(order: Order) -> bool:
    return OrderStatus.CANCELLED in ALLOWED_TRANSITIONS[order.status]


def was_confirmed(order: Order) -> bool:
    """Confirmed at some point: the order has its confirmation (a later cancellation keeps it)."""
    return order.confirmed_at is not None


def may_ship(order: Order) -> bool:
    return OrderStatus.SHIPPED in ALLOWED_TRANSITIONS[order.status]


def has_shipped_goods(order: Order) -> bool:
    return order.status in {OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED, OrderStatus.COMPLETED}


def is_undecided(request: ReturnRequest) -> bool:
    return request.status == ReturnRequestStatus.REQUESTED
