"""Workflows in the admin, one module per screen: the outbox (events, handler runs, deliveries), the
operations view (lag, failures with retry, queues, scheduled jobs) and partner webhooks
(subscriptions, delivery log, dead letters)."""

from workflows.admin import operations, outbox, webhooks

__all__ = ["operations", "outbox", "webhooks"]
