"""Service desk tickets: a customer's question or problem, its conversation, attachments and the
documents it is about. Numbers are gapless per year (TKT-2026-000123); status moves only along
`TRANSITIONS`; the SLA due times are set by service.sla and stored so queues filter on them."""

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from customers.models import Contact, Customer
from invoicing.models import Invoice
from orders.models import Order, Shipment
from payments.models import BankStatementLine, Payment


class TicketCategory(models.TextChoices):
    BILLING = "billing", _("Billing")
    DELIVERY = "delivery", _("Delivery")
    ORDER = "order", _("Order")
    INVOICE_COPY = "invoice_copy", _("Invoice copy")
    PAYMENT = "payment", _("Payment")
    ACCOUNT_DATA = "account_data", _("Account data")
    COMPLAINT = "complaint", _("Complaint")
    OTHER = "other", _("Other")


class TicketPriority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


class TicketStatus(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    WAITING_ON_CUSTOMER = "waiting_on_customer", _("Waiting on customer")
    WAITING_ON_US = "waiting_on_us", _("Waiting on us")
    SOLVED = "solved", _("Solved")
    CLOSED = "closed", _("Closed")


S = TicketStatus
# Where a ticket may go from each status. Closed is final: the customer writing again opens a new ticket.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.OPEN, S.WAITING_ON_CUSTOMER, S.WAITING_ON_US, S.SOLVED, S.CLOSED}),
    S.OPEN: frozenset({S.WAITING_ON_CUSTOMER, S.WAITING_ON_US, S.SOLVED, S.CLOSED}),
    S.WAITING_ON_CUSTOMER: frozenset({S.OPEN, S.WAITING_ON_US, S.SOLVED, S.CLOSED}),
    S.WAITING_ON_US: frozenset({S.OPEN, S.WAITING_ON_CUSTOMER, S.SOLVED, S.CLOSED}),
    S.SOLVED: frozenset({S.OPEN, S.CLOSED}),
    S.CLOSED: frozenset(),
}
# The customer writing moves a ticket that waited on them, or was solved, back to the agents.
ON_CUSTOMER_MESSAGE: dict[str, str] = {S.WAITING_ON_CUSTOMER: S.OPEN, S.SOLVED: S.OPEN}
# Statuses in which the SLA clocks do not run: the customer owes an answer, or the work is done.
CLOCK_STOPPED = frozenset({S.WAITING_ON_CUSTOMER, S.SOLVED, S.CLOSED})


class TicketChannel(models.TextChoices):
    PORTAL = "portal", "Portal"
    EMAIL = "email", "Email"
    API = "api", "API"
    STAFF = "staff", "Staff"


class MessageKind(models.TextChoices):
    REPLY = "reply", "Reply to the customer"
    INTERNAL_NOTE = "internal_note", "Internal note"
    CUSTOMER_MESSAGE = "customer_message", "Customer message"


CUSTOMER_VISIBLE = (MessageKind.REPLY, MessageKind.CUSTOMER_MESSAGE)


class TicketNumberSeries(models.Model):
    """The last ticket number given in a year; raised under its row lock (otc.numbering)."""

    code = models.CharField(max_length=10)
    year = models.PositiveSmallIntegerField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "ticket number series"
        constraints = [models.UniqueConstraint(fields=["code", "year"], name="ticket_number_series_unique_per_year")]

    def __str__(self) -> str:
        return f"{self.code}-{self.year}: {self.last_value}"


class Team(models.Model):
    """Agents working one queue; the lead hears about SLA alerts of the team's tickets."""

    name = models.CharField(max_length=100, unique=True)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="led_teams",
        limit_choices_to={"is_staff": True},
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="teams", limit_choices_to={"is_staff": True}
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Ticket(models.Model):
    number = models.CharField(max_length=20, unique=True, editable=False)
    customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
        help_text="Empty only for an email from an unknown sender, when settings let those open tickets.",
    )
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets")
    sender_email = models.EmailField(blank=True, help_text="Who wrote in, when not a known contact.")
    subject = models.CharField(max_length=300)
    category = models.CharField(max_length=20, choices=TicketCategory.choices, default=TicketCategory.OTHER)
    priority = models.CharField(max_length=10, choices=TicketPriority.choices, default=TicketPriority.NORMAL)
    status = models.CharField(max_length=20, choices=TicketStatus.choices, default=TicketStatus.NEW)
    channel = models.CharField(max_length=10, choices=TicketChannel.choices)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT, related_name="tickets")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="assigned_tickets"
    )
    tags = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    orders = models.ManyToManyField(Order, blank=True, related_name="tickets")
    shipments = models.ManyToManyField(Shipment, blank=True, related_name="tickets")
    invoices = models.ManyToManyField(
        Invoice, blank=True, related_name="tickets", help_text="Invoices and credit notes."
    )
    payments = models.ManyToManyField(Payment, blank=True, related_name="tickets")
    bank_lines = models.ManyToManyField(BankStatementLine, blank=True, related_name="tickets")
    sla_policy = models.ForeignKey(
        "service.SlaPolicy", null=True, blank=True, on_delete=models.PROTECT, related_name="tickets"
    )
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(
        null=True, blank=True, help_text="Empty while the clock is paused (waiting on the customer)."
    )
    resolution_left = models.DurationField(
        null=True, blank=True, help_text="Business time left to resolve, kept while the clock is paused."
    )
    sla_due_at = models.DateTimeField(
        null=True, blank=True, help_text="The next target still to meet; what the SLA sweep and queues look at."
    )
    first_response_at = models.DateTimeField(null=True, blank=True)
    solved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    search_vector = SearchVectorField(null=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=TicketStatus.values), name="ticket_status_valid"),
            models.CheckConstraint(condition=Q(priority__in=TicketPriority.values), name="ticket_priority_valid"),
            models.CheckConstraint(condition=Q(category__in=TicketCategory.values), name="ticket_category_valid"),
            models.CheckConstraint(condition=Q(channel__in=TicketChannel.values), name="ticket_channel_valid"),
            models.CheckConstraint(
                condition=~Q(status__in=[TicketStatus.SOLVED, TicketStatus.CLOSED]) | Q(solved_at__isnull=False),
                name="ticket_solved_has_a_time",
            ),
        ]
        indexes = [
            GinIndex(fields=["search_vector"], name="ticket_search"),
            models.Index(
                fields=["sla_due_at"],
                condition=Q(sla_due_at__isnull=False),
                name="ticket_sla_due",
            ),
            models.Index(fields=["status", "-id"], name="ticket_status_newest"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def recipient(self) -> str:
        """Where customer-visible replies go: the contact, else whoever wrote in."""
        return self.contact.email if self.contact is not None else self.sender_email


class TicketMessage(models.Model):
    """One entry of the conversation. Internal notes are for staff only, never emailed or shown in the
    portal or API."""

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="messages")
    kind = models.CharField(max_length=20, choices=MessageKind.choices)
    body = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    sender_email = models.EmailField(blank=True)
    email_message_id = models.CharField(
        max_length=255, blank=True, help_text="The email's Message-ID, received or sent, so replies thread back."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=MessageKind.values), name="ticket_message_kind_valid"),
        ]
        indexes = [
            models.Index(fields=["email_message_id"], condition=~Q(email_message_id=""), name="ticket_message_email_id")
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.get_kind_display()} #{self.pk}"

    @property
    def is_customer_visible(self) -> bool:
        return self.kind in CUSTOMER_VISIBLE


def attachment_path(attachment: "TicketAttachment", filename: str) -> str:
    """A random name: the customer's file name is kept in `filename`, never used on disk."""
    return f"tickets/{uuid.uuid4().hex}"


class TicketAttachment(models.Model):
    """A file sent with a message; its type is what its bytes say, checked on the way in."""

    message = models.ForeignKey(TicketMessage, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(upload_to=attachment_path)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.filename


class CannedReply(models.Model):
    """A macro: a reply text with placeholders ({{ customer.display_name }}, {{ invoice.number }},
    {{ order.number }}, {{ agent.first_name }}, {{ ticket.number }}) filled from the ticket."""

    title = models.CharField(max_length=100)
    body = models.TextField()
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="en")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["title", "language"]
        verbose_name_plural = "canned replies"
        constraints = [
            models.UniqueConstraint(fields=["title", "language"], name="canned_reply_title_unique_per_language")
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.language})"
