"""Sending queued emails: no database lock is held while the mail server answers, a failure backs off,
and two workers racing for one email send it once. Real connections and threads, committed rows."""

import threading
import time
from datetime import timedelta

import psycopg
import pytest
from django.db import connection, transaction
from django.utils import timezone

from customers import services
from tests.factories import CustomerFactory
from tests.support.workers import database_url
from workflows.models import Notification, NotificationStatus
from workflows.services import claim_notification, deliver_notification, record_sent

pytestmark = pytest.mark.django_db(transaction=True)


class LockProbeBackend:
    """While "sending", another session locks and updates the email's row without waiting."""

    seen: list[dict] = []

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        notification_id = int(messages[0].extra_headers["X-Probe-Id"])
        with psycopg.connect(database_url()) as other:
            other.execute("SET lock_timeout = '1s'")
            other.execute("SELECT 1 FROM workflows_notification WHERE id = %s FOR UPDATE NOWAIT", [notification_id])
            other.execute("UPDATE workflows_notification SET body_html = body_html WHERE id = %s", [notification_id])
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
def queued_email(clerk, sales_rep, settings) -> Notification:
    """A credit-hold email to the sales rep, queued and committed but not yet sent."""
    settings.EMAIL_BACKEND = "tests.workflows.test_delivery.RefusingBackend"
    settings.OUTBOX_MAX_ATTEMPTS = 3
    customer = CustomerFactory(actor=clerk, sales_rep=sales_rep)
    services.place_credit_hold(customer=customer, actor=clerk, reason="overdue")  # the first try is refused
    notification = Notification.objects.get()
    Notification.objects.filter(pk=notification.pk).update(
        status=NotificationStatus.QUEUED, attempts=0, available_at=None, last_error=""
    )
    notification.refresh_from_db()
    return notification


def test_no_database_lock_is_held_while_the_email_is_sent(queued_email, settings):
    settings.EMAIL_BACKEND = "tests.workflows.test_delivery.LockProbeBackend"
    Notification.objects.filter(pk=queued_email.pk).update(headers={"X-Probe-Id": str(queued_email.pk)})
    LockProbeBackend.seen = []

    delivered = deliver_notification(notification_id=queued_email.pk)

    assert LockProbeBackend.seen == [{"in_atomic_block": False}]
    assert (delivered.status, delivered.attempts, delivered.last_error) == (NotificationStatus.SENT, 1, "")
    assert delivered.sent_at is not None


def test_a_refused_email_records_the_error_and_backs_off_until_it_gives_up(queued_email):
    before = timezone.now()
    deliver_notification(notification_id=queued_email.pk)

    queued_email.refresh_from_db()
    assert (queued_email.status, queued_email.attempts) == (NotificationStatus.QUEUED, 1)
    assert queued_email.last_error == "ConnectionRefusedError: connection refused"
    assert timedelta(seconds=29) < queued_email.available_at - before <= timedelta(seconds=31)
    assert queued_email.sent_at is None
    assert deliver_notification(notification_id=queued_email.pk) is None  # still backing off

    for attempt, back_off in [(2, 60), (3, 120)]:
        Notification.objects.filter(pk=queued_email.pk).update(available_at=timezone.now())
        before = timezone.now()
        deliver_notification(notification_id=queued_email.pk)
        queued_email.refresh_from_db()
        assert queued_email.attempts == attempt
        assert timedelta(seconds=back_off - 1) < queued_email.available_at - before <= timedelta(seconds=back_off + 1)
    assert queued_email.status == NotificationStatus.FAILED
    Notification.objects.filter(pk=queued_email.pk).update(available_at=timezone.now())
    assert deliver_notification(notification_id=queued_email.pk) is None


def test_two_workers_racing_for_one_email_send_it_once(queued_email, settings):
    settings.EMAIL_BACKEND = "tests.workflows.test_delivery.SlowCountingBackend"
    SlowCountingBackend.sent = []
    barrier = threading.Barrier(4)
    results: list = []

    def worker() -> None:
        try:
            barrier.wait()
            results.append(deliver_notification(notification_id=queued_email.pk))
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
    assert (queued_email.status, queued_email.attempts) == (NotificationStatus.SENT, 1)


def test_a_lapsed_claim_is_claimed_again_and_a_late_outcome_is_harmless(queued_email, settings):
    first = claim_notification(notification_id=queued_email.pk)
    assert claim_notification(notification_id=queued_email.pk) is None  # leased to the first worker

    Notification.objects.filter(pk=queued_email.pk).update(available_at=timezone.now() - timedelta(seconds=1))
    second = claim_notification(notification_id=queued_email.pk)
    assert (first.attempts, second.attempts) == (1, 2)

    record_sent(notification=second)
    sent_at = Notification.objects.get(pk=queued_email.pk).sent_at
    with transaction.atomic():
        record_sent(notification=first)  # the first worker's send finished late: recording again changes nothing
    queued_email.refresh_from_db()
    assert (queued_email.status, queued_email.attempts, queued_email.sent_at) == (
        NotificationStatus.SENT,
        2,
        sent_at,
    )
