"""Workflows' records, one module per concern: the outbox and its deliveries (outbox), notification
templates, suppressions and staff notification settings (templates)."""

from workflows.models.outbox import (
    Delivery,
    DeliveryChannel,
    DeliveryOutcome,
    DeliveryStatus,
    EventStatus,
    HandlerRun,
    OutboxEvent,
)
from workflows.models.templates import (
    NotificationChannel,
    NotificationTemplate,
    NotificationTemplateVersion,
    StaffDigest,
    StaffNotificationSettings,
    Suppression,
    SuppressionReason,
)

__all__ = [
    "Delivery",
    "DeliveryChannel",
    "DeliveryOutcome",
    "DeliveryStatus",
    "EventStatus",
    "HandlerRun",
    "NotificationChannel",
    "NotificationTemplate",
    "NotificationTemplateVersion",
    "OutboxEvent",
    "StaffDigest",
    "StaffNotificationSettings",
    "Suppression",
    "SuppressionReason",
]
