"""Handing committed outbox rows to the broker (Redis). The rows are already in PostgreSQL, so a
broker that is down only delays them (the sweeper re-enqueues what stays pending) and never fails
the caller; the outage is logged once (otc.outages)."""

from celery import Task

from otc import broker
from otc.outages import Outage

outage = Outage("broker", detail="events stay pending; the sweeper resends")


def enqueue(task: Task, *args) -> bool:
    """Send `task` to the broker; False when the broker cannot take it (counted in the outage)."""
    return broker.enqueue(task, *args, outage=outage)
