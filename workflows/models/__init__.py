"""Workflows' records, one module per concern: the outbox and its deliveries (outbox), the scheduled
jobs' last runs and the operations view (operations)."""

from workflows.models.operations import JobOutcome, OperationsView, ScheduledJobRun
from workflows.models.outbox import (
    Delivery,
    DeliveryChannel,
    DeliveryStatus,
    EventStatus,
    HandlerRun,
    OutboxEvent,
)

__all__ = [
    "Delivery",
    "DeliveryChannel",
    "DeliveryStatus",
    "EventStatus",
    "HandlerRun",
    "JobOutcome",
    "OperationsView",
    "OutboxEvent",
    "ScheduledJobRun",
]
