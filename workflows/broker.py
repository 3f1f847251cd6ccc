"""Handing committed outbox rows to the broker (Redis). The rows are already in PostgreSQL, so a
broker that is down only delays them (the sweeper re-enqueues what stays pending) and never fails
the caller. The failure is logged once per outage and the recovery with how many hand-overs failed,
so an outage during a busy hour is two log lines, not one per order. The count is per process."""

import threading

import structlog
from celery import Task


def _log(event: str, **fields) -> None:
    """Bound at each call: an outage is rare, and a logger cached at import would outlive the logging
    configuration it was bound under (tests capture these two lines)."""
    structlog.get_logger(__name__).warning(event, **fields)


class BrokerOutage:
    """Failed hand-overs since the broker last took one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.failed_publishes = 0

    def record_failure(self, error: Exception) -> None:
        with self._lock:
            self.failed_publishes += 1
            first = self.failed_publishes == 1
        if first:
            _log("broker.unreachable", error=str(error), detail="events stay pending; the sweeper resends")

    def record_success(self) -> None:
        with self._lock:
            failed, self.failed_publishes = self.failed_publishes, 0
        if failed:
            _log("broker.recovered", failed_publishes=failed)


outage = BrokerOutage()


def enqueue(task: Task, *args) -> bool:
    """Send `task` to the broker; False when the broker cannot take it (counted in the outage)."""
    try:
        task.delay(*args)
    except Exception as error:
        outage.record_failure(error)
        return False
    outage.record_success()
    return True
