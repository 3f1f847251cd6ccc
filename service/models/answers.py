"""What the service desk recognised in a ticket's first message and whether it answered by itself.
One row per ticket: the intent with its confidence and reasons (as cash matching explains a match),
the automated reply if one was sent, and the customer's "did this help?"."""

from django.db import models
from django.db.models import Q

from invoicing.models import Invoice
from service.models.tickets import Ticket, TicketMessage


class Intent(models.TextChoices):
    ORDER_STATUS = "order_status", "Where is my order"
    INVOICE_COPY = "invoice_copy", "Copy of an invoice"
    BALANCE = "balance", "What do I owe"
    PAYMENT_RECEIVED = "payment_received", "Did you get my payment"
    ADDRESS_CHANGE = "address_change", "Change address or contact"
    NONE = "none", "Nothing recognised"


class TicketRecognition(models.Model):
    """The recognised intent of a ticket. `answer` is the automated reply when confidence reached the
    threshold and every check passed; otherwise `handed_over` says why a person takes it."""

    ticket = models.OneToOneField(Ticket, on_delete=models.PROTECT, related_name="recognition")
    intent = models.CharField(max_length=20, choices=Intent.choices)
    confidence = models.DecimalField(max_digits=3, decimal_places=2)
    reasons = models.JSONField(default=list, help_text="What the recognition saw, in order.")
    answer = models.OneToOneField(
        TicketMessage, null=True, blank=True, on_delete=models.PROTECT, related_name="automated_answer"
    )
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="+", help_text="Attached as PDF."
    )
    handed_over = models.CharField(max_length=300, blank=True, help_text="Why a person answers instead.")
    helpful = models.BooleanField(null=True, blank=True, help_text='The customer\'s "did this help?".')
    feedback_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(intent__in=Intent.values), name="recognition_intent_valid"),
            models.CheckConstraint(
                condition=Q(confidence__gte=0, confidence__lte=1), name="recognition_confidence_in_range"
            ),
            models.CheckConstraint(
                condition=Q(helpful__isnull=True) | Q(answer__isnull=False), name="recognition_feedback_on_answers"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket}: {self.get_intent_display()} ({self.confidence})"

    @property
    def answered(self) -> bool:
        return self.answer_id is not None
