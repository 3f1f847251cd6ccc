"""What happens after each event. Each handler reads its typed event and makes one call into the
app that owns the decision (who is told, whether to invoice or deliver now); the notices it returns
are queued as emails here, once per event, handler and recipient. `HANDLERS` maps event types to
handlers, in order."""

from collections.abc import Iterable

from django.urls import reverse

from customers import notices as customer_notices
from customers.events import (
    BillingDataChanged,
    ChangeRequestDecided,
    ChangeRequestSubmitted,
    CreditHoldPlaced,
    PortalInvitationSent,
)
from customers.models import Customer, InvitationStatus, PortalInvitation
from customers.notices import sms_recipients
from customers.services import invitation_token
from inventory import notices as inventory_notices
from inventory.events import LowStock, StockReceived
from invoicing import services as invoicing
from invoicing.documents.render import money
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
from orders.models import ReturnOrder, Shipment
from otc.notices import Notice
from otc.roles import staff_with_permission
from otc.services import automation_user
from payments.collections import notices as collection_notices
from payments.events import DunningLetterIssued, PaymentAllocated, PaymentReminderDue, PromiseToPayBroken
from payments.models import PromiseToPay
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
from service.models import Dispute, SlaAlert, SlaAlertKind, Survey, Team, Ticket
from service.selectors import account_recipients, key_account
from service.services import request_delivery_survey, request_ticket_survey, survey_token
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
    """The invitation email with its one-time link, in the customer's language. An event of an
    invitation since resent, revoked or accepted sends nothing: only the latest link is live."""
    invitation = PortalInvitation.objects.select_related("customer", "invited_by").get(
        pk=event.payload["invitation_id"]
    )
    if invitation.status != InvitationStatus.PENDING or invitation.sent_count != event.payload["sent_count"]:
        return
    path = reverse("portal:accept-invitation", kwargs={"token": invitation_token(invitation)})
    queue_email(
        event=event,
        handler=send_portal_invitation.__name__,
        recipient=invitation.email,
        template="portal_invitation",
        language=invitation.customer.language,
        context={"invitation": invitation, "customer": invitation.customer, "path": path},
    )


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


def _email_survey(event: OutboxEvent, handler: Handler, survey: Survey | None) -> None:
    if survey is None:
        return
    customer = survey.customer
    context = {
        "survey": survey,
        "customer": customer,
        "survey_path": reverse("survey-answer", args=[survey_token(survey)]),
    }
    queue_notices(
        event, handler, [Notice([survey.contact.email], "survey_request", context, language=customer.language)]
    )


def send_ticket_survey(event: OutboxEvent) -> None:
    """Ask how the solved ticket went, when service's rules allow a survey (once per ticket)."""
    ticket = Ticket.objects.get(pk=event.payload["ticket_id"])
    _email_survey(event, send_ticket_survey, request_ticket_survey(ticket=ticket))


def send_delivery_survey(event: OutboxEvent) -> None:
    """Ask how the delivery went, when service's rules allow a survey (once per shipment)."""
    shipment = Shipment.objects.get(pk=event.payload["shipment_id"])
    _email_survey(event, send_delivery_survey, request_delivery_survey(shipment=shipment))


# --- Representative notifications: the account's sales rep and team, once per event ------------------


def _tell_account(
    event: OutboxEvent, handler: Handler, *, customer: Customer, template: str, context: dict, team: Team | None = None
) -> None:
    """Email the account's people (service.selectors.account_recipients), once each per event."""
    recipients = account_recipients(customer, team=team)
    queue_notices(event, handler, [Notice(recipients, template, {"customer": customer, **context})])


def notify_account_of_key_account_ticket(event: OutboxEvent) -> None:
    """A key account wrote in: its sales rep and team hear of it at once."""
    ticket = Ticket.objects.select_related("customer__sales_rep", "team__lead").get(pk=event.payload["ticket_id"])
    if ticket.customer is None or key_account(ticket.customer) is None:
        return
    _tell_account(
        event,
        notify_account_of_key_account_ticket,
        customer=ticket.customer,
        team=ticket.team,
        template="account_ticket_opened",
        context={"ticket": ticket},
    )


def notify_account_of_sla_breaching_soon(event: OutboxEvent) -> None:
    """A ticket about to breach its SLA: the account's sales rep and its key-account team hear of it
    (the assignee and the ticket team's lead are told by notify_of_sla_alert)."""
    alert = SlaAlert.objects.select_related("ticket__customer__sales_rep", "ticket__team__lead").get(
        pk=event.payload["alert_id"]
    )
    if alert.kind not in (SlaAlertKind.FIRST_RESPONSE_SOON, SlaAlertKind.RESOLUTION_SOON):
        return
    ticket = alert.ticket
    _tell_account(
        event,
        notify_account_of_sla_breaching_soon,
        customer=ticket.customer,
        template="account_sla_breaching_soon",
        context={"ticket": ticket, "kind_label": alert.get_kind_display(), "due_at": alert.due_at},
    )


def notify_of_low_survey_score(event: OutboxEvent) -> None:
    """A low score: the team lead, the account's sales rep and the team hear of it; nothing reopens."""
    survey = Survey.objects.select_related(
        "customer__sales_rep", "contact", "ticket", "shipment", "team__lead", "agent"
    ).get(pk=event.payload["survey_id"])
    _tell_account(
        event,
        notify_of_low_survey_score,
        customer=survey.customer,
        team=survey.team,
        template="survey_scored_low",
        context={"survey": survey},
    )


def notify_account_of_dispute(event: OutboxEvent) -> None:
    dispute = Dispute.objects.select_related("customer__sales_rep", "invoice", "ticket__team__lead").get(
        pk=event.payload["dispute_id"]
    )
    _tell_account(
        event,
        notify_account_of_dispute,
        customer=dispute.customer,
        team=dispute.ticket.team if dispute.ticket else None,
        template="account_dispute_opened",
        context={"dispute": dispute},
    )


def notify_account_of_broken_promise(event: OutboxEvent) -> None:
    promise = PromiseToPay.objects.select_related("customer__sales_rep").get(pk=event.payload["promise_id"])
    _tell_account(
        event,
        notify_account_of_broken_promise,
        customer=promise.customer,
        template="account_promise_broken",
        context={
            "promise": promise,
            "amount": money(promise.amount, promise.currency),
            "invoices": promise.invoices.order_by("number"),
        },
    )


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
