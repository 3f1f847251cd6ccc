"""Payments' models, one module per part: money received and its use (payments), bank statements
(statements), and collections (dunning, disputes' holds and promises to pay)."""

from payments.models.payments import (
    PAYMENT_NUMBER_SEQUENCE,
    Allocation,
    Payment,
    PaymentMethod,
    PaymentSource,
    Refund,
    RefundStatus,
)

__all__ = [
    "PAYMENT_NUMBER_SEQUENCE",
    "Allocation",
    "Payment",
    "PaymentMethod",
    "PaymentSource",
    "Refund",
    "RefundStatus",
]
