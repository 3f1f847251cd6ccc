"""Workflows' records, one module per concern: the outbox and its deliveries (outbox), partner
webhooks (webhooks)."""

from workflows.models.outbox import (
    Delivery,
    DeliveryChannel,
    DeliveryStatus,
    EventStatus,
    HandlerRun,
    OutboxEvent,
)
from workflows.models.webhooks import (
    ALL_EVENTS,
    WebhookAttempt,
    WebhookDeadLetter,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookSubscription,
)

__all__ = [
    "ALL_EVENTS",
    "Delivery",
    "DeliveryChannel",
    "DeliveryStatus",
    "EventStatus",
    "HandlerRun",
    "OutboxEvent",
    "WebhookAttempt",
    "WebhookDeadLetter",
    "WebhookDelivery",
    "WebhookDeliveryStatus",
    "WebhookSubscription",
]
