"""Workflows' records, one module per concern: the outbox and its deliveries (outbox)."""

from workflows.models.outbox import (
    Delivery,
    DeliveryChannel,
    DeliveryStatus,
    EventStatus,
    HandlerRun,
    OutboxEvent,
)

__all__ = ["Delivery", "DeliveryChannel", "DeliveryStatus", "EventStatus", "HandlerRun", "OutboxEvent"]
