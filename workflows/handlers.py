"""What happens after each event. Each handler reads its typed event and makes one call into the
app that owns the decision (who is told, whether to invoice or deliver now); the notices it returns
are queued as emails here, once per event, handler and recipient. `HANDLERS` maps event types to
handlers, in order."""

from collections.abc import Iterable

from customers import notices as customer_notices
from customers.events import BillingDataChanged, ChangeRequestDecided, ChangeRequestSubmitted, CreditHoldPlaced
from inventory import notices as inventory_notices
from inventory.events import LowStock
from invoicing import services as invoicing
from invoicing.documents.services import deliver_document
from invoicing.events import CreditNoteIssued, InvoiceIssued, InvoiceResendRequested
from orders import notices as order_notices
from orders.events import GoodsReturned, OrderConfirmed, OrderPutOnCreditHold, ShipmentDispatched
from orders.models import ReturnOrder
from otc.notices import Notice
from otc.roles import staff_with_permission
from otc.services import automation_user
from payments.collections import notices as collection_notices
from payments.events import DunningLetterIssued, PaymentAllocated, PaymentReminderDue
from payments.money import notices as money_notices
from service import notices as service_notices
from service.events import TicketReplyPosted, TicketSlaAlertRaised
from workflows.models import OutboxEvent
from workflows.services import Handler, queue_email


def queue_notices(event: OutboxEvent, handler: Handler, notices: Iterable[Notice]) -> None:
    """Queue each notice's email to each of its recipients, once per event, handler and recipient."""
    for notice in notices:
        for recipient in notice.recipients:
            queue_email(
                event=event,
                handler=handler.__name__,
                recipient=recipient,
                template=notice.template,
                context=notice.context,
                language=notice.language,
                documents=notice.attachments,
                headers=notice.headers,
            )


def notify_sales_rep_of_credit_hold(event: OutboxEvent) -> None:
    notices = customer_notices.credit_hold_placed(CreditHoldPlaced.from_payload(event.payload))
    queue_notices(event, notify_sales_rep_of_credit_hold, notices)


def notify_sales_rep_of_billing_change(event: OutboxEvent) -> None:
    notices = customer_notices.billing_data_changed(BillingDataChanged.from_payload(event.payload))
    queue_notices(event, notify_sales_rep_of_billing_change, notices)


def notify_approvers_of_change_request(event: OutboxEvent) -> None:
    notices = customer_notices.change_request_submitted(ChangeRequestSubmitted.from_payload(event.payload))
    queue_notices(event, notify_approvers_of_change_request, notices)


def notify_requester_of_decision(event: OutboxEvent) -> None:
    notices = customer_notices.change_request_decided(ChangeRequestDecided.from_payload(event.payload))
    queue_notices(event, notify_requester_of_decision, notices)


def send_order_confirmation(event: OutboxEvent) -> None:
    notices = order_notices.order_confirmation(OrderConfirmed.from_payload(event.payload))
    queue_notices(event, send_order_confirmation, notices)


def send_shipment_notification(event: OutboxEvent) -> None:
    notices = order_notices.shipment_notification(ShipmentDispatched.from_payload(event.payload))
    queue_notices(event, send_shipment_notification, notices)


def notify_credit_control_of_held_order(event: OutboxEvent) -> None:
    notices = order_notices.held_order(OrderPutOnCreditHold.from_payload(event.payload))
    queue_notices(event, notify_credit_control_of_held_order, notices)


def alert_stock_managers(event: OutboxEvent) -> None:
    notices = inventory_notices.low_stock(LowStock.from_payload(event.payload))
    queue_notices(event, alert_stock_managers, notices)


def email_weekly_kpis(event: OutboxEvent) -> None:
    """The weekly KPIs to every staff member who opted in. analytics, beside workflows at the top,
    cannot be imported here: its event's payload (analytics.events.WeeklyKpisReady) is read as is."""
    recipients = [user.email for user in staff_with_permission("analytics.receive_weekly_kpis", superusers=False)]
    queue_notices(event, email_weekly_kpis, [Notice(recipients, "weekly_kpis", event.payload)])


def invoice_dispatched_shipment(event: OutboxEvent) -> None:
    shipment = ShipmentDispatched.from_payload(event.payload)
    invoicing.invoice_shipment_if_due(
        shipment_id=shipment.shipment_id, customer_id=shipment.customer_id, actor=automation_user()
    )


def credit_returned_goods(event: OutboxEvent) -> None:
    """Returned goods that were invoiced are credited on the invoices that billed them."""
    returned = GoodsReturned.from_payload(event.payload)
    invoicing.credit_returned_goods(
        return_order=ReturnOrder.objects.get(pk=returned.return_id), actor=automation_user()
    )


def deliver_invoice(event: OutboxEvent) -> None:
    if event.event_type == CreditNoteIssued.type:
        notices = deliver_document(invoice_id=CreditNoteIssued.from_payload(event.payload).credit_note_id)
    elif event.event_type == InvoiceResendRequested.type:
        resend = InvoiceResendRequested.from_payload(event.payload)
        notices = deliver_document(invoice_id=resend.invoice_id, resend_requested_by_id=resend.actor_id)
    else:
        notices = deliver_document(invoice_id=InvoiceIssued.from_payload(event.payload).invoice_id)
    queue_notices(event, deliver_invoice, notices)


def send_dunning_letter(event: OutboxEvent) -> None:
    notices = collection_notices.dunning_letter(DunningLetterIssued.from_payload(event.payload))
    queue_notices(event, send_dunning_letter, notices)


def send_payment_receipt(event: OutboxEvent) -> None:
    notices = money_notices.payment_receipt(PaymentAllocated.from_payload(event.payload))
    queue_notices(event, send_payment_receipt, notices)


def send_payment_reminder(event: OutboxEvent) -> None:
    notices = collection_notices.payment_reminder(PaymentReminderDue.from_payload(event.payload))
    queue_notices(event, send_payment_reminder, notices)


def send_ticket_reply(event: OutboxEvent) -> None:
    notices = service_notices.ticket_reply(TicketReplyPosted.from_payload(event.payload))
    queue_notices(event, send_ticket_reply, notices)


def notify_of_sla_alert(event: OutboxEvent) -> None:
    notices = service_notices.sla_alert(TicketSlaAlertRaised.from_payload(event.payload))
    queue_notices(event, notify_of_sla_alert, notices)


HANDLERS: dict[str, list[Handler]] = {
    CreditHoldPlaced.type: [notify_sales_rep_of_credit_hold],
    BillingDataChanged.type: [notify_sales_rep_of_billing_change],
    ChangeRequestSubmitted.type: [notify_approvers_of_change_request],
    ChangeRequestDecided.type: [notify_requester_of_decision],
    OrderConfirmed.type: [send_order_confirmation],
    OrderPutOnCreditHold.type: [notify_credit_control_of_held_order],
    ShipmentDispatched.type: [invoice_dispatched_shipment, send_shipment_notification],
    GoodsReturned.type: [credit_returned_goods],
    LowStock.type: [alert_stock_managers],
    InvoiceIssued.type: [deliver_invoice],
    CreditNoteIssued.type: [deliver_invoice],
    InvoiceResendRequested.type: [deliver_invoice],
    DunningLetterIssued.type: [send_dunning_letter],
    PaymentAllocated.type: [send_payment_receipt],
    PaymentReminderDue.type: [send_payment_reminder],
    TicketReplyPosted.type: [send_ticket_reply],
    TicketSlaAlertRaised.type: [notify_of_sla_alert],
    "analytics.weekly_kpis_ready": [email_weekly_kpis],
}
