"""Every published domain event becomes an outbox row in the publishing transaction; the rows are
enqueued on commit (one task for one event, one task for a bulk run's events). Events published while
an automation rule's actions run carry the chain of rules that caused them (the loop guard)."""

from django.db import transaction

from otc.events import PublishedEvent, events_published
from workflows import broker, tasks
from workflows.rules.chain import current_rule_chain
from workflows.services import record_events


def record_published_events(sender, events: list[PublishedEvent], **kwargs) -> None:
    event_ids = [event.pk for event in record_events(events=events, rule_chain=current_rule_chain())]
    # The change has committed by then: a broker that is down must not turn it into an error for the
    # caller (`enqueue` never raises). The rows stay pending and the sweeper enqueues them later.
    if len(event_ids) == 1:
        transaction.on_commit(lambda: broker.enqueue(tasks.dispatch_event, event_ids[0]))
    else:
        transaction.on_commit(lambda: broker.enqueue(tasks.dispatch_events, event_ids))


events_published.connect(record_published_events, weak=False, dispatch_uid="outbox")
