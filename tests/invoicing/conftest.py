from decimal import Decimal

import pytest

from orders import services as orders
from tests.orders import conftest as orders_fixtures

# The order fixtures, shared: a customer with a 10,000 limit, a warehouse, and two products.
customer, warehouse, widget, manual = (
    orders_fixtures.customer,
    orders_fixtures.warehouse,
    orders_fixtures.widget,
    orders_fixtures.manual,
)
reduced_rate, credit_controller = orders_fixtures.reduced_rate, orders_fixtures.credit_controller


def ship(order, clerk, **quantities):
    """Dispatch `quantities` by product SKU (all reserved goods when empty)."""
    by_sku = {line.product.sku: line.pk for line in order.lines.select_related("product")}
    return orders.dispatch_shipment(
        order=order,
        actor=clerk,
        quantities={by_sku[sku]: Decimal(qty) for sku, qty in quantities.items()} or None,
        carrier="DHL",
        tracking_number="00340434161094042557",
    )


@pytest.fixture
def confirmed_order(clerk, customer, widget, manual):
    """12 widgets at the 9.00 break −5% and 3 manuals at 19.99 (7%), with a 2% order discount."""
    order = orders.create_order(
        actor=clerk,
        customer=customer,
        discount_percent=Decimal("2"),
        po_number="PO-4711",
        lines=[
            orders.LineInput(widget, Decimal("12"), Decimal("5")),
            orders.LineInput(manual, Decimal("3")),
        ],
    )
    return orders.confirm_order(order=order, actor=clerk)


@pytest.fixture
def shipment(confirmed_order, clerk):
    return ship(confirmed_order, clerk)
