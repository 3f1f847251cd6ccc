"""The outbox at work: record an event in the sender's transaction, claim and dispatch it to its
handlers exactly once in effect, and deliver the emails handlers queue.

Delivery is at least once (a broker may redeliver, the sweeper re-enqueues); effects are exactly
once because each handler runs in a transaction that also inserts its unique HandlerRun row.
"""

from collections.abc import Callable, Iterable
from datetime import timedelta

import structlog
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from invoicing.models import StoredDocument
from otc.events import PublishedEvent
from workflows.models import EventStatus, HandlerRun, Notification, NotificationStatus, OutboxEvent

logger = structlog.get_logger(__name__)
Handler = Callable[[OutboxEvent], None]


class OutsideTransaction(RuntimeError):
    """An event recorded outside the changing transaction could outlive a rolled-back change."""


def record_events(*, events: list[PublishedEvent]) -> list[OutboxEvent]:
    """Write the published (already validated) events' rows in one INSERT; call only inside the
    transaction that made the change, so an event exists if and only if the change committed."""
    if not transaction.get_connection().in_atomic_block:
        raise OutsideTransaction(f"{events[0].type} must be recorded inside the transaction that changes the data")
    return OutboxEvent.objects.bulk_create(
        [OutboxEvent(event_type=event.type, version=event.version, payload=event.payload) for event in events]
    )


@transaction.atomic
def claim_event(*, event_id: int) -> OutboxEvent | None:
    """Take a lease on a pending event; a worker that dies lets the lease lapse and the sweeper retry."""
    now = timezone.now()
    event = (
        OutboxEvent.objects.select_for_update(skip_locked=True)
        .filter(pk=event_id, status=EventStatus.PENDING)
        .filter(Q(available_at__isnull=True) | Q(available_at__lte=now))
        .first()
    )
    if event is None:
        return None
    event.attempts += 1
    event.available_at = now + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    event.save(update_fields=["attempts", "available_at"])
    return event


def run_handler_once(*, event: OutboxEvent, handler: Handler) -> bool:
    """Run one handler for one event unless it already ran; returns whether it ran now."""
    name = handler.__name__
    with transaction.atomic():
        try:
            with transaction.atomic():
                HandlerRun.objects.create(event=event, handler=name)
        except IntegrityError:
            return False
        handler(event)
    return True


def dispatch_event(*, event_id: int, handlers: dict[str, list[Handler]]) -> OutboxEvent | None:
    event = claim_event(event_id=event_id)
    if event is None:
        return None
    log = logger.bind(event_id=event.pk, event_type=event.event_type, attempt=event.attempts)
    try:
        for handler in handlers.get(event.event_type, []):
            if run_handler_once(event=event, handler=handler):
                log.info("outbox.handler_done", handler=handler.__name__)
    except Exception as error:
        _record_failure(event, error)
        log.exception("outbox.handler_failed")
        return event
    OutboxEvent.objects.filter(pk=event.pk).update(
        status=EventStatus.DONE, processed_at=timezone.now(), available_at=None, last_error=""
    )
    return event


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


def _record_failure(event: OutboxEvent, error: Exception) -> None:
    gave_up = event.attempts >= settings.OUTBOX_MAX_ATTEMPTS
    OutboxEvent.objects.filter(pk=event.pk).update(
        status=EventStatus.FAILED if gave_up else EventStatus.PENDING,
        available_at=None if gave_up else timezone.now() + _backoff(event.attempts),
        last_error=f"{type(error).__name__}: {error}"[:5000],
    )


@transaction.atomic
def retry_event(*, event: OutboxEvent) -> None:
    """Put a failed (or stuck) event back in line, from the admin."""
    OutboxEvent.objects.filter(pk=event.pk).exclude(status=EventStatus.DONE).update(
        status=EventStatus.PENDING, available_at=None
    )


def events_due(*, limit: int = 500) -> list[int]:
    """Pending events whose lease or back-off has lapsed and that the on-commit enqueue did not finish.

    Stamps them as swept, so a backlog still waiting in the broker is not published again and again:
    the next sweep leaves them alone for one lease.
    """
    now = timezone.now()
    settled = now - timedelta(seconds=settings.OUTBOX_SWEEP_AFTER_SECONDS)
    recently_swept = now - timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    with transaction.atomic():
        due = list(
            OutboxEvent.objects.select_for_update(skip_locked=True)
            .filter(status=EventStatus.PENDING, created_at__lte=settled)
            .filter(Q(available_at__isnull=True) | Q(available_at__lte=now))
            .filter(Q(swept_at__isnull=True) | Q(swept_at__lte=recently_swept))
            .order_by("created_at")
            .values_list("pk", flat=True)[:limit]
        )
        OutboxEvent.objects.filter(pk__in=due).update(swept_at=now)
    return due


def queue_email(
    *,
    event: OutboxEvent,
    handler: str,
    recipient: str,
    template: str,
    context: dict,
    language: str = "en",
    documents: Iterable[StoredDocument] = (),
    headers: dict[str, str] | None = None,
) -> Notification | None:
    """Render an email now (so it is what the event meant) and queue it once per recipient, with the
    stored `documents` to attach and the extra `headers` (Message-ID, In-Reply-To) to send it with.

    Templates: templates/emails/<template>.subject.txt, .txt and .html.
    """
    if not recipient:
        return None
    with translation.override(language):
        context = {**context, "base_url": settings.OTC_BASE_URL}
        subject = " ".join(render_to_string(f"emails/{template}.subject.txt", context).split())
        body_text = render_to_string(f"emails/{template}.txt", context)
        body_html = render_to_string(f"emails/{template}.html", context)
    notification, created = Notification.objects.get_or_create(
        event=event,
        handler=handler,
        recipient=recipient,
        defaults={"subject": subject, "body_text": body_text, "body_html": body_html, "headers": headers or {}},
    )
    if not created:
        return None
    if attachments := list(documents):
        notification.documents.add(*attachments)
    return notification


def deliver_notification(*, notification_id: int) -> Notification | None:
    """Send one queued email without holding a database lock while the mail server answers.

    Claim it in a short transaction (a lease of OUTBOX_LEASE_SECONDS, one more attempt), send outside
    any transaction, then record the outcome in a second short transaction. A worker that dies between
    sending and recording lets the lease lapse and the email goes out again: at least once, as the
    outbox promises. Returns the notification as recorded, or None if someone else holds it.
    """
    notification = claim_notification(notification_id=notification_id)
    if notification is None:
        return None
    try:
        _email_message(notification).send()
    except Exception as error:
        logger.warning("notification.send_failed", notification_id=notification.pk, error=str(error))
        record_send_failure(notification=notification, error=error)
    else:
        record_sent(notification=notification)
    notification.refresh_from_db()
    return notification


@transaction.atomic
def claim_notification(*, notification_id: int) -> Notification | None:
    """Lease a queued email whose back-off (or a dead worker's lease) has lapsed; skip it if locked."""
    now = timezone.now()
    notification = (
        Notification.objects.select_for_update(skip_locked=True)
        .filter(pk=notification_id, status=NotificationStatus.QUEUED)
        .filter(Q(available_at__isnull=True) | Q(available_at__lte=now))
        .first()
    )
    if notification is None:
        return None
    notification.attempts += 1
    notification.available_at = now + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    notification.save(update_fields=["attempts", "available_at"])
    return notification


def _email_message(notification: Notification) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        notification.subject,
        notification.body_text,
        settings.DEFAULT_FROM_EMAIL,
        [notification.recipient],
        headers=notification.headers,
    )
    if notification.body_html:
        message.attach_alternative(notification.body_html, "text/html")
    for document in notification.documents.order_by("pk"):
        with document.file.open("rb") as file:
            message.attach(document.filename, file.read(), document.content_type)
    return message


@transaction.atomic
def record_sent(*, notification: Notification) -> None:
    """Mark it sent; a second call (or a late worker whose lease lapsed) changes nothing."""
    Notification.objects.filter(pk=notification.pk).exclude(status=NotificationStatus.SENT).update(
        status=NotificationStatus.SENT, sent_at=timezone.now(), last_error="", available_at=None
    )


@transaction.atomic
def record_send_failure(*, notification: Notification, error: Exception) -> None:
    """Back off, or give up after OUTBOX_MAX_ATTEMPTS. Only the latest claim records a failure: a worker
    whose lease lapsed and was taken over must not undo what the newer attempt recorded."""
    gave_up = notification.attempts >= settings.OUTBOX_MAX_ATTEMPTS
    Notification.objects.filter(
        pk=notification.pk, status=NotificationStatus.QUEUED, attempts=notification.attempts
    ).update(
        status=NotificationStatus.FAILED if gave_up else NotificationStatus.QUEUED,
        available_at=timezone.now() + _backoff(notification.attempts),
        last_error=f"{type(error).__name__}: {error}"[:5000],
    )


def notifications_due(*, limit: int = 500) -> list[int]:
    """Queued emails not sent on the first try, each after its back-off (30 s, 1 min, 2 min ... 1 h)."""
    now = timezone.now()
    settled = now - timedelta(seconds=settings.OUTBOX_SWEEP_AFTER_SECONDS)
    return list(
        Notification.objects.filter(status=NotificationStatus.QUEUED, created_at__lte=settled)
        .filter(Q(available_at__isnull=True) | Q(available_at__lte=now))
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
