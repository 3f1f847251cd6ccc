"""The outbox run by hand, synchronously: what the worker does after commit (on_commit does not fire
under the `db` fixture)."""

from workflows.handlers import HANDLERS
from workflows.models import Delivery, DeliveryStatus, EventStatus, OutboxEvent, WebhookDelivery, WebhookDeliveryStatus
from workflows.services import deliver, dispatch_event
from workflows.webhooks.services import send_webhook


def run_outbox(event_type: str | None = None) -> list[OutboxEvent]:
    """Dispatch the pending events (of `event_type`, or all) in order, then send the emails and the
    partner webhooks their handlers queued; returns the events as dispatched."""
    pending = OutboxEvent.objects.filter(status=EventStatus.PENDING).order_by("pk")
    if event_type is not None:
        pending = pending.filter(event_type=event_type)
    events = [dispatch_event(event_id=event.pk, handlers=HANDLERS) for event in pending]
    for delivery in Delivery.objects.filter(status=DeliveryStatus.PENDING).order_by("pk"):
        deliver(delivery_id=delivery.pk)
    for webhook in WebhookDelivery.objects.filter(status=WebhookDeliveryStatus.PENDING).order_by("pk"):
        send_webhook(delivery_id=webhook.pk)
    return events
