"""Disputes: a customer contests an invoice (or part of it). The dispute is service's record (the
service desk links it to tickets); the hold it places on the invoice is invoicing's, so collections
honour it without knowing about disputes."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from customers.models import Customer
from invoicing.models import Invoice, InvoiceLine
from otc.money import CurrencyField, MoneyField
from service.models.tickets import Ticket


class DisputeReason(models.TextChoices):
    DAMAGED = "damaged", _("Goods damaged")
    MISSING = "missing", _("Goods missing")
    WRONG_GOODS = "wrong_goods", _("Wrong goods")
    PRICE = "price", _("Price or discount")
    QUALITY = "quality", _("Quality")
    NOT_ORDERED = "not_ordered", _("Not ordered")
    OTHER = "other", _("Other")


class DisputeStatus(models.TextChoices):
    OPEN = "open", _("Open")
    RESOLVED = "resolved", _("Resolved")


class DisputeResolution(models.TextChoices):
    CREDIT_NOTE = "credit_note", "Credit note"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"
    EXPIRED = "expired", "Expired"


class Dispute(models.Model):
    """An open dispute holds its invoice (an invoicing hold of kind dispute whose source is
    "dispute:<id>"); resolving it, or its expiry, releases that hold."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="disputes")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="disputes")
    reason = models.CharField(max_length=20, choices=DisputeReason.choices)
    description = models.TextField(help_text="What the customer disputes, in their words.")
    currency = CurrencyField()
    disputed_amount = MoneyField(null=True, blank=True, help_text="Empty: the whole invoice is disputed.")
    disputed_lines = models.ManyToManyField(InvoiceLine, blank=True, related_name="disputes")
    status = models.CharField(max_length=10, choices=DisputeStatus.choices, default=DisputeStatus.OPEN)
    expires_on = models.DateField(help_text="Unresolved by then, the hold is released and dunning resumes.")
    resolution = models.CharField(max_length=12, choices=DisputeResolution.choices, blank=True)
    credit_note = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="resolved_disputes"
    )
    resolution_note = models.CharField(max_length=300, blank=True, help_text="Why rejected, or how it was settled.")
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField()
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    ticket = models.ForeignKey(
        Ticket,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="disputes",
        help_text="The ticket the customer raised it on; told of the resolution there.",
    )

    class Meta:
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=DisputeStatus.values), name="dispute_status_valid"),
            models.CheckConstraint(condition=Q(reason__in=DisputeReason.values), name="dispute_reason_valid"),
            models.CheckConstraint(
                condition=Q(status=DisputeStatus.OPEN, resolution="", resolved_at__isnull=True)
                | Q(status=DisputeStatus.RESOLVED, resolution__in=DisputeResolution.values, resolved_at__isnull=False),
                name="dispute_resolved_with_a_resolution",
            ),
            models.CheckConstraint(
                condition=Q(resolution=DisputeResolution.CREDIT_NOTE, credit_note__isnull=False)
                | (~Q(resolution=DisputeResolution.CREDIT_NOTE) & Q(credit_note__isnull=True)),
                name="dispute_credit_note_only_when_resolved_by_one",
            ),
            models.CheckConstraint(
                condition=~Q(resolution=DisputeResolution.REJECTED, resolution_note=""),
                name="dispute_rejection_has_a_reason",
            ),
            models.CheckConstraint(
                condition=Q(disputed_amount__isnull=True) | Q(disputed_amount__gt=0),
                name="dispute_amount_positive",
            ),
            models.UniqueConstraint(
                fields=["invoice"], condition=Q(status=DisputeStatus.OPEN), name="dispute_one_open_per_invoice"
            ),
        ]
        indexes = [models.Index(fields=["expires_on"], condition=Q(status="open"), name="dispute_open_expiry")]

    def __str__(self) -> str:
        return f"Dispute #{self.pk} on {self.invoice}"

    @property
    def source(self) -> str:
        """How the invoice hold names this dispute."""
        return f"dispute:{self.pk}"
