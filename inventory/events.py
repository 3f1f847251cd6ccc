"""Domain events of inventory, published inside the changing transaction (see `otc.events`)."""

from dataclasses import dataclass
from decimal import Decimal

from otc.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class LowStock(DomainEvent):
    """A product's available stock in a warehouse fell below its reorder point."""

    type = "inventory.low_stock"
    product_id: int
    sku: str
    warehouse_id: int
    warehouse_code: str
    available: Decimal
    minimum: Decimal
    reorder_quantity: Decimal


@dataclass(frozen=True, kw_only=True)
class StockReceived(DomainEvent):
    """Goods arrived in a warehouse: orders waiting for the product there can now be reserved."""

    type = "inventory.stock_received"
    product_id: int
    sku: str
    warehouse_id: int
    warehouse_code: str
    quantity: Decimal
    on_hand: Decimal
