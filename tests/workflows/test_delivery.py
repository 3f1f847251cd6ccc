"""Sending queued emails: no database lock is held while the mail server answers, a failure backs off,
and two workers racing for one email send it once. Real connections and threads, committed rows."""

import threading
import time
from datetime import timedelta

import psycopg
import pytest
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone

from customers import services
from tests.factories import CustomerFactory
from tests.support.workers import database_url
from workflows.models import Delivery, DeliveryStatus
from workflows.services import claim_delivery, deliver, record_delivered, retry_delivery

pytestmark = pytest.mark.django_db(transaction=True)


class LockProbeBackend:
    """While "sending", another session locks and updates the email's row without waiting."""

    seen: list[dict] = []

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        delivery_id = int(messages[0].extra_headers["X-Probe-Id"])
        with psycopg.connect(database_url()) as other:
            other.execute("SET lock_timeout = '1s'")
            other.execute("SELECT 1 FROM workflows_delivery WHERE id = %s FOR UPDATE NOWAIT", [delivery_id])
            other.execute("UPDATE workflows_delivery SET body_html = body_html WHERE id = %s", [delivery_id])
        self.seen.append({"in_atomic_block": connection.in_atomic_block})
        return len(messages)


class SlowCountingBackend:
    """Takes a while to answer, like a slow mail server, and counts what it was given."""

    sent: list[str] = []
    lock = threading.Lock()

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        time.sleep(0.5)
        with self.lock:
            self.sent.extend(message.to[0] for message in messages)
        return len(messages)


class RefusingBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("connection refused")


@pytest.fixture
def queued_email(clerk, sales_rep, settings) -> Delivery:
    """A credit-hold email to the sales rep, queued and committed but not yet sent."""
    settings.EMAIL_BACKEND = "tests.workflows.test_delivery.RefusingBackend"
    settings.OUTBOX_MAX_ATTEMPTS = 3
    customer = CustomerFactory(actor=clerk, sales_rep=sales_rep)
    services.place_credit_hold(customer=customer, actor=clerk, reason="overdue")  # the first try is refused
    delivery = Delivery.objects.get()
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=None, claimed_at=None, last_error=""
    )
    delivery.refresh_from_db()
    return delivery


def test_no_database_lock_is_held_while_the_email_is_sent(queued_email, settings):
    settings.EMAIL_BACKEND = "tests.workflows.test_delivery.LockProbeBackend"
    Delivery.objects.filter(pk=queued_email.pk).update(headers={"X-Probe-Id": str(queued_email.pk)})
    LockProbeBackend.seen = []

    delivered = deliver(delivery_id=queued_email.pk)

    assert LockProbeBackend.seen == [{"in_atomic_block": False}]
    assert (delivered.status, delivered.attempts, delivered.last_error) == (DeliveryStatus.SENT, 1, "")
    assert delivered.sent_at is not None


def test_a_refused_email_records_the_error_and_backs_off_until_it_gives_up(queued_email, settings):
    before = timezone.now()
    deliver(delivery_id=queued_email.pk)

    queued_email.refresh_from_db()
    assert (queued_email.status, queued_email.attempts) == (DeliveryStatus.FAILED, 1)
    assert queued_email.last_error == "ConnectionRefusedError: connection refused"
    assert timedelta(seconds=29) < queued_email.next_attempt_at - before <= timedelta(seconds=31)
    assert queued_email.sent_at is None
    assert deliver(delivery_id=queued_email.pk) is None  # still backing off

    Delivery.objects.filter(pk=queued_email.pk).update(next_attempt_at=timezone.now())
    before = timezone.now()
    deliver(delivery_id=queued_email.pk)
    queued_email.refresh_from_db()
    assert (queued_email.status, queued_email.attempts) == (DeliveryStatus.FAILED, 2)
    assert timedelta(seconds=59) < queued_email.next_attempt_at - before <= timedelta(seconds=61)

    Delivery.objects.filter(pk=queued_email.pk).update(next_attempt_at=timezone.now())
    deliver(delivery_id=queued_email.pk)
    queued_email.refresh_from_db()
    assert (queued_email.status, queued_email.attempts, queued_email.next_attempt_at) == (
        DeliveryStatus.GIVEN_UP,
        3,
        None,
    )
    assert deliver(delivery_id=queued_email.pk) is None

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    retry_delivery(delivery=queued_email)  # from the admin: once more
    sent = deliver(delivery_id=queued_email.pk)
    assert (sent.status, sent.attempts, sent.last_error) == (DeliveryStatus.SENT, 4, "")
    [message] = mail.outbox
    assert message.extra_headers["Message-ID"] == f"<{queued_email.idempotency_key}@localhost>"


def test_two_workers_racing_for_one_email_send_it_once(queued_email, settings):
    settings.EMAIL_BACKEND = "tests.workflows.test_delivery.SlowCountingBackend"
    SlowCountingBackend.sent = []
    barrier = threading.Barrier(4)
    results: list = []

    def worker() -> None:
        try:
            barrier.wait()
            results.append(deliver(delivery_id=queued_email.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert SlowCountingBackend.sent == ["rita@otc.test"]
    assert len([r for r in results if r is not None]) == 1
    queued_email.refresh_from_db()
    assert (queued_email.status, queued_email.attempts) == (DeliveryStatus.SENT, 1)


def test_a_lapsed_claim_is_claimed_again_and_a_late_outcome_is_harmless(queued_email, settings):
    first = claim_delivery(delivery_id=queued_email.pk)
    assert claim_delivery(delivery_id=queued_email.pk) is None  # claimed by the first worker

    lapsed = timezone.now() - timedelta(seconds=settings.OUTBOX_LEASE_SECONDS + 1)
    Delivery.objects.filter(pk=queued_email.pk).update(claimed_at=lapsed)
    second = claim_delivery(delivery_id=queued_email.pk)
    assert (first.attempts, second.attempts) == (1, 2)

    record_delivered(delivery=second)
    sent_at = Delivery.objects.get(pk=queued_email.pk).sent_at
    with transaction.atomic():
        record_delivered(delivery=first)  # the first worker's send finished late: recording again changes nothing
    queued_email.refresh_from_db()
    assert (queued_email.status, queued_email.attempts, queued_email.sent_at) == (
        DeliveryStatus.SENT,
        2,
        sent_at,
    )
