"""Domain events of payments and collections, published inside the changing transaction (see `otc.events`)."""

from dataclasses import dataclass
from datetime import date

from otc.events import Amount, Currency, DomainEvent


@dataclass(frozen=True, kw_only=True)
class PaymentReceived(DomainEvent):
    """A customer's payment was booked (not yet applied to invoices)."""

    type = "payment.received"
    payment_id: int
    payment_number: str
    customer_id: int
    customer_number: str
    actor_id: int
    received_on: date
    currency: Currency
    amount: Amount


@dataclass(frozen=True)
class AppliedInvoice:
    """What one allocation applied to one invoice; `write_off` closed a short rest within tolerance."""

    invoice_id: int
    invoice_number: str
    amount: Amount
    write_off: Amount


@dataclass(frozen=True, kw_only=True)
class PaymentAllocated(DomainEvent):
    """A payment was applied to one or more invoices."""

    type = "payment.allocated"
    payment_id: int
    payment_number: str
    customer_id: int
    customer_number: str
    actor_id: int
    currency: Currency
    invoices: list[AppliedInvoice]


@dataclass(frozen=True, kw_only=True)
class DunningLetterIssued(DomainEvent):
    """A dunning run wrote a letter to a customer for its overdue invoices in one currency."""

    type = "dunning.letter_issued"
    letter_id: int
    customer_id: int
    customer_number: str
    actor_id: int
    level: int
    currency: Currency
    total_due: Amount


@dataclass(frozen=True, kw_only=True)
class PaymentReminderDue(DomainEvent):
    """An invoice falls due soon and the customer gets a friendly reminder (once per invoice)."""

    type = "invoice.payment_reminder_due"
    invoice_id: int
    invoice_number: str
    customer_id: int
    customer_number: str
    due_date: date
    currency: Currency
    open_amount: Amount


@dataclass(frozen=True, kw_only=True)
class PromiseToPayBroken(DomainEvent):
    """A promise to pay passed its date with its invoices still unpaid."""

    type = "promise_to_pay.broken"
    promise_id: int
    customer_id: int
    customer_number: str
    promised_date: date
    currency: Currency
    amount: Amount
    actor_id: int
