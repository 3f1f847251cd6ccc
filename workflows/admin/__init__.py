"""Workflows in the admin, one module per screen: the outbox (events, handler runs, deliveries) and
notification templates (templates, suppressions, staff notification settings)."""

from workflows.admin import outbox, templates

__all__ = ["outbox", "templates"]
