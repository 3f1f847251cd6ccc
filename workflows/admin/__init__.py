"""Workflows in the admin, one module per screen: the outbox (events, handler runs, deliveries)."""

from workflows.admin import outbox

__all__ = ["outbox"]
