"""Workflows in the admin, one module per screen: the outbox (events, handler runs, deliveries) and the
operations view (lag, failures with retry, queues, scheduled jobs)."""

from workflows.admin import operations, outbox

__all__ = ["operations", "outbox"]
