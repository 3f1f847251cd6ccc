"""Online payments started in the portal: a checkout names the invoices a customer chose to pay and
the amount; the payment provider's confirmation turns it into a payment allocated to them, once."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from customers.models import Customer
from invoicing.models import Invoice
from otc.audit import tracked
from otc.money import CurrencyField, MoneyField
from payments.models.payments import Payment


class CheckoutStatus(models.TextChoices):
    OPEN = "open", "Waiting for the provider"
    PAID = "paid", "Paid"


@tracked()
class Checkout(models.Model):
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="checkouts")
    provider = models.CharField(max_length=30)
    currency = CurrencyField()
    amount = MoneyField()
    status = models.CharField(max_length=10, choices=CheckoutStatus.choices, default=CheckoutStatus.OPEN)
    payment = models.OneToOneField(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="checkout")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="checkout_amount_positive"),
            models.CheckConstraint(
                condition=Q(status="open", payment__isnull=True, paid_at__isnull=True)
                | Q(status="paid", payment__isnull=False, paid_at__isnull=False),
                name="checkout_paid_has_payment",
            ),
        ]

    def __str__(self) -> str:
        return f"Checkout {self.token} ({self.amount} {self.currency}, {self.get_status_display()})"


class CheckoutItem(models.Model):
    """One invoice of the checkout and the amount meant for it (its open amount when started)."""

    checkout = models.ForeignKey(Checkout, on_delete=models.CASCADE, related_name="items")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="+")
    amount = MoneyField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["checkout", "invoice"], name="checkout_invoice_once"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="checkout_item_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id}: {self.amount}"
