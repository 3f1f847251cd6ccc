"""The suppression list: addresses the mail provider reported as hard-bouncing or complaining. Nothing
is queued to them until staff remove the entry; each bounce or complaint is also recorded on the
Delivery it concerns."""

import uuid

import structlog
from anymail.signals import AnymailTrackingEvent, EventType
from django.db import transaction
from django.utils import timezone

from otc.audit import acting
from otc.models import User
from workflows.models import Delivery, DeliveryChannel, DeliveryOutcome, Suppression, SuppressionReason

logger = structlog.get_logger(__name__)


def is_suppressed(address: str) -> bool:
    return Suppression.objects.filter(address=address.strip().lower()).exists()


def _uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _delivery_of(event: AnymailTrackingEvent) -> Delivery | None:
    """The delivery the provider reports on: by the id we sent in its metadata, else the provider's
    message id, else the latest email to that address."""
    emails = Delivery.objects.filter(channel=DeliveryChannel.EMAIL)
    key = _uuid((event.metadata or {}).get("delivery"))
    if key is not None and (found := emails.filter(idempotency_key=key).first()):
        return found
    if event.message_id and (found := emails.filter(provider_message_id=event.message_id).first()):
        return found
    if event.recipient:
        return emails.filter(recipient__iexact=event.recipient).order_by("-created_at").first()
    return None


def _is_hard_bounce(event: AnymailTrackingEvent) -> bool:
    """Postmark says HardBounce, Mailgun severity permanent; other providers' bounces count as hard."""
    raw = event.esp_event if isinstance(event.esp_event, dict) else {}
    if "Type" in raw:
        return raw["Type"] == "HardBounce"
    severity = raw.get("event-data", {}).get("severity") if isinstance(raw.get("event-data"), dict) else None
    return severity in (None, "permanent")


@transaction.atomic
def record_tracking_event(*, event: AnymailTrackingEvent) -> Suppression | None:
    """Record a bounce or complaint on its delivery, and suppress the address when it is a hard bounce
    or a complaint. Other tracking events (delivered, opened ...) are not kept."""
    if event.event_type not in (EventType.BOUNCED, EventType.COMPLAINED):
        return None
    outcome = DeliveryOutcome.BOUNCED if event.event_type == EventType.BOUNCED else DeliveryOutcome.COMPLAINED
    reason = " - ".join(part for part in (event.description, event.mta_response) if part) or str(event.reject_reason)
    delivery = _delivery_of(event)
    if delivery is not None:
        Delivery.objects.filter(pk=delivery.pk).update(
            outcome=outcome, outcome_reason=reason[:5000], outcome_at=event.timestamp or timezone.now()
        )
    address = (event.recipient or (delivery.recipient if delivery else "")).strip().lower()
    if not address or (outcome == DeliveryOutcome.BOUNCED and not _is_hard_bounce(event)):
        logger.info("delivery.soft_bounce", address=address, reason=reason)
        return None
    suppression, created = Suppression.objects.get_or_create(
        address=address,
        defaults={"reason": SuppressionReason(outcome.value), "detail": reason[:5000], "delivery": delivery},
    )
    if created:
        logger.info("suppression.added", address=address, reason=outcome.value)
    return suppression


@transaction.atomic
def lift_suppression(*, suppression: Suppression, actor: User) -> None:
    """Staff remove an address from the list (e.g. the customer fixed their mailbox)."""
    logger.info("suppression.lifted", address=suppression.address, actor_id=actor.pk, reason=suppression.reason)
    with acting(actor, "lift suppression"):
        suppression.delete()


def on_tracking(sender, event: AnymailTrackingEvent, esp_name: str, **kwargs) -> None:
    record_tracking_event(event=event)
