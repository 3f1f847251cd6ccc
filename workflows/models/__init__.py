"""Workflows' records, one module per concern: the outbox and its deliveries (outbox), the scheduled
jobs' last runs and the operations view (operations), partner webhooks (webhooks)."""

from workflows.models.operations import JobOutcome, OperationsView, ScheduledJobRun
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
    "JobOutcome",
    "OperationsView",
    "OutboxEvent",
    "ScheduledJobRun",
    "WebhookAttempt",
    "WebhookDeadLetter",
    "WebhookDelivery",
    "WebhookDeliveryStatus",
    "WebhookSubscription",
]
