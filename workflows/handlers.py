"""What happens after each event. Each handler reads its typed event and makes one call into the
app that owns the decision (who is told, whether to invoice or deliver now); the notices it returns
are queued as emails here, once per event, handler and recipient. `HANDLERS` maps event types to
handlers, in order."""

from collections.abc import Iterable

from customers import notices as customer_notices
from customers.events import (
    BillingDataChanged,
    ChangeRequestDecided,
    ChangeRequestSubmitted,
    CreditHoldPlaced,
    PortalInvitationSent,
)
from customers.models import Customer
from customers.notices import sms_recipients
from inventory import notices as inventory_notices
from inventory.events import LowStock, StockReceived
from invoicing import services as invoicing
from invoicing.documents.services import deliver_document
from invoicing.events import CreditNoteIssued, InvoiceIssued, InvoiceResendRequested
from orders import notices as order_notices
from orders import services as order_services
from orders.events import (
    GoodsReturned,
    OrderConfirmed,
    OrderPutOnCreditHold,
    ReturnRequestDecided,
    ShipmentDelivered,
    ShipmentDispatched,
)
from orders.models import ReturnOrder
from otc.notices import Notice
from otc.roles import staff_with_permission
from otc.services import automation_user
from payments.collections import notices as collection_notices
from payments.events import DunningLetterIssued, PaymentAllocated, PaymentReminderDue, PromiseToPayBroken
from payments.money import notices as money_notices
from service import notices as service_notices
from service.events import (
    DisputeOpened,
    SurveyScoredLow,
    TicketOpened,
    TicketReplyPosted,
    TicketSlaAlertRaised,
    TicketSolved,
)
from workflows.models import NotificationChannel, OutboxEvent
from workflows.notifications.templates import staff_templates
from workflows.rules.runner import run_automation_rules
from workflows.services import ANY_EVENT, Handler, queue_email, queue_sms
from workflows.webhooks.services import queue_event_for_subscribers


def queue_notices(event: OutboxEvent, handler: Handler, notices: Iterable[Notice]) -> None:
    """Queue each notice's email to each of its recipients, once per event, handler and recipient, and
    an SMS to those of a customer's contacts who asked for one, when its key has an SMS template."""
    for notice in notices:
        queue_notice_sms(event, handler, notice)
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


def queue_notice_sms(event: OutboxEvent, handler: Handler, notice: Notice) -> None:
    customer = notice.context.get("customer")
    if not isinstance(customer, Customer):
        return
    template = staff_templates(key=notice.template, language=notice.language).get(NotificationChannel.SMS)
    if template is None:
        return
    for number in sms_recipients(customer, notice.recipients):
        queue_sms(
            event=event,
            handler=handler.__name__,
            recipient=number,
            template=template,
            context=notice.context,
            language=notice.language,
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


def send_portal_invitation(event: OutboxEvent) -> None:
    notices = customer_notices.portal_invitation(PortalInvitationSent.from_payload(event.payload))
    queue_notices(event, send_portal_invitation, notices)


def send_order_confirmation(event: OutboxEvent) -> None:
    notices = order_notices.order_confirmation(OrderConfirmed.from_payload(event.payload))
    queue_notices(event, send_order_confirmation, notices)


def send_shipment_notification(event: OutboxEvent) -> None:
    notices = order_notices.shipment_notification(ShipmentDispatched.from_payload(event.payload))
    queue_notices(event, send_shipment_notification, notices)


def notify_credit_control_of_held_order(event: OutboxEvent) -> None:
    notices = order_notices.held_order(OrderPutOnCreditHold.from_payload(event.payload))
    queue_notices(event, notify_credit_control_of_held_order, notices)


def send_return_request_decision(event: OutboxEvent) -> None:
    notices = order_notices.return_request_decided(ReturnRequestDecided.from_payload(event.payload))
    queue_notices(event, send_return_request_decision, notices)


def allocate_received_stock(event: OutboxEvent) -> None:
    """Orders waiting for the product in that warehouse take the stock that arrived."""
    received = StockReceived.from_payload(event.payload)
    order_services.allocate_received_stock(
        product_id=received.product_id, warehouse_id=received.warehouse_id, actor=automation_user()
    )


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


def send_ticket_survey(event: OutboxEvent) -> None:
    queue_notices(event, send_ticket_survey, service_notices.ticket_survey(TicketSolved.from_payload(event.payload)))


def send_delivery_survey(event: OutboxEvent) -> None:
    notices = service_notices.delivery_survey(ShipmentDelivered.from_payload(event.payload))
    queue_notices(event, send_delivery_survey, notices)


def notify_account_of_key_account_ticket(event: OutboxEvent) -> None:
    notices = service_notices.key_account_ticket(TicketOpened.from_payload(event.payload))
    queue_notices(event, notify_account_of_key_account_ticket, notices)


def notify_account_of_sla_breaching_soon(event: OutboxEvent) -> None:
    notices = service_notices.sla_breaching_soon(TicketSlaAlertRaised.from_payload(event.payload))
    queue_notices(event, notify_account_of_sla_breaching_soon, notices)


def notify_of_low_survey_score(event: OutboxEvent) -> None:
    notices = service_notices.low_survey_score(SurveyScoredLow.from_payload(event.payload))
    queue_notices(event, notify_of_low_survey_score, notices)


def notify_account_of_dispute(event: OutboxEvent) -> None:
    notices = service_notices.dispute_opened(DisputeOpened.from_payload(event.payload))
    queue_notices(event, notify_account_of_dispute, notices)


def notify_account_of_broken_promise(event: OutboxEvent) -> None:
    notices = service_notices.broken_promise(PromiseToPayBroken.from_payload(event.payload))
    queue_notices(event, notify_account_of_broken_promise, notices)


def queue_partner_webhooks(event: OutboxEvent) -> None:
    """Every event to the partner systems subscribed to its type, once per subscription."""
    queue_event_for_subscribers(event=event, handler=queue_partner_webhooks.__name__)


HANDLERS: dict[str, list[Handler]] = {
    CreditHoldPlaced.type: [notify_sales_rep_of_credit_hold],
    BillingDataChanged.type: [notify_sales_rep_of_billing_change],
    ChangeRequestSubmitted.type: [notify_approvers_of_change_request],
    ChangeRequestDecided.type: [notify_requester_of_decision],
    OrderConfirmed.type: [send_order_confirmation],
    OrderPutOnCreditHold.type: [notify_credit_control_of_held_order],
    ShipmentDispatched.type: [invoice_dispatched_shipment, send_shipment_notification],
    GoodsReturned.type: [credit_returned_goods],
    ReturnRequestDecided.type: [send_return_request_decision],
    LowStock.type: [alert_stock_managers],
    StockReceived.type: [allocate_received_stock],
    InvoiceIssued.type: [deliver_invoice],
    CreditNoteIssued.type: [deliver_invoice],
    InvoiceResendRequested.type: [deliver_invoice],
    DunningLetterIssued.type: [send_dunning_letter],
    PaymentAllocated.type: [send_payment_receipt],
    PaymentReminderDue.type: [send_payment_reminder],
    TicketReplyPosted.type: [send_ticket_reply],
    TicketSlaAlertRaised.type: [notify_of_sla_alert, notify_account_of_sla_breaching_soon],
    TicketOpened.type: [notify_account_of_key_account_ticket],
    TicketSolved.type: [send_ticket_survey],
    ShipmentDelivered.type: [send_delivery_survey],
    SurveyScoredLow.type: [notify_of_low_survey_score],
    DisputeOpened.type: [notify_account_of_dispute],
    PromiseToPayBroken.type: [notify_account_of_broken_promise],
    PortalInvitationSent.type: [send_portal_invitation],
    "analytics.weekly_kpis_ready": [email_weekly_kpis],
    ANY_EVENT: [run_automation_rules, queue_partner_webhooks],
}
