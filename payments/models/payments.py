"""Money received: payments, their allocations to invoices (with write-offs), refunds of credit
balances, and the bank statements payments are imported from.

The invariants that must hold under concurrency are CHECK constraints, so even two clerks racing
cannot break them: a payment is never allocated beyond its amount; an invoice's open amount never
goes below zero (invoicing's own constraint).
"""

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper

from customers.models import Customer
from invoicing.models import Invoice
from ledger.models import JournalEntry
from otc.audit import tracked
from otc.money import CurrencyField, MoneyField

PAYMENT_NUMBER_SEQUENCE = "payments_payment_number_seq"


class PaymentMethod(models.TextChoices):
    BANK_TRANSFER = "bank_transfer", "Bank transfer"
    CARD = "card", "Card"
    DIRECT_DEBIT = "direct_debit", "Direct debit"


class PaymentSource(models.TextChoices):
    STAFF = "staff", "Entered by staff"
    API = "api", "Partner system (API)"
    PROVIDER = "provider", "Payment provider webhook"
    BANK_STATEMENT = "bank_statement", "Bank statement"


@tracked()
class Payment(models.Model):
    """Money a customer sent. What is not allocated to invoices (nor refunded) is their credit balance."""

    number = models.CharField(max_length=20, unique=True, editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="payments")
    currency = CurrencyField()
    amount = MoneyField(help_text="What the customer paid, before any bank fee.")
    bank_fee = MoneyField(default=0, help_text="Deducted by the banks on the way; booked as an expense.")
    allocated_amount = MoneyField(default=0)
    refunded_amount = MoneyField(default=0)
    received_on = models.DateField()
    method = models.CharField(max_length=15, choices=PaymentMethod.choices)
    source = models.CharField(max_length=15, choices=PaymentSource.choices)
    external_id = models.CharField(
        max_length=100, blank=True, help_text="The partner's or provider's id; a second payment with it is refused."
    )
    reference = models.CharField(max_length=300, blank=True, help_text="Remittance information as received.")
    payer_name = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(bank_fee__gte=0, bank_fee__lt=F("amount")), name="payment_fee_below_amount"
            ),
            models.CheckConstraint(
                condition=Q(allocated_amount__gte=0, refunded_amount__gte=0), name="payment_uses_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=F("allocated_amount") + F("refunded_amount")),
                name="payment_never_used_beyond_its_amount",
            ),
            models.CheckConstraint(condition=Q(method__in=PaymentMethod.values), name="payment_method_valid"),
            models.CheckConstraint(condition=Q(source__in=PaymentSource.values), name="payment_source_valid"),
            models.UniqueConstraint(
                fields=["source", "external_id"], condition=~Q(external_id=""), name="payment_external_id_once"
            ),
        ]
        indexes = [
            models.Index(
                fields=["customer", "currency"],
                condition=Q(amount__gt=F("allocated_amount") + F("refunded_amount")),
                name="payment_unallocated",
            ),
            # What list search uses (otc.search): numbers by their start (the varchar_pattern_ops index
            # Django gives every unique CharField), provider ids whole in any case, remittance text by any part.
            models.Index(Upper("external_id"), name="payment_external_id"),
            GinIndex(OpClass(Upper("reference"), name="gin_trgm_ops"), name="payment_reference_trigram"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def unallocated_amount(self):
        return self.amount - self.allocated_amount - self.refunded_amount


class Allocation(models.Model):
    """Part of a payment applied to an invoice, with the short payment written off if within tolerance.

    Undoing it (unallocation) reverses its journal entry and marks it reversed; it is never deleted.
    """

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="allocations")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="allocations")
    amount = MoneyField()
    write_off_amount = MoneyField(default=0)
    journal_entry = models.OneToOneField(JournalEntry, on_delete=models.PROTECT, related_name="allocation")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    reversed_at = models.DateTimeField(null=True, blank=True)
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reversal_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0, write_off_amount__gte=0) & (Q(amount__gt=0) | Q(write_off_amount__gt=0)),
                name="allocation_amounts_positive",
            ),
        ]
        indexes = [models.Index(fields=["invoice"], condition=Q(reversed_at__isnull=True), name="allocation_live")]

    def __str__(self) -> str:
        return f"{self.payment_id} → {self.invoice_id}: {self.amount}"


class RefundStatus(models.TextChoices):
    REQUESTED = "requested", "Awaiting approval"
    PAID = "paid", "Approved and paid out"
    REJECTED = "rejected", "Rejected"


@tracked()
class Refund(models.Model):
    """Paying a credit balance back to the customer; a second person approves (four eyes)."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = MoneyField()
    reason = models.CharField(max_length=300)
    status = models.CharField(max_length=10, choices=RefundStatus.choices, default=RefundStatus.REQUESTED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    journal_entry = models.OneToOneField(
        JournalEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="refund"
    )

    class Meta:
        ordering = ["-requested_at"]
        permissions = [("approve_refund", "Can approve refunds of credit balances")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
            models.CheckConstraint(condition=Q(status__in=RefundStatus.values), name="refund_status_valid"),
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("requested_by")),
                name="refund_not_approved_by_requester",
            ),
        ]

    def __str__(self) -> str:
        return f"Refund of {self.amount} from {self.payment_id}"
