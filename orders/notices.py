"""Who hears of order events: the customer's contacts of a confirmed order and of a dispatched
shipment, credit control of an order put on credit hold, and the customer of the decision on a
return request."""

from customers.models import NotificationType, PortalMembership
from customers.notices import customer_recipients
from orders.documents import confirmation_document, delivery_note_document
from orders.events import OrderConfirmed, OrderPutOnCreditHold, ReturnRequestDecided, ShipmentDispatched
from orders.models import Order, ReturnRequest, Shipment
from otc.notices import Notice
from otc.roles import staff_with_permission


def _order(order_id: int) -> Order:
    return (
        Order.objects.select_related("customer__preferences", "customer__sales_rep")
        .prefetch_related("lines")
        .get(pk=order_id)
    )


def order_confirmation(event: OrderConfirmed) -> list[Notice]:
    """The order confirmation, in the customer's language, with its PDF."""
    order = _order(event.order_id)
    customer = order.customer
    recipients = customer_recipients(customer, NotificationType.ORDER_CONFIRMATION)
    if not recipients:
        return []
    context = {"order": order, "customer": customer, "lines": order.lines.all()}
    attachments = [confirmation_document(order=order)]
    return [Notice(recipients, "order_confirmation", context, language=customer.language, attachments=attachments)]


def shipment_notification(event: ShipmentDispatched) -> list[Notice]:
    """The dispatch notice with carrier and tracking, in the customer's language, with the delivery note."""
    shipment = (
        Shipment.objects.select_related("order__customer__preferences")
        .prefetch_related("lines__order_line")
        .get(pk=event.shipment_id)
    )
    customer = shipment.order.customer
    recipients = customer_recipients(customer, NotificationType.SHIPMENT_NOTIFICATION)
    if not recipients:
        return []
    context = {"shipment": shipment, "order": shipment.order, "customer": customer}
    attachments = [delivery_note_document(shipment=shipment)]
    return [Notice(recipients, "shipment_dispatched", context, language=customer.language, attachments=attachments)]


def held_order(event: OrderPutOnCreditHold) -> list[Notice]:
    """The sales rep and everyone who may release held orders hear about it."""
    order = _order(event.order_id)
    recipients = {user.email for user in staff_with_permission("orders.release_credit_hold")}
    if order.customer.sales_rep is not None:
        recipients.add(order.customer.sales_rep.email)
    if not recipients:
        return []
    context = {"order": order, "customer": order.customer, "reason": event.reason}
    return [Notice(sorted(recipients), "order_credit_hold", context)]


def return_request_decided(event: ReturnRequestDecided) -> list[Notice]:
    """The decision goes to whoever asked, when a portal user of the customer asked; a request a partner
    system filed goes to the customer's purchasing contacts. Always sent: it answers the customer."""
    return_request = (
        ReturnRequest.objects.select_related("order__customer", "requested_by", "return_order")
        .prefetch_related("lines__order_line__product")
        .get(pk=event.return_request_id)
    )
    customer = return_request.order.customer
    requester = return_request.requested_by
    if PortalMembership.objects.filter(user_id=requester.pk, customer_id=customer.pk).exists():
        recipients = [requester.email]
    else:
        recipients = customer_recipients(customer, NotificationType.ORDER_CONFIRMATION)
    if not recipients:
        return []
    context = {
        "return_request": return_request,
        "order": return_request.order,
        "customer": customer,
        "lines": return_request.lines.all(),
    }
    return [Notice(recipients, "return_request_decided", context, language=customer.language)]
