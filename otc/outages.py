"""Redis outages, logged once each: the broker and the cache are both Redis, and neither one's absence
may fail a request (the outbox is in PostgreSQL; the cache only holds counters). An outage during a
busy hour is two log lines, the failure and the recovery with how many calls failed in between, not
one line per request. The count is per process."""

import threading

import structlog


class Outage:
    """Failed calls to one service since it last answered."""

    def __init__(self, service: str, detail: str) -> None:
        self.service = service
        self.detail = detail
        self._lock = threading.Lock()
        self.failures = 0

    def record_failure(self, error: Exception) -> None:
        with self._lock:
            self.failures += 1
            first = self.failures == 1
        if first:
            self._log("unreachable", error=str(error), detail=self.detail)

    def record_success(self) -> None:
        if not self.failures:  # the common case takes no lock
            return
        with self._lock:
            failed, self.failures = self.failures, 0
        if failed:
            self._log("recovered", failures=failed)

    def _log(self, what: str, **fields) -> None:
        # Bound at each call: an outage is rare, and a logger cached at import would outlive the
        # logging configuration it was bound under (tests capture these lines).
        structlog.get_logger(__name__).warning(f"{self.service}.{what}", **fields)
