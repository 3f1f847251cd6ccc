"""Every email that reached the service desk, with what became of it, so an agent can tell why a
customer's message opened nothing (an auto-reply, an unknown sender) and a resent message is
recognised by its Message-ID."""

from django.db import models
from django.db.models import Q

from customers.models import Contact, Customer
from service.models.tickets import Ticket


class InboundSource(models.TextChoices):
    WEBHOOK = "webhook", "Mail provider (signed POST)"
    IMAP = "imap", "IMAP mailbox"


class InboundOutcome(models.TextChoices):
    TICKET_OPENED = "ticket_opened", "Opened a ticket"
    THREADED = "threaded", "Added to a ticket"
    AUTOMATED = "automated", "Ignored: auto-reply or bounce"
    UNKNOWN_SENDER = "unknown_sender", "Dropped: unknown sender"
    REJECTED = "rejected", "Rejected: unusable message"


class InboundMail(models.Model):
    """One received email. Written once; the Message-ID (or, without one, a hash of the raw bytes)
    is unique, so the same email posted or fetched twice is processed once."""

    message_id = models.CharField(max_length=255, unique=True)
    source = models.CharField(max_length=10, choices=InboundSource.choices)
    sender = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    outcome = models.CharField(max_length=20, choices=InboundOutcome.choices)
    detail = models.TextField(blank=True, help_text="Why: the header that marked an auto-reply, the refused file.")
    size = models.PositiveIntegerField(help_text="Bytes of the raw message.")
    ticket = models.ForeignKey(Ticket, null=True, blank=True, on_delete=models.PROTECT, related_name="inbound_mails")
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name_plural = "inbound mail"
        constraints = [
            models.CheckConstraint(condition=Q(outcome__in=InboundOutcome.values), name="inbound_mail_outcome_valid"),
            models.CheckConstraint(condition=Q(source__in=InboundSource.values), name="inbound_mail_source_valid"),
            models.CheckConstraint(
                condition=~Q(outcome__in=["ticket_opened", "threaded"]) | Q(ticket__isnull=False),
                name="inbound_mail_ticket_when_taken",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sender}: {self.subject}"
