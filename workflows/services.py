"""The outbox at work: record an event in the sender's transaction, claim and dispatch it to its
handlers exactly once in effect, and deliver the emails handlers queue.

Delivery is at least once (a broker may redeliver, the sweeper re-enqueues); effects are exactly
once because each handler runs in a transaction that also inserts its unique HandlerRun row.
"""

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

import structlog
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, connection, transaction
from django.db.models import DurationField, ExpressionWrapper, F, Q, Value
from django.utils import timezone, translation
from psycopg.types.json import Jsonb

from customers.validators import validate_e164
from invoicing.models import StoredDocument
from orders.models import OrderDocument
from otc.bulk_rows import copy_values, next_ids
from otc.events import PublishedEvent
from workflows.models import (
    Delivery,
    DeliveryChannel,
    DeliveryStatus,
    EventStatus,
    HandlerRun,
    JobOutcome,
    NotificationTemplate,
    OutboxEvent,
    ScheduledJobRun,
)
from workflows.notifications.sandbox import plain_context
from workflows.notifications.sms import sms_backend
from workflows.notifications.staff import staff_schedule
from workflows.notifications.suppression import is_suppressed
from workflows.notifications.templates import compose_email, word_sms
from workflows.rules.builtin import builtin_rule_allows

logger = structlog.get_logger(__name__)
Handler = Callable[[OutboxEvent], None]
ANY_EVENT = "*"
"""The key in a handlers map whose handlers run for every event type, after the type's own."""


class OutsideTransaction(RuntimeError):
    """An event recorded outside the changing transaction could outlive a rolled-back change."""


# Up to COPY_EVENTS_FROM events: one INSERT from arrays, its text the same for any number. From there (a
# bulk run's batch) ids from the sequence and COPY: quoting a thousand JSON payloads into any INSERT costs
# more in Python than the rest of the batch.
COPY_EVENTS_FROM = 100
OUTBOX_COPY_FIELDS = (
    "id",
    "event_type",
    "version",
    "payload",
    "status",
    "attempts",
    "last_error",
    "rule_chain",
    "created_at",
)
RECORD_EVENTS_SQL = """
    INSERT INTO workflows_outboxevent (event_type, version, payload, status, attempts, last_error, rule_chain,
                                       created_at)
    SELECT event.type, event.version, event.payload, %(status)s, %(attempts)s, %(last_error)s,
           %(rule_chain)s::bigint[], %(created_at)s
      FROM unnest(%(types)s::varchar[], %(versions)s::smallint[], %(payloads)s::jsonb[]) WITH ORDINALITY
           AS event (type, version, payload, n)
     ORDER BY event.n
    RETURNING id
"""


def record_events(*, events: list[PublishedEvent], rule_chain: list[int] | None = None) -> list[int]:
    """Write the published (already validated) events' rows in one or two statements; call only inside the
    transaction that made the change, so an event exists if and only if the change committed.
    `rule_chain`: the automation rules whose actions published them (the loop guard reads it). Returns the
    rows' ids, in the events' order."""
    if not transaction.get_connection().in_atomic_block:
        raise OutsideTransaction(f"{events[0].type} must be recorded inside the transaction that changes the data")
    now, rule_chain = timezone.now(), rule_chain or []
    if len(events) >= COPY_EVENTS_FROM:
        return _copy_events(events, rule_chain, now)
    return _insert_events(events, rule_chain, now)


def _insert_events(events: list[PublishedEvent], rule_chain: list[int], now: datetime) -> list[int]:
    new = OutboxEvent()  # a new row's defaults (status, attempts, error), shared by all
    with connection.cursor() as cursor:
        cursor.execute(
            RECORD_EVENTS_SQL,
            {
                "status": new.status,
                "attempts": new.attempts,
                "last_error": new.last_error,
                "rule_chain": rule_chain,
                "created_at": now,
                "types": [event.type for event in events],
                "versions": [event.version for event in events],
                "payloads": [Jsonb(event.payload) for event in events],
            },
        )
        return [pk for (pk,) in cursor.fetchall()]


def _copy_events(events: list[PublishedEvent], rule_chain: list[int], now: datetime) -> list[int]:
    """As plain rows: a model instance per event cost more than writing it."""
    ids, new = next_ids(OutboxEvent, len(events)), OutboxEvent()
    copy_values(
        OutboxEvent,
        OUTBOX_COPY_FIELDS,
        [
            (
                pk,
                event.type,
                event.version,
                Jsonb(event.payload),
                new.status,
                new.attempts,
                new.last_error,
                rule_chain,
                now,
            )
            for pk, event in zip(ids, events, strict=True)
        ],
    )
    return ids


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
    """Run one handler for one event unless it already ran; returns whether it ran now. A fixed
    handler whose built-in automation rule is switched off, or whose conditions the event fails, is
    recorded as run without running (see workflows.rules.builtin)."""
    name = handler.__name__
    with transaction.atomic():
        try:
            with transaction.atomic():
                HandlerRun.objects.create(event=event, handler=name)
        except IntegrityError:
            return False
        if builtin_rule_allows(event=event, handler_name=name):
            handler(event)
    return True


def dispatch_event(*, event_id: int, handlers: dict[str, list[Handler]]) -> OutboxEvent | None:
    event = claim_event(event_id=event_id)
    if event is None:
        return None
    log = logger.bind(event_id=event.pk, event_type=event.event_type, attempt=event.attempts)
    try:
        for handler in [*handlers.get(event.event_type, []), *handlers.get(ANY_EVENT, [])]:
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
def retry_event(*, event: OutboxEvent) -> bool:
    """Put a failed (or stuck) event back in line, from the admin, for the next sweep to take (not one lease
    later); False when it is already done."""
    return bool(
        OutboxEvent.objects.filter(pk=event.pk)
        .exclude(status=EventStatus.DONE)
        .update(status=EventStatus.PENDING, available_at=None, swept_at=None)
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
    documents: Iterable[StoredDocument | OrderDocument] = (),
    headers: dict[str, str] | None = None,
) -> Delivery | None:
    """Render an email now (so it is what the event meant) and queue it once per recipient, with the
    stored `documents` to attach and the extra `headers` (Message-ID, In-Reply-To) to send it with.

    The words come from the active staff template for the key and language, else the default
    language's, else templates/emails/<template>.subject.txt, .txt and .html. Nothing is queued to a
    suppressed address; a staff recipient's quiet hours delay it and their digest holds it.
    """
    if not recipient:
        return None
    if is_suppressed(recipient):
        logger.info("delivery.suppressed", recipient=recipient, template=template, event_id=event.pk)
        return None
    wording, data = compose_email(key=template, context=context, language=language)
    status, next_attempt_at = staff_schedule(recipient, timezone.now())
    delivery, created = Delivery.objects.get_or_create(
        event=event,
        handler=handler,
        recipient=recipient,
        defaults={
            "subject": wording.subject,
            "body_text": wording.body_text,
            "body_html": wording.body_html,
            "headers": headers or {},
            "template_key": template,
            "template": wording.template,
            "template_version": wording.version,
            "language": language,
            "context": data,
            "status": status,
            "next_attempt_at": next_attempt_at,
        },
    )
    if not created:
        return None
    attachments = list(documents)
    if invoicing_documents := [document for document in attachments if isinstance(document, StoredDocument)]:
        delivery.documents.add(*invoicing_documents)
    if order_documents := [document for document in attachments if isinstance(document, OrderDocument)]:
        delivery.order_documents.add(*order_documents)
    return delivery


def queue_sms(
    *, event: OutboxEvent, handler: str, recipient: str, template: NotificationTemplate, context: dict, language: str
) -> Delivery | None:
    """Queue one SMS from its staff template to an E.164 number, once per event, handler and number."""
    try:
        validate_e164(recipient)
    except ValidationError:
        logger.warning("delivery.sms_number_invalid", recipient=recipient, event_id=event.pk)
        return None
    with translation.override(language):
        data = plain_context({**context, "base_url": settings.OTC_BASE_URL})
    wording = word_sms(template=template, data=data)
    if wording is None or not wording.body_text:
        return None
    delivery, created = Delivery.objects.get_or_create(
        event=event,
        handler=handler,
        recipient=recipient,
        defaults={
            "channel": DeliveryChannel.SMS,
            "subject": "",
            "body_text": wording.body_text,
            "template_key": template.key,
            "template": template,
            "template_version": template.version,
            "language": language,
            "context": data,
        },
    )
    return delivery if created else None


def deliver(*, delivery_id: int) -> Delivery | None:
    """Send one delivery without holding a database lock while the mail server answers.

    Claim it in a short transaction (status sending, one more attempt, a claim stamp), send outside
    any transaction, then record the outcome in a second short transaction. A worker that dies between
    sending and recording leaves a claim that lapses after OUTBOX_LEASE_SECONDS, and the email goes out
    again: at least once, as the outbox promises (its idempotency key is its Message-ID, so a receiver
    can drop the duplicate). Returns the delivery as recorded, or None if it was not claimable.
    """
    delivery = claim_delivery(delivery_id=delivery_id)
    if delivery is None:
        return None
    try:
        provider_message_id = _send(delivery)
    except Exception as error:
        logger.warning("delivery.send_failed", delivery_id=delivery.pk, error=str(error))
        record_delivery_failure(delivery=delivery, error=error)
    else:
        record_delivered(delivery=delivery, provider_message_id=provider_message_id)
    delivery.refresh_from_db()
    return delivery


def _claimable(now: datetime) -> Q:
    """Waiting and past its back-off, or claimed by a worker whose lease lapsed."""
    lapsed = now - timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    waiting = Q(status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED]) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    return waiting | Q(status=DeliveryStatus.SENDING, claimed_at__lte=lapsed)


@transaction.atomic
def claim_delivery(*, delivery_id: int) -> Delivery | None:
    """Take a delivery to send (skipping one another worker has locked); a lapsed claim after the last
    attempt gives up instead, since that attempt may or may not have gone out."""
    now = timezone.now()
    delivery = Delivery.objects.select_for_update(skip_locked=True).filter(_claimable(now), pk=delivery_id).first()
    if delivery is None:
        return None
    if delivery.status == DeliveryStatus.SENDING and delivery.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        delivery.status, delivery.last_error = DeliveryStatus.GIVEN_UP, "The worker sending the last attempt died."
        delivery.save(update_fields=["status", "last_error"])
        return None
    delivery.status, delivery.attempts, delivery.claimed_at = DeliveryStatus.SENDING, delivery.attempts + 1, now
    delivery.save(update_fields=["status", "attempts", "claimed_at"])
    return delivery


def _send(delivery: Delivery) -> str:
    """Send by the delivery's channel; returns the provider's message id where it tells one."""
    if delivery.channel == DeliveryChannel.SMS:
        return sms_backend().send(delivery.recipient, delivery.body_text)
    message = _email_message(delivery)
    message.send()
    status = getattr(message, "anymail_status", None)
    return (status.message_id or "") if status is not None else ""


def _email_message(delivery: Delivery) -> EmailMultiAlternatives:
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].rstrip(">") or "localhost"
    headers = {"Message-ID": f"<{delivery.idempotency_key}@{domain}>", **delivery.headers}
    message = EmailMultiAlternatives(
        delivery.subject, delivery.body_text, settings.DEFAULT_FROM_EMAIL, [delivery.recipient], headers=headers
    )
    if delivery.body_html:
        message.attach_alternative(delivery.body_html, "text/html")
    for document in [*delivery.order_documents.order_by("pk"), *delivery.documents.order_by("pk")]:
        with document.file.open("rb") as file:
            message.attach(document.filename, file.read(), document.content_type)
    # Anymail passes metadata to the provider, whose bounce and complaint webhooks return it.
    message.metadata = {"delivery": str(delivery.idempotency_key)}
    return message


@transaction.atomic
def record_delivered(*, delivery: Delivery, provider_message_id: str = "") -> None:
    """Mark it sent; a second call (or a late worker whose claim lapsed) changes nothing."""
    Delivery.objects.filter(pk=delivery.pk).exclude(status=DeliveryStatus.SENT).update(
        status=DeliveryStatus.SENT,
        sent_at=timezone.now(),
        last_error="",
        next_attempt_at=None,
        provider_message_id=provider_message_id[:200],
    )


@transaction.atomic
def record_delivery_failure(*, delivery: Delivery, error: Exception) -> None:
    """Back off, or give up after OUTBOX_MAX_ATTEMPTS. Only the current claim records a failure: a worker
    whose claim lapsed and was taken over must not undo what the newer attempt recorded."""
    gave_up = delivery.attempts >= settings.OUTBOX_MAX_ATTEMPTS
    Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING, attempts=delivery.attempts).update(
        status=DeliveryStatus.GIVEN_UP if gave_up else DeliveryStatus.FAILED,
        next_attempt_at=None if gave_up else timezone.now() + _backoff(delivery.attempts),
        last_error=f"{type(error).__name__}: {error}"[:5000],
    )


@transaction.atomic
def retry_delivery(*, delivery: Delivery) -> bool:
    """Send a failed or given-up delivery once more now, from the admin (the sweeper picks it up);
    False when it is neither (sent, or already waiting)."""
    return bool(
        Delivery.objects.filter(pk=delivery.pk, status__in=[DeliveryStatus.FAILED, DeliveryStatus.GIVEN_UP]).update(
            status=DeliveryStatus.PENDING, next_attempt_at=None
        )
    )


def deliveries_due(*, limit: int = 500) -> list[int]:
    """Deliveries not sent on the first try, each after its back-off (30 s, 1 min, 2 min ... 1 h), and
    those whose worker's claim lapsed."""
    now = timezone.now()
    settled = now - timedelta(seconds=settings.OUTBOX_SWEEP_AFTER_SECONDS)
    return list(
        Delivery.objects.filter(_claimable(now), created_at__lte=settled)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )


def record_job_started(*, job: str, task: str) -> None:
    """A scheduled job began: its row (one per job, created on the first run) says running since now.
    One upsert, so two workers starting the same job at once cannot trip over each other."""
    run = ScheduledJobRun(job=job, task=task, started_at=timezone.now(), outcome=JobOutcome.RUNNING)
    ScheduledJobRun.objects.bulk_create(
        [run],
        update_conflicts=True,
        unique_fields=["job"],
        update_fields=["task", "started_at", "finished_at", "outcome", "duration"],
    )


def record_job_finished(*, job: str, error: BaseException | None = None) -> None:
    """A scheduled job ended, successfully unless `error` is given; its duration is counted from the
    start its row holds (a finish without a recorded start changes nothing)."""
    now = timezone.now()
    outcome = {
        "finished_at": now,
        "duration": ExpressionWrapper(Value(now) - F("started_at"), output_field=DurationField()),
    }
    if error is None:
        outcome |= {"outcome": JobOutcome.SUCCEEDED, "last_error": "", "last_succeeded_at": now}
    else:
        outcome |= {"outcome": JobOutcome.FAILED, "last_error": f"{type(error).__name__}: {error}"[:5000]}
    ScheduledJobRun.objects.filter(job=job).update(**outcome)
