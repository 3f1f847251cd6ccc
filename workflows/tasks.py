"""Celery tasks: thin callers of workflows.services, taking ids and reloading rows."""

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from invoicing.services import invoice_consolidated_shipments
from otc.api.idempotency import purge_expired_records
from otc.services import automation_user
from payments.collections import services as collections
from workflows import services
from workflows.handlers import HANDLERS
from workflows.models import DeliveryStatus, WebhookDeliveryStatus
from workflows.notifications import staff
from workflows.rules.runner import resume_due_steps
from workflows.webhooks import services as webhooks


@shared_task(name="workflows.tasks.dispatch_event")
def dispatch_event(event_id: int) -> None:
    event = services.dispatch_event(event_id=event_id, handlers=HANDLERS)
    if event is not None:
        for delivery_id in event.deliveries.filter(status=DeliveryStatus.PENDING).values_list("pk", flat=True):
            deliver.delay(delivery_id)
        pending_webhooks = event.webhook_deliveries.filter(status=WebhookDeliveryStatus.PENDING)
        for delivery_id in pending_webhooks.values_list("pk", flat=True):
            deliver_webhook.delay(delivery_id)


@shared_task(name="workflows.tasks.dispatch_events")
def dispatch_events(event_ids: list[int]) -> None:
    """A bulk run's events, dispatched one after another by one task."""
    for event_id in event_ids:
        dispatch_event(event_id)


@shared_task(name="workflows.tasks.deliver")
def deliver(delivery_id: int) -> None:
    services.deliver(delivery_id=delivery_id)


@shared_task(name="workflows.tasks.sweep_outbox")
def sweep_outbox() -> dict[str, int]:
    """Re-enqueue what a dead broker or a killed worker left behind."""
    events, deliveries = services.events_due(), services.deliveries_due()
    for event_id in events:
        dispatch_event.delay(event_id)
    for delivery_id in deliveries:
        deliver.delay(delivery_id)
    return {"events": len(events), "deliveries": len(deliveries)}


@shared_task(name="workflows.tasks.resume_delayed_steps")
def resume_delayed_steps() -> int:
    """Every few minutes: automation rules' waits that are over re-check their conditions and go on
    (their emails are sent by the sweeper, like any other delivery)."""
    return resume_due_steps()


@shared_task(name="workflows.tasks.purge_idempotency_records")
def purge_idempotency_records() -> int:
    return purge_expired_records()


@shared_task(name="workflows.tasks.invoice_consolidated_shipments")
def run_consolidated_invoicing() -> int:
    """Daily: weekly and monthly customers get one invoice for the period that ended."""
    return len(invoice_consolidated_shipments(actor=automation_user()))


@shared_task(name="workflows.tasks.run_dunning")
def run_dunning() -> int:
    """Daily: today's dunning run (a second call the same day returns the first); letters go out through the outbox."""
    return collections.run_dunning(run_date=timezone.localdate(), actor=automation_user()).letters_count


@shared_task(name="workflows.tasks.send_payment_reminders")
def send_payment_reminders() -> int:
    """Daily: a reminder for each invoice falling due within OTC_PAYMENT_REMINDER_DAYS days, once per invoice."""
    days_ahead = settings.OTC_PAYMENT_REMINDER_DAYS
    return len(collections.record_payment_reminders(today=timezone.localdate(), days_ahead=days_ahead))


@shared_task(name="workflows.tasks.deliver_webhook")
def deliver_webhook(delivery_id: int) -> None:
    """POST one webhook delivery; the emails it queued (a subscription disabled) go out next."""
    result = webhooks.send_webhook(delivery_id=delivery_id)
    for email_id in result.emails if result is not None else []:
        deliver.delay(email_id)


@shared_task(name="workflows.tasks.sweep_webhook_deliveries")
def sweep_webhook_deliveries() -> int:
    """Beat, every 15 s: webhook deliveries whose back-off passed, or whose worker died mid-POST."""
    due = webhooks.webhook_deliveries_due()
    for delivery_id in due:
        deliver_webhook.delay(delivery_id)
    return len(due)


@shared_task(name="workflows.tasks.send_staff_digests")
def send_staff_digests() -> int:
    """Hourly: each digest user whose local digest hour has come gets the day's digest, once."""
    sent = 0
    for user, day in staff.digests_due(now=timezone.now()):
        delivery = staff.send_staff_digest(user=user, day=day)
        if delivery is not None:
            deliver.delay(delivery.pk)
            sent += 1
    return sent
