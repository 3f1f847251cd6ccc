"""The outbox, the Celery queues and the scheduled jobs as Prometheus metrics, read at scrape time
from workflows.selectors (the figures the operations view shows), by one collector in the default
registry (registered in workflows.apps), so they appear on whatever serves that registry (/metrics).

A source that fails (the database, the broker) is logged and left out of that scrape: the other
figures still go out, and a scrape never fails because one source is down.
"""

from collections.abc import Iterable, Iterator

import structlog
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from workflows import selectors
from workflows.models import EventStatus

logger = structlog.get_logger(__name__)


def _families() -> dict[str, GaugeMetricFamily]:
    return {
        "lag": GaugeMetricFamily(
            "otc_outbox_lag_seconds", "Age of the oldest pending outbox event (0 when none is pending)."
        ),
        "events": GaugeMetricFamily(
            "otc_outbox_events",
            "Outbox events waiting (pending) or given up (failed), per event type.",
            labels=["status", "event_type"],
        ),
        "deliveries": GaugeMetricFamily(
            "otc_deliveries",
            "Deliveries pending, sending, failed (backing off) or given up, per channel.",
            labels=["status", "channel"],
        ),
        "broker_up": GaugeMetricFamily(
            "otc_celery_broker_up", "1 when the Redis broker answered this scrape, 0 when it did not."
        ),
        "queues": GaugeMetricFamily(
            "otc_celery_queue_length", "Messages waiting in the broker, per Celery queue.", labels=["queue"]
        ),
        "last_run": GaugeMetricFamily(
            "otc_scheduled_job_last_run_timestamp",
            "When the scheduled job last started (Unix time); absent for a job that never ran.",
            labels=["job"],
        ),
        "last_success": GaugeMetricFamily(
            "otc_scheduled_job_last_success_timestamp",
            "When the scheduled job last finished successfully (Unix time); absent if it never did.",
            labels=["job"],
        ),
        "late": GaugeMetricFamily(
            "otc_scheduled_job_late",
            "1 when the scheduled job has not started for twice its interval.",
            labels=["job"],
        ),
    }


class OperationsCollector(Collector):
    def describe(self) -> Iterable[Metric]:
        """The families without samples: registering must not query the database or the broker."""
        return _families().values()

    def collect(self) -> Iterator[Metric]:
        families = _families()
        for source in (_outbox, _broker, _scheduled_jobs):
            try:
                source(families)
            except Exception:
                logger.warning("metrics.source_failed", source=source.__name__, exc_info=True)
        yield from families.values()


def _outbox(families: dict[str, GaugeMetricFamily]) -> None:
    lag = selectors.outbox_lag()
    for status, counts in (
        (EventStatus.PENDING, selectors.pending_by_type()),
        (EventStatus.FAILED, selectors.failed_by_type()),
    ):
        for event_type, count in counts.items():
            families["events"].add_metric([status, event_type], count)
    for (status, channel), count in selectors.deliveries_by_status_and_channel().items():
        families["deliveries"].add_metric([status, channel], count)
    families["lag"].add_metric([], lag.total_seconds() if lag else 0.0)


def _broker(families: dict[str, GaugeMetricFamily]) -> None:
    queues = selectors.queue_depths()
    if queues.state in {"reachable", "unreachable"}:
        families["broker_up"].add_metric([], 1 if queues.state == "reachable" else 0)
    for queue, length in queues.lengths.items():
        families["queues"].add_metric([queue], length)


def _scheduled_jobs(families: dict[str, GaugeMetricFamily]) -> None:
    for job in selectors.scheduled_jobs():
        families["late"].add_metric([job.job], 1 if job.late else 0)
        if job.last_run is not None:
            families["last_run"].add_metric([job.job], job.last_run.started_at.timestamp())
            if job.last_run.last_succeeded_at is not None:
                families["last_success"].add_metric([job.job], job.last_run.last_succeeded_at.timestamp())


def register(registry: CollectorRegistry) -> OperationsCollector:
    """Add the collector to `registry` (once per process, from WorkflowsConfig.ready)."""
    collector = OperationsCollector()
    registry.register(collector)
    return collector
