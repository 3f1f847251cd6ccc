"""Workflows in the admin, one module per screen: the outbox (events, handler runs, deliveries) and
partner webhooks (subscriptions, delivery log, dead letters)."""

from workflows.admin import outbox, webhooks

__all__ = ["outbox", "webhooks"]
