"""Workflows in the admin, one module per screen: the outbox (events, handler runs, deliveries), the
operations view (lag, failures with retry, queues, scheduled jobs), notification templates (templates,
suppressions, staff notification settings), partner webhooks (subscriptions, delivery log, dead
letters) and automation rules (rules, versions, dry run, run log, delayed steps)."""

from workflows.admin import operations, outbox, rules, templates, webhooks

__all__ = ["operations", "outbox", "rules", "templates", "webhooks"]
