"""Domain events of inventory, sent inside the changing transaction. Payloads are JSON-ready."""

from django.dispatch import Signal

# product_id, warehouse_id, available (str decimal), minimum (str decimal), reorder_quantity (str decimal)
low_stock = Signal()
