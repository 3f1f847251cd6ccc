"""A simulated business buys stock for its size: the demo's stock serves 50 customers."""

from decimal import Decimal

import pytest

from inventory.models import ReorderPoint, StockLevel, StockMove
from simulation.purchasing import size_purchasing
from workflows.demo_setup import reference_data

pytestmark = pytest.mark.django_db
D = Decimal


def stock() -> dict[str, tuple[Decimal, Decimal, Decimal]]:
    """Per SKU: reorder minimum, reorder quantity, stock on hand."""
    on_hand = {level.product.sku: level.on_hand for level in StockLevel.objects.select_related("product")}
    return {
        point.product.sku: (point.minimum, point.reorder_quantity, on_hand[point.product.sku])
        for point in ReorderPoint.objects.select_related("product")
    }


def test_a_business_of_500_customers_opens_with_and_reorders_ten_times_the_demo_stock():
    staff, _ = reference_data()

    size_purchasing(customers=500, actor=staff["finance@demo.otc"])

    sized = stock()
    assert sized["WID-100"] == (D("800"), D("4000"), D("4000"))
    assert sized["FLT-10"] == (D("24"), D("120"), D("120"))
    size_purchasing(customers=500, actor=staff["finance@demo.otc"])  # a training sandbox, reset again
    assert stock() == sized


def test_up_to_50_customers_keep_the_demo_stock_and_receive_nothing():
    staff, _ = reference_data()
    demo, moves = stock(), StockMove.objects.count()

    size_purchasing(customers=25, actor=staff["finance@demo.otc"])

    assert stock() == demo
    assert demo["WID-100"] == (D("80"), D("400"), D("400"))
    assert StockMove.objects.count() == moves
