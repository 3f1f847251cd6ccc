"""Who hears of order events: the customer's contacts of a confirmed order and of a dispatched
shipment, and credit control of an order put on credit hold."""

from customers.models import NotificationType
from customers.notices import customer_recipients
from orders.events import OrderConfirmed, OrderPutOnCreditHold, ShipmentDispatched
from orders.models import Order, Shipment
from otc.notices import Notice
from otc.roles import staff_with_permission


def _order(order_id: int) -> Order:
    return (
        Order.objects.select_related("customer__preferences", "customer__sales_rep")
        .prefetch_related("lines")
        .get(pk=order_id)
    )


def order_confirmation(event: OrderConfirmed) -> list[Notice]:
    """The order confirmation, in the customer's language."""
    order = _order(event.order_id)
    customer = order.customer
    recipients = customer_recipients(customer, NotificationType.ORDER_CONFIRMATION)
    if not recipients:
        return []
    context = {"order": order, "customer": customer, "lines": order.lines.all()}
    return [Notice(recipients, "order_confirmation", context, language=customer.language)]


def shipment_notification(event: ShipmentDispatched) -> list[Notice]:
    """The dispatch notice with carrier and tracking, in the customer's language."""
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
    return [Notice(recipients, "shipment_dispatched", context, language=customer.language)]


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
