"""Partner webhooks, the write side: subscriptions (create, change, rotate, disable, enable, delete),
queueing deliveries (every event to its subscribers, a rule's call, a test-send), sending them outside
any transaction, and replaying dead letters.

Sending follows the outbox's email delivery: claim with a lease in a short transaction, POST with no
transaction open, record the attempt and the outcome in a second short transaction. A worker that dies
mid-POST leaves a claim that lapses after OUTBOX_LEASE_SECONDS; the delivery then goes out again with
the same webhook-id, so the partner can drop the duplicate.
"""

import json
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import structlog
from django.conf import settings
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from otc.audit import acting
from otc.errors import InvalidInput, field_checked
from otc.events import catalogue
from otc.models import ApiKey, User
from otc.services import automation_user
from workflows.models import (
    ALL_EVENTS,
    OutboxEvent,
    WebhookAttempt,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookSubscription,
)
from workflows.services import queue_email
from workflows.webhooks.addresses import Answer, post, resolve_target
from workflows.webhooks.errors import DeliveryNotReplayable, SubscriptionDisabled, UnknownEventType, UnsafeWebhookUrl
from workflows.webhooks.signing import new_secret, signature_headers

logger = structlog.get_logger(__name__)

RETRY_FACTOR = 3
RETRY_JITTER = 0.1
"""Each retry waits its nominal delay times a random factor in [1 - RETRY_JITTER, 1 + RETRY_JITTER]."""
TEST_EVENT_TYPE = "webhook.test"
TEST_HANDLER = "test_send"
SUBSCRIPTION_DISABLED_HANDLER = "notify_of_disabled_webhook"
OPEN_STATUSES = [WebhookDeliveryStatus.PENDING, WebhookDeliveryStatus.SENDING, WebhookDeliveryStatus.FAILED]
REPLAYABLE_STATUSES = [WebhookDeliveryStatus.FAILED, WebhookDeliveryStatus.GIVEN_UP]


# --- Subscriptions ---------------------------------------------------------------------------------


def checked_url(url: str) -> str:
    """The URL as stored, once its form and every address it resolves to now are allowed."""
    url = url.strip()
    resolve_target(url)
    return url


def checked_event_types(event_types: list[str]) -> list[str]:
    """Catalogue types, sorted and once each; "*" alone stands for all (present and future)."""
    wanted = {event_type.strip() for event_type in event_types}
    if not wanted:
        raise InvalidInput("Name at least one event type, or * for all.", fields={"event_types": ["Empty."]})
    if ALL_EVENTS in wanted:
        return [ALL_EVENTS]
    unknown = sorted(wanted - set(catalogue()))
    if unknown:
        raise UnknownEventType(unknown)
    return sorted(wanted)


def _checked_contact(email: str) -> str:
    email = email.strip()
    if email:
        field_checked("contact_email", validate_email, email)
    return email


@transaction.atomic
def create_subscription(
    *,
    api_key: ApiKey,
    url: str,
    event_types: list[str],
    actor: User,
    description: str = "",
    contact_email: str = "",
) -> tuple[WebhookSubscription, str]:
    """Subscribe an API client to events; returns the subscription and its secret, shown only now."""
    if not api_key.is_usable:
        raise InvalidInput("This API key is revoked or expired.", fields={"api_key": ["Not usable."]})
    secret = new_secret()
    with acting(actor, "create webhook subscription"):
        subscription = WebhookSubscription.objects.create(
            api_key=api_key,
            url=checked_url(url),
            event_types=checked_event_types(event_types),
            description=description.strip(),
            contact_email=_checked_contact(contact_email),
            secret=secret,
            created_by=actor,
        )
    logger.info("webhooks.subscribed", subscription_id=subscription.pk, api_key_id=api_key.pk)
    return subscription, secret


@transaction.atomic
def update_subscription(
    *,
    subscription: WebhookSubscription,
    actor: User,
    url: str | None = None,
    event_types: list[str] | None = None,
    description: str | None = None,
    contact_email: str | None = None,
) -> WebhookSubscription:
    """Change what is given (None leaves a field as it is); a new URL passes the SSRF guard first."""
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    changes = {
        "url": None if url is None else checked_url(url),
        "event_types": None if event_types is None else checked_event_types(event_types),
        "description": None if description is None else description.strip(),
        "contact_email": None if contact_email is None else _checked_contact(contact_email),
    }
    changed = [name for name, value in changes.items() if value is not None and getattr(subscription, name) != value]
    if changed:
        with acting(actor, "change webhook subscription"):
            for name in changed:
                setattr(subscription, name, changes[name])
            subscription.save(update_fields=[*changed, "updated_at"])
    return subscription


@transaction.atomic
def delete_subscription(*, subscription: WebhookSubscription, actor: User) -> None:
    """Stop the deliveries for good; the subscription's delivery log goes with it."""
    with acting(actor, "delete webhook subscription"):
        WebhookSubscription.objects.filter(pk=subscription.pk).delete()


@transaction.atomic
def rotate_secret(*, subscription: WebhookSubscription, actor: User, overlap: timedelta | None = None) -> str:
    """A new secret, returned once; the current one keeps signing beside it until the overlap ends
    (OTC_WEBHOOK_SECRET_OVERLAP_HOURS), so the partner can switch without losing a delivery. A second
    rotation within the overlap retires the oldest secret at once."""
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    overlap = timedelta(hours=settings.OTC_WEBHOOK_SECRET_OVERLAP_HOURS) if overlap is None else overlap
    secret = new_secret()
    with acting(actor, "rotate webhook secret"):
        subscription.previous_secret = subscription.secret
        subscription.previous_secret_expires_at = timezone.now() + overlap
        subscription.secret = secret
        subscription.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
    return secret


def signing_secrets(subscription: WebhookSubscription, *, at: datetime) -> list[str]:
    """The secrets that sign a delivery sent at `at`: the current one, and the previous during its overlap."""
    secrets_ = [subscription.secret]
    if subscription.previous_secret and subscription.previous_secret_expires_at > at:
        secrets_.append(subscription.previous_secret)
    return secrets_


@transaction.atomic
def disable_subscription(*, subscription: WebhookSubscription, reason: str, actor: User) -> WebhookSubscription:
    """Stop delivering: nothing new is queued and the open deliveries become dead letters (replayable
    once it is enabled again)."""
    if not reason.strip():
        raise InvalidInput("Say why it is disabled.", fields={"reason": ["This field is required."]})
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    if not subscription.is_active:
        raise SubscriptionDisabled("This subscription is already disabled.")
    _disable(subscription, reason=reason.strip(), actor=actor)
    return subscription


def _disable(subscription: WebhookSubscription, *, reason: str, actor: User) -> None:
    """Call while holding the subscription's row lock."""
    now = timezone.now()
    with acting(actor, "disable webhook subscription"):
        subscription.is_active, subscription.disabled_at, subscription.disabled_reason = False, now, reason[:300]
        subscription.save(update_fields=["is_active", "disabled_at", "disabled_reason", "updated_at"])
    WebhookDelivery.objects.filter(subscription=subscription, status__in=OPEN_STATUSES, is_test=False).update(
        status=WebhookDeliveryStatus.GIVEN_UP,
        given_up_at=now,
        next_attempt_at=None,
        last_error=f"The subscription was disabled: {reason}"[:5000],
    )
    logger.warning("webhooks.subscription_disabled", subscription_id=subscription.pk, reason=reason)


@transaction.atomic
def enable_subscription(*, subscription: WebhookSubscription, actor: User) -> WebhookSubscription:
    """Deliver again from the next event on, with a clean failure count; the URL is checked anew."""
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    if subscription.is_active:
        raise SubscriptionDisabled("This subscription is already active.")
    checked_url(subscription.url)
    with acting(actor, "enable webhook subscription"):
        subscription.is_active, subscription.disabled_at, subscription.disabled_reason = True, None, ""
        subscription.consecutive_failures = 0
        subscription.save(
            update_fields=["is_active", "disabled_at", "disabled_reason", "consecutive_failures", "updated_at"]
        )
    return subscription


# --- Queueing --------------------------------------------------------------------------------------


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def delivery_body(*, event_type: str, version: int, timestamp: datetime, data: dict) -> str:
    """The Standard Webhooks body: {"type", "version", "timestamp", "data"}, as compact JSON."""
    body = {"type": event_type, "version": version, "timestamp": _iso(timestamp), "data": data}
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def _event_body(event: OutboxEvent) -> str:
    return delivery_body(
        event_type=event.event_type, version=event.version, timestamp=event.created_at, data=event.payload
    )


def subscribers(*, event_type: str):
    """Active subscriptions of usable API keys that want this event type."""
    now = timezone.now()
    return WebhookSubscription.objects.filter(
        Q(api_key__expires_at__isnull=True) | Q(api_key__expires_at__gt=now),
        is_active=True,
        api_key__revoked_at__isnull=True,
        event_types__overlap=[event_type, ALL_EVENTS],
    )


def queue_event_for_subscribers(*, event: OutboxEvent, handler: str) -> int:
    """One delivery of the event per subscriber, in one INSERT; a second call adds none. Returns how
    many subscribers there were."""
    subscription_ids = list(subscribers(event_type=event.event_type).values_list("pk", flat=True))
    if subscription_ids:
        body = _event_body(event)
        WebhookDelivery.objects.bulk_create(
            [
                WebhookDelivery(
                    event=event, subscription_id=pk, handler=handler, event_type=event.event_type, body=body
                )
                for pk in subscription_ids
            ],
            ignore_conflicts=True,
        )
    return len(subscription_ids)


def queue_webhook(*, event: OutboxEvent, subscription: WebhookSubscription, handler: str) -> WebhookDelivery | None:
    """Queue the event for one subscription (an automation rule's "call a partner webhook"), once per
    event, subscription and handler; None when it was queued before or the subscription is disabled."""
    if not subscription.is_active:
        return None
    delivery, created = WebhookDelivery.objects.get_or_create(
        event=event,
        subscription=subscription,
        handler=handler,
        defaults={"event_type": event.event_type, "body": _event_body(event)},
    )
    return delivery if created else None


@transaction.atomic
def queue_test_delivery(*, subscription: WebhookSubscription, actor: User) -> WebhookDelivery:
    """A signed sample event for the partner to check their endpoint with; one attempt, no retries,
    never counted against the subscription (a disabled one may be tested before it is enabled)."""
    now = timezone.now()
    data = {
        "subscription_id": subscription.pk,
        "message": f"A test delivery from OTC suite, sent by {actor.get_full_name()}.",
    }
    return WebhookDelivery.objects.create(
        subscription=subscription,
        handler=TEST_HANDLER,
        event_type=TEST_EVENT_TYPE,
        body=delivery_body(event_type=TEST_EVENT_TYPE, version=1, timestamp=now, data=data),
        is_test=True,
    )


# --- Sending ---------------------------------------------------------------------------------------


def retry_delay(attempt: int, *, rng: random.Random | None = None) -> timedelta:
    """The wait after failed attempt number `attempt` (1-based): base x 3^(attempt-1), capped, with
    jitter, so a partner's outage is not met by every delivery retrying in the same second."""
    nominal = min(
        settings.OTC_WEBHOOK_RETRY_BASE_SECONDS * RETRY_FACTOR ** (attempt - 1),
        settings.OTC_WEBHOOK_RETRY_MAX_DELAY_SECONDS,
    )
    jitter = (rng or random).uniform(1 - RETRY_JITTER, 1 + RETRY_JITTER)
    return timedelta(seconds=nominal * jitter)


def _claimable(now: datetime) -> Q:
    """Waiting and past its back-off, or claimed by a worker whose lease lapsed; of an active
    subscription (a test-send goes to a disabled one too)."""
    lapsed = now - timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    waiting = Q(status__in=[WebhookDeliveryStatus.PENDING, WebhookDeliveryStatus.FAILED]) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    open_ = waiting | Q(status=WebhookDeliveryStatus.SENDING, claimed_at__lte=lapsed)
    return open_ & (Q(subscription__is_active=True) | Q(is_test=True))


@transaction.atomic
def claim_webhook_delivery(*, delivery_id: int) -> WebhookDelivery | None:
    """Take a delivery to send (skipping one another worker holds). A lapsed claim on the last attempt
    gives up instead: that attempt may or may not have reached the partner."""
    now = timezone.now()
    delivery = (
        WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("subscription")
        .filter(_claimable(now), pk=delivery_id)
        .first()
    )
    if delivery is None:
        return None
    if delivery.status == WebhookDeliveryStatus.SENDING and delivery.attempts >= _max_attempts(delivery):
        _give_up(delivery, error="The worker sending the last attempt died.", now=now)
        return None
    delivery.status, delivery.attempts, delivery.claimed_at = WebhookDeliveryStatus.SENDING, delivery.attempts + 1, now
    delivery.save(update_fields=["status", "attempts", "claimed_at"])
    return delivery


def _max_attempts(delivery: WebhookDelivery) -> int:
    return 1 if delivery.is_test else settings.OTC_WEBHOOK_MAX_ATTEMPTS


@dataclass
class Attempt:
    """What one POST came to, before it is recorded."""

    started_at: datetime
    duration_ms: int = 0
    address: str | None = None
    answer: Answer | None = None
    error: str = ""

    @property
    def succeeded(self) -> bool:
        return self.answer is not None and 200 <= self.answer.status < 300

    @property
    def failure(self) -> str:
        if self.error:
            return self.error
        if self.answer is not None and 300 <= self.answer.status < 400:
            return f"HTTP {self.answer.status}: redirects are not followed; subscribe the final URL."
        return f"HTTP {self.answer.status}" if self.answer is not None else ""


@dataclass
class SendResult:
    delivery: WebhookDelivery
    emails: list[int] = field(default_factory=list)
    """Email deliveries queued by this attempt (the owner told of a disabled subscription)."""


def send_webhook(*, delivery_id: int) -> SendResult | None:
    """Claim, POST outside any transaction (the address checked again at this moment), record.
    Returns the delivery as recorded, or None when it was not claimable."""
    delivery = claim_webhook_delivery(delivery_id=delivery_id)
    if delivery is None:
        return None
    subscription = delivery.subscription
    attempt = Attempt(started_at=timezone.now())
    clock = time.monotonic()
    try:
        target = resolve_target(subscription.url)
        attempt.address = target.address
        body = delivery.body.encode()
        headers = signature_headers(
            message_id=delivery.message_id,
            timestamp=attempt.started_at,
            body=body,
            secrets_=signing_secrets(subscription, at=attempt.started_at),
        )
        attempt.answer = post(target, body=body, headers=headers)
    except UnsafeWebhookUrl as refused:
        attempt.error = f"Not sent: {refused.message}"
    except Exception as error:
        attempt.error = f"{type(error).__name__}: {error}"
    attempt.duration_ms = round((time.monotonic() - clock) * 1000)
    log = logger.bind(delivery_id=delivery.pk, subscription_id=subscription.pk, attempt=delivery.attempts)
    if attempt.succeeded:
        log.info("webhooks.delivered", status=attempt.answer.status, ms=attempt.duration_ms)
    else:
        log.warning("webhooks.attempt_failed", error=attempt.failure, ms=attempt.duration_ms)
    emails = record_webhook_attempt(delivery=delivery, attempt=attempt)
    delivery.refresh_from_db()
    return SendResult(delivery=delivery, emails=emails)


@transaction.atomic
def record_webhook_attempt(*, delivery: WebhookDelivery, attempt: Attempt) -> list[int]:
    """Log the attempt; then, if this worker's claim still stands, mark it delivered, back it off, or
    give it up (a worker whose claim lapsed and was taken over only adds its log line). Returns the
    email deliveries queued (an owner told their subscription was disabled)."""
    answer = attempt.answer
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=delivery.attempts,
        url=delivery.subscription.url,
        remote_address=attempt.address,
        started_at=attempt.started_at,
        duration_ms=attempt.duration_ms,
        response_status=answer.status if answer else None,
        response_body=answer.body_excerpt if answer else "",
        error="" if attempt.succeeded else attempt.failure[:5000],
    )
    current = (
        WebhookDelivery.objects.select_for_update()
        .select_related("subscription")
        .filter(pk=delivery.pk, status=WebhookDeliveryStatus.SENDING, attempts=delivery.attempts)
        .first()
    )
    if current is None:
        return []
    now = timezone.now()
    current.last_response_status = answer.status if answer else None
    if attempt.succeeded:
        current.status, current.delivered_at, current.next_attempt_at, current.last_error = (
            WebhookDeliveryStatus.DELIVERED,
            now,
            None,
            "",
        )
        current.save(update_fields=["status", "delivered_at", "next_attempt_at", "last_error", "last_response_status"])
        if not current.is_test:
            WebhookSubscription.objects.filter(pk=current.subscription_id, consecutive_failures__gt=0).update(
                consecutive_failures=0
            )
        return []
    current.save(update_fields=["last_response_status"])
    if current.attempts >= _max_attempts(current):
        return _give_up(current, error=attempt.failure, now=now)
    current.status, current.last_error = WebhookDeliveryStatus.FAILED, attempt.failure[:5000]
    current.next_attempt_at = now + retry_delay(current.attempts)
    current.save(update_fields=["status", "last_error", "next_attempt_at"])
    return []


def _give_up(delivery: WebhookDelivery, *, error: str, now: datetime) -> list[int]:
    """Dead-letter the delivery and count it against its subscription, which is disabled (and its
    owner told) after OTC_WEBHOOK_DISABLE_AFTER_FAILED_DELIVERIES in a row. Call inside a transaction."""
    delivery.status, delivery.given_up_at, delivery.next_attempt_at = WebhookDeliveryStatus.GIVEN_UP, now, None
    delivery.last_error = error[:5000]
    delivery.save(update_fields=["status", "given_up_at", "next_attempt_at", "last_error"])
    if delivery.is_test:
        return []
    subscription = (
        WebhookSubscription.objects.select_for_update()
        .select_related("api_key__created_by")
        .get(pk=delivery.subscription_id)
    )
    subscription.consecutive_failures = F("consecutive_failures") + 1
    subscription.save(update_fields=["consecutive_failures"])
    subscription.refresh_from_db(fields=["consecutive_failures"])
    limit = settings.OTC_WEBHOOK_DISABLE_AFTER_FAILED_DELIVERIES
    if not subscription.is_active or subscription.consecutive_failures < limit:
        return []
    reason = f"{subscription.consecutive_failures} deliveries in a row were given up; the last: {error}"
    _disable(subscription, reason=reason, actor=automation_user())
    return _tell_owners_of_disabling(subscription, event=delivery.event)


def owner_emails(subscription: WebhookSubscription) -> list[str]:
    """Who hears about the subscription: the partner's contact, whoever created it and whoever issued
    its API key (service accounts' placeholder addresses left out)."""
    candidates = [subscription.contact_email, subscription.created_by.email, subscription.api_key.created_by.email]
    emails: list[str] = []
    for email in candidates:
        if email and not email.endswith(".invalid") and email not in emails:
            emails.append(email)
    return emails


def _tell_owners_of_disabling(subscription: WebhookSubscription, *, event: OutboxEvent | None) -> list[int]:
    if event is None:
        return []
    queued = [
        queue_email(
            event=event,
            handler=SUBSCRIPTION_DISABLED_HANDLER,
            recipient=recipient,
            template="webhook_subscription_disabled",
            context={"subscription": subscription, "api_key": subscription.api_key},
        )
        for recipient in owner_emails(subscription)
    ]
    return [delivery.pk for delivery in queued if delivery is not None]


@transaction.atomic
def replay_delivery(*, delivery: WebhookDelivery, actor: User) -> WebhookDelivery:
    """Send a dead letter (or a failed delivery waiting for its retry) once more, now. It keeps its
    webhook-id, so a partner that did receive it can tell. A replay that fails goes back to the dead
    letters instead of starting a new round of retries."""
    delivery = (
        WebhookDelivery.objects.select_for_update(of=("self",)).select_related("subscription").get(pk=delivery.pk)
    )
    if delivery.status not in REPLAYABLE_STATUSES:
        raise DeliveryNotReplayable(f"This delivery is {delivery.get_status_display().lower()}; nothing to replay.")
    if not delivery.subscription.is_active and not delivery.is_test:
        raise SubscriptionDisabled("The subscription is disabled: enable it first, then replay.")
    delivery.status, delivery.next_attempt_at, delivery.given_up_at = WebhookDeliveryStatus.PENDING, None, None
    delivery.save(update_fields=["status", "next_attempt_at", "given_up_at"])
    logger.info("webhooks.replayed", delivery_id=delivery.pk, actor_id=actor.pk)
    return delivery


def webhook_deliveries_due(*, limit: int = 500) -> list[int]:
    """Deliveries whose back-off has passed, and those whose worker's claim lapsed; untried ones only
    after OUTBOX_SWEEP_AFTER_SECONDS, since the dispatching task sends those itself."""
    now = timezone.now()
    settled = now - timedelta(seconds=settings.OUTBOX_SWEEP_AFTER_SECONDS)
    return list(
        WebhookDelivery.objects.filter(_claimable(now), Q(attempts__gt=0) | Q(created_at__lte=settled))
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
