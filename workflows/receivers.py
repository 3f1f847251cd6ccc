"""Every published domain event becomes an outbox row in the publishing transaction; the rows are
enqueued on commit (one task for one event, one task for a bulk run's events). Events published while
an automation rule's actions run carry the chain of rules that caused them (the loop guard). Scheduled
jobs' runs are recorded from Celery's task signals (connected in workflows.apps)."""

from celery import Task, states
from django.conf import settings
from django.db import transaction

from otc.events import PublishedEvent, events_published
from otc.metrics import count_committed_events
from workflows import broker, selectors, services, tasks
from workflows.rules.chain import current_rule_chain
from workflows.services import record_events


def record_published_events(sender, events: list[PublishedEvent], **kwargs) -> None:
    event_ids = record_events(events=events, rule_chain=current_rule_chain())
    count_committed_events(events)
    if not settings.OUTBOX_ENQUEUE_ON_COMMIT:
        return
    # The change has committed by then: a broker that is down must not turn it into an error for the
    # caller (`enqueue` never raises). The rows stay pending and the sweeper enqueues them later.
    if len(event_ids) == 1:
        transaction.on_commit(lambda: broker.enqueue(tasks.dispatch_event, event_ids[0]))
    else:
        transaction.on_commit(lambda: broker.enqueue(tasks.dispatch_events, event_ids))


events_published.connect(record_published_events, weak=False, dispatch_uid="outbox")


def scheduled_job_started(sender: Task, **kwargs) -> None:
    """task_prerun: a task of the beat schedule starts (other tasks pass by after one dict lookup)."""
    if job := selectors.scheduled_job_of_task(sender.name):
        services.record_job_started(job=job, task=sender.name)


def scheduled_job_finished(sender: Task, state: str, retval: object = None, **kwargs) -> None:
    """task_postrun: it ended; anything but success is a failure, with the exception Celery returns."""
    if job := selectors.scheduled_job_of_task(sender.name):
        error = None if state == states.SUCCESS else _as_error(retval, state)
        services.record_job_finished(job=job, error=error)


def _as_error(retval: object, state: str) -> BaseException:
    return retval if isinstance(retval, BaseException) else RuntimeError(f"the task ended in state {state}")
