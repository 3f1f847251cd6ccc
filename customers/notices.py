"""Who receives which customer email, and the staff notices of customer events.

Customer emails go to the active contacts of the first role, in order, that has any; a customer who
opted out of a notification type gets none of it. Legal documents and notices cannot be opted out of.
"""

from collections.abc import Iterable
from enum import StrEnum

from django.contrib.auth import get_user_model
from django.urls import reverse

from customers.events import (
    BillingDataChanged,
    ChangeRequestDecided,
    ChangeRequestSubmitted,
    CreditHoldPlaced,
    PortalInvitationSent,
)
from customers.models import ChangeRequest, ContactRole, Customer, InvitationStatus, NotificationType, PortalInvitation
from customers.services import invitation_token
from otc.notices import Notice
from otc.roles import staff_with_permission


class LegalNotice(StrEnum):
    """Customer emails no opt-out stops; only the choice of channel applies."""

    INVOICE = "invoice"  # invoices and credit notes
    DUNNING_LETTER = "dunning_letter"


RECIPIENT_ROLES: dict[str, list[str]] = {
    NotificationType.ORDER_CONFIRMATION: [ContactRole.PURCHASING, ContactRole.BILLING],
    NotificationType.SHIPMENT_NOTIFICATION: [ContactRole.SHIPPING, ContactRole.PURCHASING],
    NotificationType.PAYMENT_RECEIPT: [ContactRole.BILLING, ContactRole.PURCHASING],
    NotificationType.PAYMENT_REMINDER: [ContactRole.BILLING, ContactRole.PURCHASING],
    LegalNotice.INVOICE: [ContactRole.BILLING, ContactRole.PURCHASING],
    LegalNotice.DUNNING_LETTER: [ContactRole.DUNNING, ContactRole.BILLING],
}


def customer_recipients(customer: Customer, notification: str) -> list[str]:
    """Emails of the customer's active contacts in the first role that has any, unless opted out."""
    if notification in customer.preferences.opt_outs:
        return []
    contacts = list(customer.contacts.filter(is_active=True))
    for role in RECIPIENT_ROLES[notification]:
        emails = sorted({contact.email for contact in contacts if role in contact.roles})
        if emails:
            return emails
    return []


def sms_recipients(customer: Customer, emails: Iterable[str]) -> list[str]:
    """The mobile numbers of those of `emails` who are the customer's active contacts and asked for SMS
    too; the customer's opt-outs were applied when the emails were chosen."""
    contacts = customer.contacts.filter(is_active=True, sms_opt_in=True, email__in=list(emails)).exclude(mobile="")
    return sorted({contact.mobile for contact in contacts})


def _customer(customer_id: int) -> Customer:
    return Customer.objects.select_related("sales_rep", "credit").get(pk=customer_id)


def _actor_name(actor_id: int) -> str:
    actor = get_user_model().objects.filter(pk=actor_id).first()
    return str(actor) if actor else "the system"


def credit_hold_placed(event: CreditHoldPlaced) -> list[Notice]:
    """The customer's sales rep hears of a credit hold."""
    customer = _customer(event.customer_id)
    if customer.sales_rep is None:
        return []
    context = {"customer": customer, "reason": event.reason, "actor": _actor_name(event.actor_id)}
    return [Notice([customer.sales_rep.email], "credit_hold_placed", {**context, "rep": customer.sales_rep})]


def billing_data_changed(event: BillingDataChanged) -> list[Notice]:
    """The customer's sales rep hears of a change to what invoices and payments depend on."""
    customer = _customer(event.customer_id)
    if customer.sales_rep is None:
        return []
    context = {"customer": customer, "changed": event.changed, "actor": _actor_name(event.actor_id)}
    return [Notice([customer.sales_rep.email], "billing_data_changed", {**context, "rep": customer.sales_rep})]


def change_request_submitted(event: ChangeRequestSubmitted) -> list[Notice]:
    """Everyone who may approve it, except the requester (four eyes), is asked to decide."""
    change_request = ChangeRequest.objects.select_related("customer", "requested_by").get(pk=event.change_request_id)
    approvers = staff_with_permission("customers.approve_changerequest").exclude(pk=change_request.requested_by_id)
    context = {"change_request": change_request, "customer": change_request.customer}
    return [
        Notice([approver.email], "change_request_submitted", {**context, "approver": approver})
        for approver in approvers
    ]


def change_request_decided(event: ChangeRequestDecided) -> list[Notice]:
    """The requester hears of the decision."""
    change_request = ChangeRequest.objects.select_related("customer", "requested_by", "decided_by").get(
        pk=event.change_request_id
    )
    context = {"change_request": change_request, "customer": change_request.customer}
    return [Notice([change_request.requested_by.email], "change_request_decided", context)]


def portal_invitation(event: PortalInvitationSent) -> list[Notice]:
    """The invitation email with its one-time link, in the customer's language. An event of an
    invitation since resent, revoked or accepted sends nothing: only the latest link is live."""
    invitation = PortalInvitation.objects.select_related("customer", "invited_by").get(pk=event.invitation_id)
    if invitation.status != InvitationStatus.PENDING or invitation.sent_count != event.sent_count:
        return []
    path = reverse("portal:accept-invitation", kwargs={"token": invitation_token(invitation)})
    context = {"invitation": invitation, "customer": invitation.customer, "path": path}
    return [Notice([invitation.email], "portal_invitation", context, language=invitation.customer.language)]
