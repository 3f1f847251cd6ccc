"""The read side of operations: how far behind the outbox is, what failed, how full the Celery queues
are and when each scheduled job last ran. The admin's operations view and the Prometheus collector
(workflows.metrics) both read these, so the page and the metrics always agree.

Every query reads only the rows still waiting or failed, through partial indexes (outbox_pending,
outbox_failed, outbound_delivery_open, outbound_delivery_failing): never the done events or the sent
emails, which grow without bound.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import urlsplit

import redis
from celery.schedules import crontab
from celery.schedules import schedule as every
from django.conf import settings
from django.db.models import Count
from django.utils import timezone
from kombu.transport.redis import PRIORITY_STEPS, Channel

from workflows.models import Delivery, DeliveryStatus, EventStatus, OutboxEvent, ScheduledJobRun

RECENT_FAILURES = 50
"""How many failed events and deliveries the operations view lists (newest first)."""
BROKER_TIMEOUT_SECONDS = 1.0
"""A broker that does not answer within this makes the page say "unreachable", not wait."""
OPEN_DELIVERY_STATUSES = [DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.FAILED]


def outbox_lag(*, now: datetime | None = None) -> timedelta | None:
    """The age of the oldest pending event (None when nothing is pending): how far behind the outbox is."""
    oldest = (
        OutboxEvent.objects.filter(status=EventStatus.PENDING)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    return None if oldest is None else (now or timezone.now()) - oldest


def pending_by_type() -> dict[str, int]:
    """Pending events per event type (including those backing off after a failed attempt)."""
    return _events_by_type(EventStatus.PENDING)


def failed_by_type() -> dict[str, int]:
    """Events given up per event type (OUTBOX_MAX_ATTEMPTS failed attempts); they wait for a retry."""
    return _events_by_type(EventStatus.FAILED)


def _events_by_type(status: str) -> dict[str, int]:
    rows = (
        OutboxEvent.objects.filter(status=status)
        .order_by("event_type")
        .values("event_type")
        .annotate(count=Count("pk"))
        .values_list("event_type", "count")
    )
    return dict(rows)


def failed_events(*, limit: int = RECENT_FAILURES) -> list[OutboxEvent]:
    """The most recent events given up, with the error their last attempt ended in."""
    return list(OutboxEvent.objects.filter(status=EventStatus.FAILED).order_by("-created_at", "-pk")[:limit])


def failed_deliveries(*, limit: int = RECENT_FAILURES) -> list[Delivery]:
    """The most recent deliveries that failed (backing off) or were given up, with their last error."""
    return list(
        Delivery.objects.filter(status__in=[DeliveryStatus.FAILED, DeliveryStatus.GIVEN_UP])
        .order_by("-created_at", "-pk")
        .only("pk", "channel", "recipient", "subject", "status", "attempts", "next_attempt_at", "last_error")[:limit]
    )


def deliveries_by_status_and_channel() -> dict[tuple[str, str], int]:
    """Deliveries still open (pending, sending, failed) or given up, per status and channel. Sent ones
    are history, not a level to watch, and are not counted."""
    counts: dict[tuple[str, str], int] = {}
    for statuses in (OPEN_DELIVERY_STATUSES, [DeliveryStatus.GIVEN_UP]):
        rows = (
            Delivery.objects.filter(status__in=statuses)
            .order_by("status", "channel")
            .values("status", "channel")
            .annotate(count=Count("pk"))
            .values_list("status", "channel", "count")
        )
        counts |= {(status, channel): count for status, channel, count in rows}
    return counts


# --- Celery queues ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BrokerQueues:
    """The length of each queue the project sends tasks to, as the broker reports it.

    `state` is "reachable", "unreachable" (with the error), "in_process" (no broker: REDIS_URL is unset
    and tasks run eagerly) or "not_measured" (a broker other than Redis)."""

    state: Literal["reachable", "unreachable", "in_process", "not_measured"]
    lengths: dict[str, int]
    detail: str = ""


def project_queues() -> list[str]:
    """The default queue and any queue named in CELERY_TASK_ROUTES or CELERY_TASK_QUEUES."""
    queues = {settings.CELERY_TASK_DEFAULT_QUEUE}
    routes = getattr(settings, "CELERY_TASK_ROUTES", None) or {}
    queues |= {route["queue"] for route in routes.values() if isinstance(route, dict) and "queue" in route}
    queues |= {queue.name for queue in getattr(settings, "CELERY_TASK_QUEUES", None) or []}
    return sorted(queues)


def queue_depths() -> BrokerQueues:
    """LLEN of each project queue in the Redis broker; the messages waiting at every priority count
    (kombu keeps a list per priority step beside the queue's own)."""
    url = settings.CELERY_BROKER_URL
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        return BrokerQueues(state="in_process", lengths={}, detail="tasks run in-process (REDIS_URL is not set)")
    if scheme not in {"redis", "rediss", "unix"}:
        return BrokerQueues(state="not_measured", lengths={}, detail=f"the broker ({scheme}) is not Redis")
    queues = project_queues()
    client = redis.Redis.from_url(
        url, socket_connect_timeout=BROKER_TIMEOUT_SECONDS, socket_timeout=BROKER_TIMEOUT_SECONDS
    )
    try:
        with client.pipeline(transaction=False) as pipeline:
            for queue in queues:
                for name in _priority_lists(queue):
                    pipeline.llen(name)
            lengths = pipeline.execute()
    except redis.RedisError as error:
        return BrokerQueues(state="unreachable", lengths={}, detail=f"{type(error).__name__}: {error}")
    finally:
        client.close()
    steps = len(PRIORITY_STEPS)
    return BrokerQueues(
        state="reachable",
        lengths={queue: sum(lengths[index * steps : (index + 1) * steps]) for index, queue in enumerate(queues)},
    )


def _priority_lists(queue: str) -> list[str]:
    return [queue if step == 0 else f"{queue}{Channel.sep}{step}" for step in PRIORITY_STEPS]


# --- Scheduled jobs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduledJobStatus:
    """One entry of the beat schedule with its last recorded run. `late` when it has not started for
    twice its interval (for a crontab, the gap between the two runs due after the last one)."""

    job: str
    task: str
    interval: timedelta
    last_run: ScheduledJobRun | None
    late: bool


def scheduled_job_of_task(task_name: str) -> str | None:
    """The beat schedule's entry that runs `task_name` (None for a task that is not scheduled)."""
    return next((job for job, entry in settings.CELERY_BEAT_SCHEDULE.items() if entry["task"] == task_name), None)


def scheduled_jobs(*, now: datetime | None = None) -> list[ScheduledJobStatus]:
    """Every job of CELERY_BEAT_SCHEDULE, in the schedule's order, with its last run and whether it is late."""
    now = now or timezone.now()
    runs = {run.job: run for run in ScheduledJobRun.objects.all()}
    statuses = []
    for job, entry in settings.CELERY_BEAT_SCHEDULE.items():
        run = runs.get(job)
        interval = schedule_interval(entry["schedule"], after=run.started_at if run else now)
        late = run is not None and now - run.started_at > 2 * interval
        statuses.append(ScheduledJobStatus(job=job, task=entry["task"], interval=interval, last_run=run, late=late))
    return statuses


def schedule_interval(schedule: float | timedelta | every, *, after: datetime) -> timedelta:
    """The time between runs: seconds or a timedelta as given; for a crontab, the gap between the first
    two runs due after `after` (a daily job's is a day, an hourly one's an hour)."""
    if isinstance(schedule, int | float):
        return timedelta(seconds=schedule)
    if isinstance(schedule, timedelta):
        return schedule
    if isinstance(schedule, crontab):
        first = _next_run(schedule, after)
        return _next_run(schedule, first) - first
    return schedule.run_every


def _next_run(schedule: crontab, after: datetime) -> datetime:
    last, delta, _now = schedule.remaining_delta(after)
    return last + delta
