"""Every published domain event becomes an outbox row in the publishing transaction; the rows are
enqueued on commit (one task for one event, one task for a bulk run's events)."""

from django.db import transaction

from otc.events import PublishedEvent, events_published
from workflows import tasks
from workflows.services import record_events


def record_published_events(sender, events: list[PublishedEvent], **kwargs) -> None:
    event_ids = [event.pk for event in record_events(events=events)]
    # robust: the change has committed by then; a broker that is down must not turn it into an
    # error for the caller. The rows stay pending and the sweeper enqueues them later.
    if len(event_ids) == 1:
        transaction.on_commit(lambda: tasks.dispatch_event.delay(event_ids[0]), robust=True)
    else:
        transaction.on_commit(lambda: tasks.dispatch_events.delay(event_ids), robust=True)


events_published.connect(record_published_events, weak=False, dispatch_uid="outbox")
