"""Domain events of invoicing, published inside the issuing transaction (see `otc.events`)."""

from dataclasses import dataclass
from datetime import date

from otc.events import Amount, Currency, DomainEvent


@dataclass(frozen=True, kw_only=True)
class InvoiceIssued(DomainEvent):
    """An invoice was issued: numbered, posted to the ledger and due for delivery to the customer."""

    type = "invoice.issued"
    invoice_id: int
    invoice_number: str
    customer_id: int
    customer_number: str
    actor_id: int
    issue_date: date
    due_date: date
    currency: Currency
    gross_total: Amount


@dataclass(frozen=True, kw_only=True)
class CreditNoteIssued(DomainEvent):
    """A credit note was issued against an invoice and is due for delivery to the customer."""

    type = "credit_note.issued"
    credit_note_id: int
    credit_note_number: str
    credited_invoice_id: int
    credited_invoice_number: str
    customer_id: int
    customer_number: str
    actor_id: int
    issue_date: date
    currency: Currency
    gross_total: Amount


@dataclass(frozen=True, kw_only=True)
class InvoiceResendRequested(DomainEvent):
    """Someone asked for an issued invoice or credit note to be delivered again."""

    type = "invoice.resend_requested"
    invoice_id: int
    invoice_number: str
    customer_id: int
    customer_number: str
    actor_id: int
    reason: str
