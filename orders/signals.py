"""Domain events of order entry and fulfilment, sent inside the changing transaction.
Payloads are JSON-ready: ids and plain values."""

from django.dispatch import Signal

# order_id, customer_id, actor_id
order_confirmed = Signal()
# order_id, customer_id, actor_id, reason
order_put_on_credit_hold = Signal()
# order_id, customer_id, actor_id
order_credit_hold_released = Signal()
# order_id, customer_id, actor_id, reason
order_rejected = Signal()
# order_id, customer_id, actor_id
order_cancelled = Signal()
# shipment_id, order_id, customer_id, actor_id
shipment_dispatched = Signal()
# shipment_id, order_id, customer_id, actor_id
shipment_delivered = Signal()
# return_id, order_id, customer_id, actor_id
goods_returned = Signal()
