"""The stock a simulated business buys for its size.

The demo catalogue's opening stock and reorder points (`workflows.demo_setup.CATALOGUE`) serve about
50 customers. With 5,000 the shelves were empty on the first day and stayed so: orders waited for
stock, shipping and invoicing all but stopped, and a large run measured a backlog, not a business. A
simulation of more customers opens with stock and reorders in proportion, so that it runs short as
the demo does, at its own scale.
"""

from decimal import ROUND_CEILING, Decimal

from django.contrib.auth.models import AbstractBaseUser

from inventory import services as inventory
from inventory.models import ReorderPoint, StockLevel
from workflows.demo_setup import CATALOGUE, reorder_levels

SIZED_FOR = 50  # customers the demo's stock serves


def size_purchasing(*, customers: int, actor: AbstractBaseUser) -> None:
    """Give each stocked product the demo's opening stock times customers / 50 (at least the demo's):
    its reorder point set as the demo sets it for that stock, its stock topped up to it. Setting, not
    multiplying: a training sandbox sized again each night stays the same size."""
    scale = max(Decimal(1), Decimal(customers) / SIZED_FOR)
    opening = {sku: Decimal(stock) * scale for sku, _name, _tax, kind, _price, stock in CATALOGUE if kind == "stocked"}
    points = ReorderPoint.objects.filter(product__sku__in=opening).select_related("product", "warehouse")
    for point in points:
        stock = opening[point.product.sku]
        ReorderPoint.objects.filter(pk=point.pk).update(**reorder_levels(stock))
        level = StockLevel.objects.filter(product=point.product, warehouse=point.warehouse).first()
        missing = (stock - (level.available if level else Decimal(0))).to_integral_value(ROUND_CEILING)
        if missing > 0:
            inventory.receive_stock(
                product=point.product,
                warehouse=point.warehouse,
                quantity=missing,
                actor=actor,
                reference=f"Opening stock for {customers} customers",
            )
