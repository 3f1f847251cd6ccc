"""Domain signals become outbox rows in the sending transaction; each row is enqueued on commit."""

from django.db import transaction
from django.dispatch import Signal

from customers import signals as customer_signals
from inventory import signals as inventory_signals
from invoicing import signals as invoicing_signals
from orders import signals as order_signals
from otc.signals import weekly_kpis_ready
from payments import signals as payment_signals
from service import signals as service_signals
from workflows import tasks
from workflows.services import record_event, record_events

EVENT_TYPES: dict[Signal, str] = {
    customer_signals.customer_created: "customer.created",
    customer_signals.customer_changed: "customer.changed",
    customer_signals.billing_data_changed: "customer.billing_data_changed",
    customer_signals.credit_hold_placed: "customer.credit_hold_placed",
    customer_signals.credit_hold_released: "customer.credit_hold_released",
    customer_signals.change_request_submitted: "customer.change_request_submitted",
    customer_signals.change_request_decided: "customer.change_request_decided",
    customer_signals.portal_invitation_sent: "customer.portal_invitation_sent",
    inventory_signals.low_stock: "inventory.low_stock",
    order_signals.order_confirmed: "order.confirmed",
    order_signals.order_put_on_credit_hold: "order.put_on_credit_hold",
    order_signals.order_credit_hold_released: "order.credit_hold_released",
    order_signals.order_rejected: "order.rejected",
    order_signals.order_cancelled: "order.cancelled",
    order_signals.shipment_dispatched: "shipment.dispatched",
    order_signals.shipment_delivered: "shipment.delivered",
    order_signals.goods_returned: "order.goods_returned",
    invoicing_signals.invoice_issued: "invoice.issued",
    invoicing_signals.credit_note_issued: "credit_note.issued",
    invoicing_signals.invoice_resend_requested: "invoice.resend_requested",
    payment_signals.payment_received: "payment.received",
    payment_signals.payment_allocated: "payment.allocated",
    payment_signals.dunning_letter_issued: "dunning.letter_issued",
    payment_signals.payment_reminder_due: "invoice.payment_reminder_due",
    service_signals.ticket_opened: "ticket.opened",
    service_signals.ticket_reply_posted: "ticket.reply_posted",
    service_signals.ticket_sla_alert_raised: "ticket.sla_alert_raised",
    weekly_kpis_ready: "analytics.weekly_kpis_ready",
}


def _recorder(event_type: str):
    def record(sender, signal, **payload) -> None:
        event = record_event(event_type=event_type, payload=payload)
        # robust: the change has committed by then; a broker that is down must not turn it into an
        # error for the caller. The event row stays pending and the sweeper enqueues it later.
        transaction.on_commit(lambda: tasks.dispatch_event.delay(event.pk), robust=True)

    record.__name__ = f"record_{event_type.replace('.', '_')}"
    return record


for _signal, _event_type in EVENT_TYPES.items():
    _signal.connect(_recorder(_event_type), weak=False, dispatch_uid=f"outbox:{_event_type}")


def record_bulk_invoices(sender, signal, invoice_ids: list[int], actor_id: int, **payload) -> None:
    """One invoice.issued event per invoice of a bulk run, written in one statement, enqueued as one task."""
    events = record_events(
        event_type="invoice.issued",
        payloads=[{"invoice_id": invoice_id, "actor_id": actor_id, **payload} for invoice_id in invoice_ids],
    )
    event_ids = [event.pk for event in events]
    transaction.on_commit(lambda: tasks.dispatch_events.delay(event_ids), robust=True)


invoicing_signals.invoices_issued_in_bulk.connect(record_bulk_invoices, weak=False, dispatch_uid="outbox:bulk")
