"""Real threads racing on PostgreSQL: the database and the services must keep the invariants."""

from decimal import Decimal

import pytest

from inventory.models import StockLevel, StockMove
from orders import services
from orders.errors import IllegalOrderTransition
from orders.models import Order, OrderLine, OrderStatus
from otc.errors import DomainError
from tests.factories import qty
from tests.support.races import race

pytestmark = pytest.mark.django_db(transaction=True)
LineInput = services.LineInput


def test_eight_clerks_racing_for_the_last_units_never_oversell(clerk, customer, widget, settings):
    settings.OTC_SHORT_STOCK_POLICY = "refuse"
    StockLevel.objects.filter(product=widget).update(on_hand=Decimal("10"))
    StockMove.objects.create(
        product=widget,
        warehouse=widget.stock_levels.get().warehouse,
        kind="adjustment",
        on_hand_delta=Decimal("-90"),
        reserved_delta=0,
        reason="test: only 10 left",
    )
    orders = [
        services.create_order(actor=clerk, customer=customer, lines=[LineInput(widget, qty("3"))]) for _ in range(8)
    ]

    results = race(*[lambda order=order: services.confirm_order(order=order, actor=clerk) for order in orders])

    confirmed = [r for r in results if isinstance(r, Order)]
    refused = [r for r in results if isinstance(r, DomainError)]
    level = StockLevel.objects.get(product=widget)
    assert (len(confirmed), len(refused)) == (3, 5)
    assert level.reserved == Decimal("9")
    assert level.on_hand - level.reserved == Decimal("1")
    assert Order.objects.filter(status=OrderStatus.CONFIRMED).count() == 3
    assert OrderLine.objects.filter(order__status=OrderStatus.DRAFT, quantity_reserved__gt=0).count() == 0


def test_with_backorders_the_racers_share_exactly_what_is_there(clerk, customer, widget):
    orders = [
        services.create_order(actor=clerk, customer=customer, lines=[LineInput(widget, qty("30"))]) for _ in range(6)
    ]

    race(*[lambda order=order: services.confirm_order(order=order, actor=clerk) for order in orders])

    reserved = sum(line.quantity_reserved for line in OrderLine.objects.all())
    assert reserved == Decimal("100")
    assert StockLevel.objects.get(product=widget).reserved == Decimal("100")
    assert sum(line.quantity_backordered for line in OrderLine.objects.all()) == Decimal("80")


def test_confirming_the_same_order_twice_at_once_confirms_it_once(clerk, customer, widget):
    order = services.create_order(actor=clerk, customer=customer, lines=[LineInput(widget, qty("7"))])

    results = race(
        lambda: services.confirm_order(order=order, actor=clerk),
        lambda: services.confirm_order(order=order, actor=clerk),
    )

    assert sorted(type(r).__name__ for r in results) == ["IllegalOrderTransition", "Order"]
    assert StockLevel.objects.get(product=widget).reserved == Decimal("7")
    assert StockMove.objects.filter(kind="reservation").count() == 1


def test_cancelling_while_shipping_lets_exactly_one_win(clerk, customer, widget):
    order = services.create_order(actor=clerk, customer=customer, lines=[LineInput(widget, qty("5"))])
    services.confirm_order(order=order, actor=clerk)

    results = race(
        lambda: services.dispatch_shipment(order=order, actor=clerk),
        lambda: services.cancel_order(order=order, actor=clerk),
    )

    order.refresh_from_db()
    level = StockLevel.objects.get(product=widget)
    failures = [r for r in results if isinstance(r, IllegalOrderTransition)]
    assert len(failures) == 1
    if order.status == OrderStatus.SHIPPED:
        assert (level.on_hand, level.reserved, order.shipments.count()) == (Decimal("95"), 0, 1)
    else:
        assert order.status == OrderStatus.CANCELLED
        assert (level.on_hand, level.reserved, order.shipments.count()) == (Decimal("100"), 0, 0)


def test_two_orders_that_together_pass_the_credit_limit_are_not_both_confirmed(clerk, customer, widget):
    # 560 widgets at the 9.00 break with 19 % VAT: 5,997.60 each, 11,995.20 together, against a 10,000 limit.
    orders = [
        services.create_order(actor=clerk, customer=customer, lines=[LineInput(widget, qty("560"))]) for _ in range(2)
    ]

    race(*[lambda order=order: services.confirm_order(order=order, actor=clerk) for order in orders])

    statuses = sorted(Order.objects.values_list("status", "gross_total"))
    assert statuses == [
        (OrderStatus.CONFIRMED, Decimal("5997.60")),
        (OrderStatus.ON_CREDIT_HOLD, Decimal("5997.60")),
    ]
