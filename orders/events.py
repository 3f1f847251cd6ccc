"""Domain events of order entry and fulfilment, published inside the changing transaction (see `otc.events`)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from otc.events import Amount, Currency, DomainEvent


@dataclass(frozen=True, kw_only=True)
class OrderEvent(DomainEvent):
    """Something happened to an order."""

    order_id: int
    order_number: str
    customer_id: int
    customer_number: str
    actor_id: int


@dataclass(frozen=True, kw_only=True)
class OrderConfirmed(OrderEvent):
    """An order was confirmed (its stock reserved, what is missing on backorder)."""

    type = "order.confirmed"
    currency: Currency
    gross_total: Amount


@dataclass(frozen=True, kw_only=True)
class OrderPutOnCreditHold(OrderEvent):
    """An order failed the credit check and waits for credit control to release or reject it."""

    type = "order.put_on_credit_hold"
    reason: str
    currency: Currency
    gross_total: Amount


@dataclass(frozen=True, kw_only=True)
class OrderCreditHoldReleased(OrderEvent):
    """Credit control released an order from credit hold."""

    type = "order.credit_hold_released"


@dataclass(frozen=True, kw_only=True)
class OrderRejected(OrderEvent):
    """An order on credit hold was rejected."""

    type = "order.rejected"
    reason: str


@dataclass(frozen=True, kw_only=True)
class OrderCancelled(OrderEvent):
    """An order not yet shipped was cancelled; its reservations went back to stock."""

    type = "order.cancelled"
    reason: str


@dataclass(frozen=True, kw_only=True)
class ShipmentEvent(OrderEvent):
    """Something happened to a shipment of an order."""

    shipment_id: int
    shipment_number: str


@dataclass(frozen=True, kw_only=True)
class ShipmentDispatched(ShipmentEvent):
    """Goods left the warehouse."""

    type = "shipment.dispatched"
    carrier: str
    tracking_number: str


@dataclass(frozen=True, kw_only=True)
class ShipmentDelivered(ShipmentEvent):
    """The carrier confirmed a shipment's delivery."""

    type = "shipment.delivered"
    delivered_at: datetime


@dataclass(frozen=True, kw_only=True)
class GoodsReturned(OrderEvent):
    """Goods of an order came back (a return order was registered)."""

    type = "order.goods_returned"
    return_id: int
    return_number: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class ReturnRequested(OrderEvent):
    """A customer asked to send back delivered goods; sales decide in the return-request queue."""

    type = "order.return_requested"
    return_request_id: int
    return_request_number: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class ReturnRequestDecided(OrderEvent):
    """Sales approved a return request (the return is registered, the credit note follows) or refused it."""

    type = "order.return_request_decided"
    return_request_id: int
    return_request_number: str
    decision: Literal["approved", "refused"]
    return_number: str
    refusal_reason: str
