"""What happens after each event. A handler receives the event inside its own transaction, loads what
it needs by id and queues its effects; `HANDLERS` maps event types to handlers, in order."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Q

from customers.models import ChangeRequest, Customer
from workflows.models import OutboxEvent
from workflows.services import Handler, queue_email


def _customer(event: OutboxEvent) -> Customer:
    return Customer.objects.select_related("sales_rep", "credit").get(pk=event.payload["customer_id"])


def _actor_name(event: OutboxEvent) -> str:
    actor = get_user_model().objects.filter(pk=event.payload.get("actor_id")).first()
    return str(actor) if actor else "the system"


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
    permission = Permission.objects.get(codename="approve_changerequest", content_type__app_label="customers")
    approvers = (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True)
        .filter(Q(is_superuser=True) | Q(user_permissions=permission) | Q(groups__permissions=permission))
        .exclude(pk=change_request.requested_by_id)
        .distinct()
    )
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


HANDLERS: dict[str, list[Handler]] = {
    "customer.credit_hold_placed": [notify_sales_rep_of_credit_hold],
    "customer.billing_data_changed": [notify_sales_rep_of_billing_change],
    "customer.change_request_submitted": [notify_approvers_of_change_request],
    "customer.change_request_decided": [notify_requester_of_decision],
}
