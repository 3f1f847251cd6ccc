"""Workflows in the admin, one module per screen: the outbox (events, handler runs, deliveries) and
automation rules (rules, versions, dry run, run log, delayed steps)."""

from workflows.admin import outbox, rules

__all__ = ["outbox", "rules"]
