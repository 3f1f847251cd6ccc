"""What is open on an issued invoice: lowered when paid or written off, raised when an allocation is undone."""

from datetime import datetime
from decimal import Decimal

from django.db import connection, transaction

from invoicing.errors import (
    AmountNotOpen,
)
from invoicing.models import (
    DocumentKind,
    Invoice,
    InvoiceStatus,
)

ZERO = Decimal("0")


def settlement_status(document: Invoice) -> str:
    """The status an issued document's open and credited amounts imply."""
    if document.is_credit_note:
        return InvoiceStatus.SETTLED if document.open_amount == ZERO else InvoiceStatus.ISSUED
    if document.credited_amount == document.gross_total:
        return InvoiceStatus.CREDITED
    if document.open_amount == ZERO:
        return InvoiceStatus.PAID
    if document.open_amount < document.gross_total - document.credited_amount:
        return InvoiceStatus.PARTIALLY_PAID
    return InvoiceStatus.ISSUED


def _change_open_amount(invoice: Invoice, change: Decimal) -> Invoice:
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.kind != DocumentKind.INVOICE or invoice.status == InvoiceStatus.DRAFT:
        raise AmountNotOpen(f"{invoice} is not an issued invoice.")
    if not ZERO <= invoice.open_amount + change <= invoice.gross_total:
        raise AmountNotOpen(f"{invoice} has {invoice.open_amount} {invoice.currency} open, not to change by {change}.")
    invoice.open_amount += change
    invoice.status = settlement_status(invoice)
    invoice.save(update_fields=["open_amount", "status", "updated_at"])
    return invoice


@transaction.atomic
def settle_invoice(*, invoice: Invoice, amount: Decimal) -> Invoice:
    """Lower what is open on an issued invoice by `amount` (paid or written off) and set the status
    that implies. The caller posts the matching ledger entry in the same transaction; the invoice's
    row is locked here (callers settling several lock them in id order first, to avoid deadlocks)."""
    return _change_open_amount(invoice, -amount)


@transaction.atomic
def reopen_invoice(*, invoice: Invoice, amount: Decimal) -> Invoice:
    """Raise what is open on an issued invoice by `amount` again (an allocation undone)."""
    return _change_open_amount(invoice, amount)


SETTLE_SQL = """
    UPDATE invoicing_invoice AS invoice
       SET open_amount = settled.open_amount, status = settled.status, updated_at = %s
      FROM unnest(%s::bigint[], %s::numeric[], %s::varchar[]) AS settled (id, open_amount, status)
     WHERE invoice.id = settled.id
"""


def settle_invoices(*, settled: dict[Invoice, Decimal], now: datetime) -> None:
    """`settle_invoice` for many invoices in one statement, for set-based paths: each invoice (locked by
    the caller, its open amount as read under the lock) is lowered by its amount, its status following."""
    for invoice, amount in settled.items():
        if invoice.kind != DocumentKind.INVOICE or invoice.status == InvoiceStatus.DRAFT:
            raise AmountNotOpen(f"{invoice} is not an issued invoice.")
        if not ZERO <= invoice.open_amount - amount <= invoice.gross_total:
            raise AmountNotOpen(f"{invoice} has {invoice.open_amount} {invoice.currency} open, not to settle {amount}.")
        invoice.open_amount -= amount
        invoice.status = settlement_status(invoice)
    if settled:
        with connection.cursor() as cursor:
            cursor.execute(
                SETTLE_SQL,
                [
                    now,
                    [invoice.pk for invoice in settled],
                    [invoice.open_amount for invoice in settled],
                    [invoice.status for invoice in settled],
                ],
            )
