"""Handing work that is already recorded in PostgreSQL (an outbox row, a queued upload) to the broker
(Redis). A broker that is down only delays the work, since a sweeper re-enqueues what stays pending,
and never fails the caller; the outage is logged once (otc.outages)."""

from celery import Task

from otc.outages import Outage


def enqueue(task: Task, *args, outage: Outage) -> bool:
    """Send `task` to the broker; False when the broker cannot take it (counted in `outage`)."""
    try:
        task.delay(*args)
    except Exception as error:
        outage.record_failure(error)
        return False
    outage.record_success()
    return True
