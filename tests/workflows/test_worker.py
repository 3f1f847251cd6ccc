"""The outbox under failure, with a real Celery worker process, a real Redis and committed data.

Each test starts `celery worker --pool=solo` on a queue of its own against the test database, lets the
services publish through Redis on commit, and watches the rows the worker writes.
"""

import psycopg
import pytest
from django.db import connection, transaction
from django.utils import timezone

from customers import services
from otc.outages import Outage
from tests.factories import CustomerFactory
from tests.support.workers import LEASE_SECONDS, database_url, publishing_to, wait_for
from workflows import broker, tasks
from workflows.models import Delivery, DeliveryStatus, EventStatus, HandlerRun, OutboxEvent

pytestmark = pytest.mark.django_db(transaction=True)

CREDIT_HOLD = "customer.credit_hold_placed"
# Every event also runs the automation rules' handler (HANDLERS[ANY_EVENT]); these tests follow the notice's.
CREDIT_HOLD_HANDLER = "notify_sales_rep_of_credit_hold"


class Rollback(Exception):
    pass


def _sent() -> int:
    return Delivery.objects.filter(status=DeliveryStatus.SENT).count()


def _waiting_for_notification_lock() -> bool:
    """Some session of this database waits for a lock on the delivery table (the worker, mid-handler)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE NOT granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND relation = 'workflows_delivery'::regclass)"
        )
        return cursor.fetchone()[0]


def test_an_event_is_handled_by_a_real_worker(clerk, sales_rep, celery_workers):
    worker = celery_workers.start()
    customer = CustomerFactory(actor=clerk, sales_rep=sales_rep, legal_name="Nordwind Handel GmbH")

    services.place_credit_hold(customer=customer, actor=clerk, reason="two invoices 60 days overdue")

    wait_for(lambda: _sent() == 1, "the worker to send the credit-hold email", workers=[worker])
    event = OutboxEvent.objects.get(event_type=CREDIT_HOLD)
    assert event.status == EventStatus.DONE
    assert event.attempts == 1
    delivery = Delivery.objects.get()
    assert (delivery.event_id, delivery.recipient) == (event.pk, "rita@otc.test")
    assert delivery.status == DeliveryStatus.SENT
    assert HandlerRun.objects.filter(event=event).count() == 3  # the notice, the automation rules, partner webhooks
    assert HandlerRun.objects.filter(handler=CREDIT_HOLD_HANDLER).count() == 1
    [mail_file] = celery_workers.mail_files()
    message = mail_file.read_text()
    assert "To: rita@otc.test" in message
    assert f"Subject: Credit hold: {customer.number} Nordwind Handel GmbH" in message


def test_a_worker_killed_mid_event_leaves_the_event_to_be_retried_and_done_once(clerk, sales_rep, celery_workers):
    first = celery_workers.start()
    customer = CustomerFactory(actor=clerk, sales_rep=sales_rep)
    # Another session holds the delivery table: the worker's handler blocks on its insert,
    # after the event was claimed and the HandlerRun row written, before anything committed.
    blocker = psycopg.connect(database_url())
    try:
        blocker.execute("LOCK TABLE workflows_delivery IN EXCLUSIVE MODE")
        services.place_credit_hold(customer=customer, actor=clerk, reason="returned direct debit")
        event = OutboxEvent.objects.get(event_type=CREDIT_HOLD)
        wait_for(lambda: OutboxEvent.objects.get(pk=event.pk).attempts == 1, "the worker to claim", workers=[first])
        wait_for(_waiting_for_notification_lock, "the handler to block on the table lock", workers=[first])

        first.kill()
        blocker.rollback()
    finally:
        blocker.close()

    event.refresh_from_db()
    assert (event.status, event.attempts) == (EventStatus.PENDING, 1)
    assert event.available_at is not None  # leased to the dead worker
    assert not Delivery.objects.exists()
    assert not HandlerRun.objects.filter(event=event).exists()
    assert celery_workers.mail_files() == []

    second = celery_workers.start()
    # The lease protects the event from the sweeper until it lapses, however often the sweeper runs.
    wait_for(lambda: timezone.now() >= event.available_at, "the lease to lapse", timeout=LEASE_SECONDS + 2)
    # Beat's job, sped up: the sweep is published through Redis and runs in the new worker, which
    # re-enqueues the event through Redis to itself.
    wait_for(
        lambda: OutboxEvent.objects.get(pk=event.pk).status == EventStatus.DONE and _sent() == 1,
        "the swept event to be done and its email sent",
        nudge=tasks.sweep_outbox.delay,
        workers=[second],
    )

    event.refresh_from_db()
    assert event.attempts == 2
    assert event.last_error == ""
    delivery = Delivery.objects.get()
    assert (delivery.event_id, delivery.status) == (event.pk, DeliveryStatus.SENT)
    assert delivery.attempts == 1
    assert HandlerRun.objects.get(handler=CREDIT_HOLD_HANDLER).event_id == event.pk
    assert len(celery_workers.mail_files()) == 1


def test_the_event_row_exists_only_if_its_transaction_committed(clerk, sales_rep, celery_workers):
    worker = celery_workers.start()
    rolled_back = CustomerFactory(actor=clerk, sales_rep=sales_rep)
    committed = CustomerFactory(actor=clerk, sales_rep=sales_rep)

    with pytest.raises(Rollback), transaction.atomic():
        services.place_credit_hold(customer=rolled_back, actor=clerk, reason="overdue")
        phantom_id = OutboxEvent.objects.get(event_type=CREDIT_HOLD).pk
        raise Rollback

    assert not OutboxEvent.objects.filter(event_type=CREDIT_HOLD).exists()
    # Even a stray message naming the rolled-back row finds nothing to do.
    tasks.dispatch_event.delay(phantom_id)
    # The worker takes its queue in order: once a later, committed hold is mailed, anything the
    # rolled-back one could have caused would already be visible.
    services.place_credit_hold(customer=committed, actor=clerk, reason="overdue")
    wait_for(lambda: _sent() == 1, "the committed hold's email", workers=[worker])

    event = OutboxEvent.objects.get(event_type=CREDIT_HOLD)
    assert event.payload["customer_id"] == committed.pk
    assert event.status == EventStatus.DONE
    assert not OutboxEvent.objects.filter(pk=phantom_id).exists()
    assert Delivery.objects.get().event_id == event.pk
    assert HandlerRun.objects.get(handler=CREDIT_HOLD_HANDLER).event_id == event.pk
    assert len(celery_workers.mail_files()) == 1


def test_a_broker_that_is_down_delays_the_event_but_loses_nothing(
    clerk, sales_rep, celery_workers, caplog, monkeypatch
):
    monkeypatch.setattr(broker, "outage", Outage("broker", detail=""))
    customer = CustomerFactory(actor=clerk, sales_rep=sales_rep)

    with publishing_to("redis://127.0.0.1:1/0"):  # nothing listens there
        services.place_credit_hold(customer=customer, actor=clerk, reason="cheque bounced")

    # The change committed and the caller saw no error; the failed publish is logged, the event waits.
    customer.refresh_from_db()
    assert customer.status == "on_hold"
    assert caplog.text.count("broker.unreachable") == 1
    assert broker.outage.failures == 1
    event = OutboxEvent.objects.get(event_type=CREDIT_HOLD)
    assert (event.status, event.attempts) == (EventStatus.PENDING, 0)

    worker = celery_workers.start()
    wait_for(
        lambda: OutboxEvent.objects.get(pk=event.pk).status == EventStatus.DONE and _sent() == 1,
        "the swept event to be done and its email sent",
        nudge=tasks.sweep_outbox.delay,
        workers=[worker],
    )
    event.refresh_from_db()
    assert event.attempts == 1
    assert Delivery.objects.get().event_id == event.pk
    assert len(celery_workers.mail_files()) == 1
