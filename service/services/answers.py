"""Automated answers: the common questions answered at once with the customer's real data, in the
customer's language, as an ordinary ticket reply (so it goes out through the outbox with the ticket's
token and threads back). `service.recognition` says what was asked; this module decides whether to
answer, and records the decision with its reasons either way.

A person answers instead when the confidence is below OTC_AUTOMATED_ANSWER_CONFIDENCE, when the
message names another customer's document, when the answer would need a document the message does
not identify, and whenever the customer writes again on the ticket.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from customers.models import Customer
from invoicing.documents.render import money
from invoicing.models import DocumentKind, Invoice
from invoicing.selectors import open_items
from orders.models import Order, OrderStatus, Shipment
from otc.errors import InvalidInput
from otc.services import automation_user
from payments.models import Allocation, Payment
from service.errors import FeedbackAlreadyGiven
from service.models import Intent, MessageKind, Ticket, TicketCategory, TicketMessage, TicketRecognition, TicketStatus
from service.recognition import Recognition, orders_in_progress, recognize
from service.services.tickets import add_message

ANSWER_LANGUAGES = ("en", "de")
FEEDBACK_SALT = "service.answer-feedback"
FEEDBACK_MAX_AGE = 60 * 60 * 24 * 60  # the "did this help?" links work for 60 days
LATEST_PAYMENTS = 3
ORDER_STATUS_LABELS = {
    "en": {
        OrderStatus.DRAFT: "being entered",
        OrderStatus.CONFIRMED: "confirmed, not shipped yet",
        OrderStatus.ON_CREDIT_HOLD: "on hold, our accounts team will contact you",
        OrderStatus.PARTIALLY_SHIPPED: "partially shipped",
        OrderStatus.SHIPPED: "shipped",
        OrderStatus.COMPLETED: "completed",
        OrderStatus.CANCELLED: "cancelled",
    },
    "de": {
        OrderStatus.DRAFT: "in Erfassung",
        OrderStatus.CONFIRMED: "bestätigt, noch nicht versandt",
        OrderStatus.ON_CREDIT_HOLD: "angehalten, unsere Buchhaltung meldet sich bei Ihnen",
        OrderStatus.PARTIALLY_SHIPPED: "teilweise versandt",
        OrderStatus.SHIPPED: "versandt",
        OrderStatus.COMPLETED: "abgeschlossen",
        OrderStatus.CANCELLED: "storniert",
    },
}
CATEGORY = {
    Intent.ORDER_STATUS: TicketCategory.DELIVERY,
    Intent.INVOICE_COPY: TicketCategory.INVOICE_COPY,
    Intent.BALANCE: TicketCategory.BILLING,
    Intent.PAYMENT_RECEIVED: TicketCategory.PAYMENT,
    Intent.ADDRESS_CHANGE: TicketCategory.ACCOUNT_DATA,
}


@dataclass(frozen=True)
class Answer:
    """The reply text's context and the invoice whose PDF goes with it."""

    context: dict
    invoice: Invoice | None = None


class NotAnswerable(Exception):
    """The data to answer is not there (no order in view, no payment on record): a person answers."""


def answer_language(customer: Customer) -> str:
    return customer.language if customer.language in ANSWER_LANGUAGES else "en"


def _order_status(customer: Customer, recognition: Recognition) -> Answer:
    orders = recognition.orders or orders_in_progress(customer)
    if not orders:
        raise NotAnswerable("no order of the customer in view")
    if len(orders) > 1 and not recognition.orders:
        raise NotAnswerable("several orders in progress and none named")
    shipments = Shipment.objects.order_by("dispatched_at", "pk").prefetch_related("lines__order_line")
    orders = list(
        Order.objects.filter(pk__in=[order.pk for order in orders[:3]])
        .prefetch_related(Prefetch("shipments", queryset=shipments))
        .order_by("pk")
    )
    labels = ORDER_STATUS_LABELS[answer_language(customer)]
    for order in orders:
        order.status_label = labels[order.status]
    return Answer({"orders": orders})


def _invoice_copy(customer: Customer, recognition: Recognition) -> Answer:
    [invoice] = recognition.invoices
    return Answer(
        {
            "invoice": invoice,
            "gross": money(invoice.gross_total, invoice.currency),
            "open": money(invoice.open_amount, invoice.currency),
        },
        invoice=invoice,
    )


def _balance(customer: Customer, recognition: Recognition) -> Answer:
    today = timezone.localdate()
    items, totals = [], {}
    for item in open_items(customer=customer):
        sign = -1 if item.kind == DocumentKind.CREDIT_NOTE else 1
        overdue = sign > 0 and item.due_date is not None and item.due_date < today
        total = totals.setdefault(item.currency, {"balance": Decimal("0"), "overdue": Decimal("0")})
        total["balance"] += sign * item.open_amount
        total["overdue"] += item.open_amount if overdue else Decimal("0")
        items.append({"invoice": item, "open": money(sign * item.open_amount, item.currency), "overdue": overdue})
    figures = [
        {"balance": money(total["balance"], currency), "overdue": money(total["overdue"], currency)}
        for currency, total in sorted(totals.items())
    ]
    return Answer({"items": items, "totals": figures})


def _payment_received(customer: Customer, recognition: Recognition) -> Answer:
    live = Allocation.objects.filter(reversed_at__isnull=True).select_related("invoice").order_by("pk")
    payments = list(
        Payment.objects.filter(customer=customer)
        .prefetch_related(Prefetch("allocations", queryset=live, to_attr="live"))
        .order_by("-received_on", "-pk")[:LATEST_PAYMENTS]
    )
    if not payments:
        raise NotAnswerable("no payment of the customer on record")
    rows = [
        {
            "payment": payment,
            "amount": money(payment.amount, payment.currency),
            "allocations": [(a.invoice.number, money(a.amount, payment.currency)) for a in payment.live],
            "unallocated": money(
                payment.amount - sum((a.amount for a in payment.live), Decimal("0")), payment.currency
            ),
        }
        for payment in payments
    ]
    return Answer({"payments": rows})


def _address_change(customer: Customer, recognition: Recognition) -> Answer:
    base = settings.OTC_BASE_URL.rstrip("/")
    return Answer({"portal_url": base + reverse("portal:home"), "contact_url": base + reverse("portal:contact-add")})


COMPOSERS = {
    Intent.ORDER_STATUS: _order_status,
    Intent.INVOICE_COPY: _invoice_copy,
    Intent.BALANCE: _balance,
    Intent.PAYMENT_RECEIVED: _payment_received,
    Intent.ADDRESS_CHANGE: _address_change,
}


def feedback_token(recognition: TicketRecognition, *, helpful: bool) -> str:
    return signing.dumps({"answer": recognition.pk, "helpful": helpful}, salt=FEEDBACK_SALT, compress=True)


def _feedback_urls(recognition: TicketRecognition) -> dict[str, str]:
    base = settings.OTC_BASE_URL.rstrip("/")
    return {
        key: base + reverse("portal:answer-feedback", args=[feedback_token(recognition, helpful=helpful)])
        for key, helpful in (("yes_url", True), ("no_url", False))
    }


def _render(intent: str, language: str, context: dict) -> str:
    with translation.override(language):
        return render_to_string(f"service/answers/{intent}.{language}.txt", context).strip()


@transaction.atomic
def answer_automatically(*, ticket: Ticket, message: TicketMessage) -> TicketRecognition:
    """Recognise what the ticket's first message asks and answer it when it is safe and sure enough.
    The ticket is solved by the answer; the customer writing again reopens it for a person."""
    recognition = recognize(subject=ticket.subject, body=message.body, customer=ticket.customer, contact=ticket.contact)
    threshold = settings.OTC_AUTOMATED_ANSWER_CONFIDENCE
    row = TicketRecognition.objects.create(
        ticket=ticket,
        intent=recognition.intent,
        confidence=Decimal(str(recognition.confidence)),
        reasons=recognition.reasons,
    )
    if recognition.intent in CATEGORY:
        Ticket.objects.filter(pk=ticket.pk, category=TicketCategory.OTHER).update(category=CATEGORY[recognition.intent])
    handed_over = recognition.refusal
    if not handed_over and recognition.confidence < threshold:
        handed_over = f"confidence {recognition.confidence:.2f} below {threshold:.2f}"
    language = answer_language(ticket.customer) if ticket.customer else "en"
    if not handed_over:
        try:
            with translation.override(language):
                answer = COMPOSERS[recognition.intent](ticket.customer, recognition)
        except NotAnswerable as reason:
            handed_over = str(reason)
    if handed_over:
        row.handed_over = handed_over[:300]
        row.save(update_fields=["handed_over"])
        return row
    context = {**answer.context, "customer": ticket.customer, "contact": ticket.contact, "ticket": ticket}
    body = _render(recognition.intent, language, context)
    feedback = _render("feedback", language, _feedback_urls(row))
    row.answer = add_message(
        ticket=ticket,
        kind=MessageKind.REPLY,
        body=f"{body}\n\n{feedback}",
        actor=automation_user(),
        status=TicketStatus.SOLVED,
    )
    row.invoice = answer.invoice
    row.save(update_fields=["answer", "invoice"])
    return row


@transaction.atomic
def hand_over(*, ticket: Ticket, reason: str) -> None:
    """A person takes the ticket from here (the customer wrote again after an automated answer): noted
    on the recognition and as an internal note, once."""
    row = TicketRecognition.objects.select_for_update().filter(ticket=ticket, answer__isnull=False).first()
    if row is None or row.handed_over:
        return
    row.handed_over = reason[:300]
    row.save(update_fields=["handed_over"])
    add_message(
        ticket=ticket,
        kind=MessageKind.INTERNAL_NOTE,
        body=f"Answered automatically ({row.get_intent_display()}); {reason} A person answers from here.",
        actor=automation_user(),
    )


def check_feedback_token(token: str, *, lock: bool = False) -> tuple[TicketRecognition, bool]:
    """The automated answer a "did this help?" link is for and the verdict it carries; refused when the
    signature is wrong or expired, or the answer has its verdict already."""
    invalid = InvalidInput("This link is not valid or has expired.", fields={"token": ["Invalid link."]})
    try:
        data = signing.loads(token, salt=FEEDBACK_SALT, max_age=FEEDBACK_MAX_AGE)
    except signing.BadSignature:
        raise invalid from None
    rows = TicketRecognition.objects.select_related("ticket").filter(answer__isnull=False)
    row = (rows.select_for_update(of=("self",)) if lock else rows).filter(pk=data.get("answer")).first()
    if row is None:
        raise invalid
    if row.helpful is not None:
        raise FeedbackAlreadyGiven("Thank you, your answer was recorded already.")
    return row, bool(data.get("helpful"))


@transaction.atomic
def record_answer_feedback(*, token: str) -> TicketRecognition:
    """Record the customer's "did this help?" from a signed link; each answer takes one verdict."""
    row, helpful = check_feedback_token(token, lock=True)
    row.helpful, row.feedback_at = helpful, timezone.now()
    row.save(update_fields=["helpful", "feedback_at"])
    return row
