"""Workflows' records, one module per concern: the outbox and its deliveries (outbox), the scheduled
jobs' last runs and the operations view (operations), partner webhooks (webhooks), automation rules
with their versions, runs and delayed steps (rules)."""

from workflows.models.operations import JobOutcome, OperationsView, ScheduledJobRun
from workflows.models.outbox import (
    Delivery,
    DeliveryChannel,
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
    "DeliveryStatus",
    "EventStatus",
    "HandlerRun",
    "JobOutcome",
    "OperationsView",
    "OutboxEvent",
    "RuleRun",
    "RuleRunStatus",
    "ScheduledJobRun",
    "WebhookAttempt",
    "WebhookDeadLetter",
    "WebhookDelivery",
    "WebhookDeliveryStatus",
    "WebhookSubscription",
]
