"""Who hears of inventory events: the staff who receive low-stock alerts."""

from inventory.events import LowStock
from inventory.models import Product, Warehouse
from otc.notices import Notice
from otc.roles import staff_with_permission


def low_stock(event: LowStock) -> list[Notice]:
    """Everyone holding `inventory.receive_low_stock_alerts` hears that a product fell below its reorder point."""
    recipients = [user.email for user in staff_with_permission("inventory.receive_low_stock_alerts")]
    if not recipients:
        return []
    context = {
        "product": Product.objects.get(pk=event.product_id),
        "warehouse": Warehouse.objects.get(pk=event.warehouse_id),
        "available": event.available,
        "minimum": event.minimum,
        "reorder_quantity": event.reorder_quantity,
    }
    return [Notice(recipients, "low_stock", context)]
