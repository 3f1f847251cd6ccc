"""Backorders are served when stock arrives: a receipt announces itself, and the open orders waiting for
the product in that warehouse take it, oldest first, so what was backordered can ship."""

from decimal import Decimal

import pytest

from inventory import services as inventory
from orders import selectors
from orders.models import Order, OrderStatus
from tests.factories import make_product, placed_order, ship
from workflows.handlers import HANDLERS
from workflows.models import OutboxEvent
from workflows.services import dispatch_event

pytestmark = pytest.mark.django_db


def receive(product, warehouse, clerk, quantity: str) -> None:
    inventory.receive_stock(product=product, warehouse=warehouse, quantity=Decimal(quantity), actor=clerk)
    event = OutboxEvent.objects.filter(event_type="inventory.stock_received").latest("pk")
    dispatch_event(event_id=event.pk, handlers=HANDLERS)
    dispatch_event(event_id=event.pk, handlers=HANDLERS)  # delivered twice: served once


def lines(order: Order) -> list[tuple[Decimal, Decimal]]:
    return [(line.quantity_reserved, line.quantity_backordered) for line in order.lines.order_by("line_no")]


def test_stock_received_goes_to_the_oldest_backordered_orders_first(customer, clerk, widget, warehouse):
    first = placed_order(customer, clerk, (widget, "130"))  # 100 in stock: 30 backordered
    second = placed_order(customer, clerk, (widget, "10"))  # all 10 backordered
    assert (lines(first), lines(second)) == ([(100, 30)], [(0, 10)])

    receive(widget, warehouse, clerk, "35")

    assert (lines(first), lines(second)) == ([(130, 0)], [(5, 5)])
    level = widget.stock_levels.get(warehouse=warehouse)
    assert (level.on_hand, level.reserved) == (Decimal("135"), Decimal("135"))

    shipment = ship(first, clerk)
    first.refresh_from_db()
    assert (first.status, shipment.lines.get().quantity) == (OrderStatus.SHIPPED, Decimal("130"))


def test_a_receipt_no_order_waits_for_stays_available(customer, clerk, widget, warehouse):
    placed_order(customer, clerk, (widget, "40"))

    receive(widget, warehouse, clerk, "25")

    level = widget.stock_levels.get(warehouse=warehouse)
    assert (level.on_hand, level.reserved) == (Decimal("125"), Decimal("40"))


def test_an_unshipped_service_line_is_not_a_backorder(customer, clerk, widget):
    setup = make_product(actor=clerk, sku="SETUP", price="80.00", kind="service")
    with_service = placed_order(customer, clerk, (widget, "5"), (setup, "1"))
    short = placed_order(customer, clerk, (widget, "200"))

    backordered = Order.objects.filter(selectors.backordered_condition())

    assert list(backordered) == [short]
    assert with_service.status == OrderStatus.CONFIRMED
