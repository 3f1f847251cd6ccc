"""Paying invoices online: a checkout for the invoices the customer chose, and the provider's
confirmation booking it as one payment allocated to them. The confirmation may arrive more than once
(a provider retrying its webhook, the customer coming back from the hosted page): it books once."""

import json
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from customers.models import Customer
from invoicing.models import DocumentKind, Invoice, InvoiceStatus
from otc.audit import acting
from otc.errors import Conflict, InvalidInput
from otc.models import User
from otc.services import automation_user
from payments.models import Checkout, CheckoutItem, CheckoutStatus, Payment, PaymentMethod, PaymentSource
from payments.money.errors import DuplicatePayment
from payments.money.services import Application, allocate_payment, record_payment

CHECKOUT_COMPLETED = "checkout.completed"
OPEN_STATUSES = (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID)


@transaction.atomic
def start_checkout(*, customer: Customer, invoices: list[Invoice], provider: str, actor: User) -> Checkout:
    """A checkout for paying the chosen open invoices of the customer in full, all in one currency."""
    if not invoices:
        raise InvalidInput("Choose at least one invoice.", fields={"invoices": ["Choose at least one invoice."]})
    locked = list(
        Invoice.objects.select_for_update().filter(pk__in=[invoice.pk for invoice in invoices]).order_by("pk")
    )
    payable = [
        invoice
        for invoice in locked
        if invoice.customer_id == customer.pk
        and invoice.kind == DocumentKind.INVOICE
        and invoice.status in OPEN_STATUSES
        and invoice.open_amount > 0
    ]
    if len(payable) != len({invoice.pk for invoice in invoices}):
        raise InvalidInput("Only your open invoices can be paid.", fields={"invoices": ["Not an open invoice."]})
    if len({invoice.currency for invoice in payable}) > 1:
        raise InvalidInput("Pay invoices of one currency at a time.", fields={"invoices": ["Mixed currencies."]})
    with acting(actor, "online payment started"):
        checkout = Checkout.objects.create(
            customer=customer,
            provider=provider,
            currency=payable[0].currency,
            amount=sum((invoice.open_amount for invoice in payable), Decimal("0")),
            created_by=actor,
        )
        CheckoutItem.objects.bulk_create(
            CheckoutItem(checkout=checkout, invoice=invoice, amount=invoice.open_amount) for invoice in payable
        )
    return checkout


def notification_body(*, checkout: Checkout, event_id: str) -> bytes:
    """The body a provider posts when the customer has paid (what the test provider sends)."""
    payload = {
        "type": CHECKOUT_COMPLETED,
        "event_id": event_id,
        "checkout": str(checkout.token),
        "amount": str(checkout.amount),
        "currency": checkout.currency,
    }
    return json.dumps(payload).encode()


@transaction.atomic
def complete_checkout(*, provider: str, token: str, event_id: str, amount: Decimal, currency: str) -> Payment:
    """Book the paid checkout as a card payment from the provider and allocate it to the checkout's
    invoices (at most what each still has open; any rest stays as the customer's credit). A repeat
    returns the payment booked the first time."""
    checkout = Checkout.objects.select_for_update().filter(token=token, provider=provider).first()
    if checkout is None:
        raise InvalidInput("No such checkout.", fields={"checkout": ["Unknown checkout."]})
    if checkout.status == CheckoutStatus.PAID:
        return checkout.payment
    if (Decimal(amount), currency) != (checkout.amount, checkout.currency):
        raise Conflict(
            f"The provider confirmed {amount} {currency}; the checkout is for {checkout.amount} {checkout.currency}."
        )
    actor = automation_user()
    external_id = f"{provider}:{event_id}"
    try:
        payment = record_payment(
            customer=checkout.customer,
            amount=checkout.amount,
            currency=checkout.currency,
            method=PaymentMethod.CARD,
            source=PaymentSource.PROVIDER,
            actor=actor,
            external_id=external_id,
            reference=f"Online payment {checkout.token}",
        )
    except DuplicatePayment as error:
        raise Conflict(f"Provider event {external_id} booked another payment already.") from error
    items = list(checkout.items.select_related("invoice").order_by("invoice_id"))
    applications = [
        Application(item.invoice, min(item.amount, item.invoice.open_amount))
        for item in items
        if item.invoice.open_amount > 0
    ]
    if applications:
        allocate_payment(payment=payment, applications=applications, actor=actor)
    with acting(actor, "online payment confirmed"):
        checkout.status, checkout.payment, checkout.paid_at = CheckoutStatus.PAID, payment, timezone.now()
        checkout.save(update_fields=["status", "payment", "paid_at"])
    return payment
