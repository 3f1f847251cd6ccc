"""Workflows' records, one module per concern: the outbox and its deliveries (outbox), automation
rules with their versions, runs and delayed steps (rules)."""

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

__all__ = [
    "AutomationRule",
    "AutomationRuleVersion",
    "DelayedStep",
    "DelayedStepStatus",
    "Delivery",
    "DeliveryChannel",
    "DeliveryStatus",
    "EventStatus",
    "HandlerRun",
    "OutboxEvent",
    "RuleRun",
    "RuleRunStatus",
]
