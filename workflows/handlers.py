"""What happens after each event. A handler receives the event inside its own transaction, loads what
it needs by id and queues its effects; `HANDLERS` maps event types to handlers, in order."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import translation

from customers.models import ChangeRequest, ContactRole, Customer, InvoiceDelivery, NotificationType
from inventory.models import Product, Warehouse
from invoicing import services as invoicing
from invoicing.documents.render import money
from invoicing.documents.services import document_for
from invoicing.models import DeliveryChannel, DocumentFormat, Invoice, InvoiceDeliveryLog, InvoicedShipment
from invoicing.selectors import company_profile, invoices_each_shipment, is_on_hold
from orders.models import Order, ReturnOrder, Shipment
from otc.services import automation_user
from payments.collections.letters import dunning_letter_document, letter_title
from payments.models import Allocation, DunningLetter, Payment
from service.models import MessageKind, SlaAlert, TicketMessage, TicketRecognition
from workflows.models import OutboxEvent
from workflows.services import Handler, queue_email


def _customer(event: OutboxEvent) -> Customer:
    return Customer.objects.select_related("sales_rep", "credit").get(pk=event.payload["customer_id"])


def _actor_name(event: OutboxEvent) -> str:
    actor = get_user_model().objects.filter(pk=event.payload.get("actor_id")).first()
    return str(actor) if actor else "the system"


def staff_with_permission(permission: str, *, superusers: bool = True) -> QuerySet:
    """Active staff who hold `app_label.codename` directly, through a group, or as superusers (unless
    `superusers` is off: an opt-in permission is only held when granted)."""
    app_label, codename = permission.split(".")
    grant = Q(user_permissions__codename=codename, user_permissions__content_type__app_label=app_label) | Q(
        groups__permissions__codename=codename, groups__permissions__content_type__app_label=app_label
    )
    if superusers:
        grant |= Q(is_superuser=True)
    return get_user_model().objects.filter(grant, is_active=True, is_staff=True).distinct()


def customer_recipients(customer: Customer, roles: list[str], notification: str) -> list[str]:
    """Emails of the customer's active contacts in the first role that has any, unless opted out."""
    if notification in customer.preferences.opt_outs:
        return []
    contacts = list(customer.contacts.filter(is_active=True))
    for role in roles:
        emails = sorted({contact.email for contact in contacts if role in contact.roles})
        if emails:
            return emails
    return []


def notify_sales_rep_of_credit_hold(event: OutboxEvent) -> None:
    customer = _customer(event)
    if customer.sales_rep is None:
        return
    queue_email(
        event=event,
        handler=notify_sales_rep_of_credit_hold.__name__,
        recipient=customer.sales_rep.email,
        template="credit_hold_placed",
        context={
            "customer": customer,
            "reason": event.payload.get("reason", ""),
            "actor": _actor_name(event),
            "rep": customer.sales_rep,
        },
    )


def notify_sales_rep_of_billing_change(event: OutboxEvent) -> None:
    customer = _customer(event)
    if customer.sales_rep is None:
        return
    queue_email(
        event=event,
        handler=notify_sales_rep_of_billing_change.__name__,
        recipient=customer.sales_rep.email,
        template="billing_data_changed",
        context={
            "customer": customer,
            "changed": event.payload.get("changed", []),
            "actor": _actor_name(event),
            "rep": customer.sales_rep,
        },
    )


def notify_approvers_of_change_request(event: OutboxEvent) -> None:
    change_request = ChangeRequest.objects.select_related("customer", "requested_by").get(
        pk=event.payload["change_request_id"]
    )
    approvers = staff_with_permission("customers.approve_changerequest").exclude(pk=change_request.requested_by_id)
    for approver in approvers:
        queue_email(
            event=event,
            handler=notify_approvers_of_change_request.__name__,
            recipient=approver.email,
            template="change_request_submitted",
            context={"change_request": change_request, "customer": change_request.customer, "approver": approver},
        )


def notify_requester_of_decision(event: OutboxEvent) -> None:
    change_request = ChangeRequest.objects.select_related("customer", "requested_by", "decided_by").get(
        pk=event.payload["change_request_id"]
    )
    queue_email(
        event=event,
        handler=notify_requester_of_decision.__name__,
        recipient=change_request.requested_by.email,
        template="change_request_decided",
        context={"change_request": change_request, "customer": change_request.customer},
    )


def _order(event: OutboxEvent) -> Order:
    return (
        Order.objects.select_related("customer__preferences", "customer__sales_rep")
        .prefetch_related("lines")
        .get(pk=event.payload["order_id"])
    )


def send_order_confirmation(event: OutboxEvent) -> None:
    order = _order(event)
    customer = order.customer
    for recipient in customer_recipients(
        customer, [ContactRole.PURCHASING, ContactRole.BILLING], NotificationType.ORDER_CONFIRMATION
    ):
        queue_email(
            event=event,
            handler=send_order_confirmation.__name__,
            recipient=recipient,
            template="order_confirmation",
            language=customer.language,
            context={"order": order, "customer": customer, "lines": order.lines.all()},
        )


def send_shipment_notification(event: OutboxEvent) -> None:
    shipment = (
        Shipment.objects.select_related("order__customer__preferences")
        .prefetch_related("lines__order_line")
        .get(pk=event.payload["shipment_id"])
    )
    customer = shipment.order.customer
    for recipient in customer_recipients(
        customer, [ContactRole.SHIPPING, ContactRole.PURCHASING], NotificationType.SHIPMENT_NOTIFICATION
    ):
        queue_email(
            event=event,
            handler=send_shipment_notification.__name__,
            recipient=recipient,
            template="shipment_dispatched",
            language=customer.language,
            context={"shipment": shipment, "order": shipment.order, "customer": customer},
        )


def notify_credit_control_of_held_order(event: OutboxEvent) -> None:
    """The sales rep and everyone who may release held orders hear about it."""
    order = _order(event)
    recipients = {user.email for user in staff_with_permission("orders.release_credit_hold")}
    if order.customer.sales_rep is not None:
        recipients.add(order.customer.sales_rep.email)
    for recipient in sorted(recipients):
        queue_email(
            event=event,
            handler=notify_credit_control_of_held_order.__name__,
            recipient=recipient,
            template="order_credit_hold",
            context={"order": order, "customer": order.customer, "reason": event.payload.get("reason", "")},
        )


def alert_stock_managers(event: OutboxEvent) -> None:
    product = Product.objects.get(pk=event.payload["product_id"])
    warehouse = Warehouse.objects.get(pk=event.payload["warehouse_id"])
    for user in staff_with_permission("inventory.receive_low_stock_alerts"):
        queue_email(
            event=event,
            handler=alert_stock_managers.__name__,
            recipient=user.email,
            template="low_stock",
            context={"product": product, "warehouse": warehouse, **event.payload},
        )


def email_weekly_kpis(event: OutboxEvent) -> None:
    """The weekly KPIs to every staff member who opted in."""
    for user in staff_with_permission("analytics.receive_weekly_kpis", superusers=False):
        queue_email(
            event=event,
            handler=email_weekly_kpis.__name__,
            recipient=user.email,
            template="weekly_kpis",
            context=event.payload,
        )


def invoice_dispatched_shipment(event: OutboxEvent) -> None:
    """Per-shipment customers are invoiced as the goods leave; consolidated ones by the daily job."""
    if not invoices_each_shipment(event.payload["customer_id"]):
        return
    shipment = Shipment.objects.get(pk=event.payload["shipment_id"])
    if InvoicedShipment.objects.filter(shipment=shipment).exists():
        return
    invoicing.invoice_shipments(shipments=[shipment], actor=automation_user())


def credit_returned_goods(event: OutboxEvent) -> None:
    """Returned goods that were invoiced are credited on the invoices that billed them."""
    return_order = ReturnOrder.objects.get(pk=event.payload["return_id"])
    invoicing.credit_returned_goods(return_order=return_order, actor=automation_user())


# Invoices and credit notes are legal documents, not notifications: no NotificationType names them,
# so no opt-out can stop them. Only the choice of channel (Preferences.invoice_delivery) applies.
LEGAL_DOCUMENT = "legal_document"
DELIVERY_FORMATS = {
    InvoiceDelivery.PDF_EMAIL: [DocumentFormat.PDF],
    InvoiceDelivery.E_INVOICE: [DocumentFormat.UBL, DocumentFormat.FACTURX],
    InvoiceDelivery.PORTAL_ONLY: [],
}


def _invoice_email_context(invoice: Invoice, *, is_resend: bool) -> dict:
    with translation.override(invoice.language):
        return {
            "invoice": invoice,
            "customer": invoice.customer,
            "company": company_profile().legal_name,
            "is_resend": is_resend,
            "amount_due": money(invoice.open_amount, invoice.currency),
            "gross_total": money(invoice.gross_total, invoice.currency),
        }


def deliver_invoice(event: OutboxEvent) -> None:
    """Send an issued invoice or credit note the way the customer chose: PDF or e-invoice by email,
    or only the portal. Every delivery is logged; the automatic one at most once per document."""
    invoice = Invoice.objects.select_related("customer__preferences", "credited_invoice").get(
        pk=event.payload["invoice_id"]
    )
    customer = invoice.customer
    is_resend = event.event_type == "invoice.resend_requested"
    formats = DELIVERY_FORMATS[customer.preferences.invoice_delivery]
    recipients = (
        customer_recipients(customer, [ContactRole.BILLING, ContactRole.PURCHASING], LEGAL_DOCUMENT) if formats else []
    )
    try:
        with transaction.atomic():
            InvoiceDeliveryLog.objects.create(
                invoice=invoice,
                channel=DeliveryChannel.EMAIL if recipients else DeliveryChannel.PORTAL,
                recipients=recipients,
                formats=formats if recipients else [],
                is_resend=is_resend,
                requested_by_id=event.payload.get("actor_id") if is_resend else None,
            )
    except IntegrityError:
        return  # another event already delivered this document automatically
    if not recipients:
        return
    documents = [document_for(invoice=invoice, format=document_format) for document_format in formats]
    context = _invoice_email_context(invoice, is_resend=is_resend)
    for recipient in recipients:
        queue_email(
            event=event,
            handler=deliver_invoice.__name__,
            recipient=recipient,
            template="credit_note_issued" if invoice.is_credit_note else "invoice_issued",
            language=invoice.language,
            context=context,
            documents=documents,
        )


# --- Collections -------------------------------------------------------------------------------------


def send_dunning_letter(event: OutboxEvent) -> None:
    """Store the letter's PDF and email it to the dunning contacts, else billing. A dunning letter is a
    legal notice: no opt-out stops it. Without a contact it is still stored, for the portal and post."""
    letter = DunningLetter.objects.select_related("customer__preferences", "run").get(pk=event.payload["letter_id"])
    customer = letter.customer
    document = dunning_letter_document(letter=letter)
    recipients = customer_recipients(customer, [ContactRole.DUNNING, ContactRole.BILLING], LEGAL_DOCUMENT)
    with translation.override(customer.language):
        context = {
            "letter": letter,
            "customer": customer,
            "title": letter_title(letter),
            "company": company_profile().legal_name,
            "total_due": money(letter.total_due, letter.currency),
            "invoices": letter.invoices.order_by("due_date", "number"),
        }
    for recipient in recipients:
        queue_email(
            event=event,
            handler=send_dunning_letter.__name__,
            recipient=recipient,
            template="dunning_letter",
            language=customer.language,
            context=context,
            documents=[document],
        )


def send_payment_receipt(event: OutboxEvent) -> None:
    """Confirm to the customer which invoices a payment settled, unless they opted out of receipts."""
    payment = Payment.objects.select_related("customer__preferences").get(pk=event.payload["payment_id"])
    customer = payment.customer
    recipients = customer_recipients(
        customer, [ContactRole.BILLING, ContactRole.PURCHASING], NotificationType.PAYMENT_RECEIPT
    )
    if not recipients:
        return
    allocations = (
        Allocation.objects.filter(
            payment=payment, invoice_id__in=event.payload["invoice_ids"], reversed_at__isnull=True
        )
        .select_related("invoice")
        .order_by("invoice__number", "pk")
    )
    with translation.override(customer.language):
        context = {
            "payment": payment,
            "customer": customer,
            "company": company_profile().legal_name,
            "amount": money(payment.amount, payment.currency),
            "lines": [
                {
                    "number": allocation.invoice.number,
                    "applied": money(allocation.amount + allocation.write_off_amount, payment.currency),
                    "still_open": money(allocation.invoice.open_amount, payment.currency),
                }
                for allocation in allocations
            ],
        }
    for recipient in recipients:
        queue_email(
            event=event,
            handler=send_payment_receipt.__name__,
            recipient=recipient,
            template="payment_receipt",
            language=customer.language,
            context=context,
        )


def send_payment_reminder(event: OutboxEvent) -> None:
    """Remind of an invoice falling due soon, unless it was paid or held meanwhile or the customer opted out."""
    invoice = Invoice.objects.select_related("customer__preferences").get(pk=event.payload["invoice_id"])
    if invoice.open_amount <= 0 or is_on_hold(invoice):
        return
    customer = invoice.customer
    with translation.override(invoice.language):
        context = {
            "invoice": invoice,
            "customer": customer,
            "company": company_profile().legal_name,
            "amount_due": money(invoice.open_amount, invoice.currency),
        }
    for recipient in customer_recipients(
        customer, [ContactRole.BILLING, ContactRole.PURCHASING], NotificationType.PAYMENT_REMINDER
    ):
        queue_email(
            event=event,
            handler=send_payment_reminder.__name__,
            recipient=recipient,
            template="payment_reminder",
            language=invoice.language,
            context=context,
        )


# --- Service desk ------------------------------------------------------------------------------------


def send_ticket_reply(event: OutboxEvent) -> None:
    """Email an agent's reply to the ticket's contact (else whoever wrote in), with the ticket's token
    in the subject and the reply's Message-ID, answering the customer's latest email, so the
    customer's answer threads back into the same ticket. An automated invoice copy carries the PDF."""
    message = TicketMessage.objects.select_related("ticket__customer", "ticket__contact", "author").get(
        pk=event.payload["message_id"]
    )
    ticket = message.ticket
    headers = {"Message-ID": message.email_message_id}
    answered = (
        TicketMessage.objects.filter(ticket=ticket, kind=MessageKind.CUSTOMER_MESSAGE, pk__lt=message.pk)
        .exclude(email_message_id="")
        .order_by("-pk")
        .values_list("email_message_id", flat=True)
        .first()
    )
    if answered:
        headers.update({"In-Reply-To": answered, "References": answered})
    copy = TicketRecognition.objects.filter(answer=message, invoice__isnull=False).select_related("invoice").first()
    queue_email(
        event=event,
        handler=send_ticket_reply.__name__,
        recipient=ticket.recipient,
        template="ticket_reply",
        language=ticket.customer.language if ticket.customer else settings.LANGUAGE_CODE[:2],
        context={
            "ticket": ticket,
            "message": message,
            "agent_name": str(message.author) if message.author else "",
        },
        headers=headers,
        documents=[document_for(invoice=copy.invoice, format=DocumentFormat.PDF)] if copy else [],
    )


def notify_of_sla_alert(event: OutboxEvent) -> None:
    """The assignee and the team's lead hear of a target due soon or missed; the alert row is unique
    per ticket and kind, so each is told once."""
    alert = SlaAlert.objects.select_related("ticket__customer", "ticket__assignee", "ticket__team__lead").get(
        pk=event.payload["alert_id"]
    )
    ticket = alert.ticket
    recipients = {user.email for user in (ticket.assignee, ticket.team.lead if ticket.team else None) if user}
    for recipient in sorted(recipients):
        queue_email(
            event=event,
            handler=notify_of_sla_alert.__name__,
            recipient=recipient,
            template="ticket_sla_alert",
            context={"ticket": ticket, "kind_label": alert.get_kind_display(), "due_at": alert.due_at},
        )


HANDLERS: dict[str, list[Handler]] = {
    "customer.credit_hold_placed": [notify_sales_rep_of_credit_hold],
    "customer.billing_data_changed": [notify_sales_rep_of_billing_change],
    "customer.change_request_submitted": [notify_approvers_of_change_request],
    "customer.change_request_decided": [notify_requester_of_decision],
    "order.confirmed": [send_order_confirmation],
    "order.put_on_credit_hold": [notify_credit_control_of_held_order],
    "shipment.dispatched": [invoice_dispatched_shipment, send_shipment_notification],
    "order.goods_returned": [credit_returned_goods],
    "inventory.low_stock": [alert_stock_managers],
    "invoice.issued": [deliver_invoice],
    "credit_note.issued": [deliver_invoice],
    "invoice.resend_requested": [deliver_invoice],
    "dunning.letter_issued": [send_dunning_letter],
    "payment.allocated": [send_payment_receipt],
    "invoice.payment_reminder_due": [send_payment_reminder],
    "ticket.reply_posted": [send_ticket_reply],
    "ticket.sla_alert_raised": [notify_of_sla_alert],
    "analytics.weekly_kpis_ready": [email_weekly_kpis],
}
