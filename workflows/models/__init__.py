"""Workflows' records, one module per concern: the outbox and its deliveries (outbox), the scheduled
jobs' last runs and the operations view (operations), notification templates, suppressions and staff
notification settings (templates), partner webhooks (webhooks), automation rules with their versions,
runs and delayed steps (rules)."""

from workflows.models.operations import JobOutcome, OperationsView, ScheduledJobRun
from workflows.models.outbox import (
    Delivery,
    DeliveryChannel,
    DeliveryOutcome,
    DeliveryStatus,
    EventStatus,
    HandlerRun,
    OutboxEvent,
)
from workflows.models.rules import (
    AutomationRule,
    AutomationRuleVersion,
    DelayedStep,
    DelayedStepStatus,
    RuleRun,
    RuleRunStatus,
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
    "AutomationRule",
    "AutomationRuleVersion",
    "DelayedStep",
    "DelayedStepStatus",
    "Delivery",
    "DeliveryChannel",
    "DeliveryOutcome",
    "DeliveryStatus",
    "EventStatus",
    "HandlerRun",
    "JobOutcome",
    "NotificationChannel",
    "NotificationTemplate",
    "NotificationTemplateVersion",
    "OperationsView",
    "OutboxEvent",
    "RuleRun",
    "RuleRunStatus",
    "ScheduledJobRun",
    "StaffDigest",
    "StaffNotificationSettings",
    "Suppression",
    "SuppressionReason",
    "WebhookAttempt",
    "WebhookDeadLetter",
    "WebhookDelivery",
    "WebhookDeliveryStatus",
    "WebhookSubscription",
]
