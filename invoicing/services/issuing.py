"""Issuing: number, dates, exchange rate, open item, ledger posting and event, in one transaction."""

from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from invoicing.errors import (
    InvoiceNotDraft,
)
from invoicing.events import InvoiceIssued
from invoicing.models import (
    Invoice,
    InvoiceStatus,
)
from invoicing.services.numbering import take_numbers
from invoicing.services.postings import document_item, document_postings, entry_memo
from ledger.models import EntryKind, OpenItem
from ledger.services import create_open_items, post_entry
from otc.audit import acting
from otc.errors import InvalidInput
from otc.events import publish
from otc.exchange_rates import rate_on
from otc.models import User

ZERO = Decimal("0")


@transaction.atomic
def issue_invoice(*, invoice: Invoice, actor: User, issue_date: date | None = None) -> Invoice:
    """Issue a draft: number, dates, exchange rate, ledger posting, event. From then on it is frozen."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    with acting(actor, "issue invoice"):
        return issue_document(invoice, actor=actor, issue_date=issue_date)


def issue_document(
    document: Invoice,
    *,
    actor: User,
    issue_date: date | None,
    applied: Decimal = ZERO,
    credited_item: OpenItem | None = None,
) -> Invoice:
    if document.status != InvoiceStatus.DRAFT:
        raise InvoiceNotDraft(f"{document} is already issued.")
    if document.gross_total <= ZERO:
        raise InvalidInput(f"{document} has nothing to charge.", fields={"lines": ["The total is zero."]})
    issue_date = issue_date or timezone.localdate()
    mark_issued(
        document,
        number=take_numbers(kind=document.kind, year=issue_date.year)[0],
        issue_date=issue_date,
        rate=rate_on(document.currency, issue_date),
        actor=actor,
        now=timezone.now(),
    )
    if document.delivery_date is None and not document.is_credit_note:
        document.delivery_date = issue_date  # a service or fee is supplied on the day it is invoiced
    document.save()
    [item] = create_open_items(items=[document_item(document)])
    post_entry(
        kind=EntryKind.CREDIT_NOTE if document.is_credit_note else EntryKind.INVOICE,
        posted_on=issue_date,
        memo=entry_memo(document),
        postings=document_postings(
            document, item_id=item.pk, applied=applied, credited_item_id=credited_item.pk if credited_item else None
        ),
        currency=document.currency,
        rate=document.exchange_rate,
        actor=actor,
        item=item,
    )
    if not document.is_credit_note:
        publish(invoice_issued(document, actor=actor))
    return document


def invoice_issued(invoice: Invoice, *, actor: User) -> InvoiceIssued:
    """The event of an issued invoice, from its own fields (the customer's number as snapshotted)."""
    return InvoiceIssued(
        invoice_id=invoice.pk,
        invoice_number=invoice.number,
        customer_id=invoice.customer_id,
        customer_number=invoice.customer_snapshot["number"],
        actor_id=actor.pk,
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        currency=invoice.currency,
        gross_total=invoice.gross_total,
    )


def mark_issued(document: Invoice, *, number: str, issue_date: date, rate: Decimal, actor: User, now: datetime) -> None:
    """What issuing sets on a document (in memory; the caller writes it, one by one or in bulk)."""
    document.number, document.issue_date = number, issue_date
    document.due_date = issue_date + timedelta(days=document.payment_terms_days)
    document.exchange_rate = rate
    document.status = InvoiceStatus.ISSUED
    document.open_amount = document.gross_total
    document.issued_by, document.issued_at = actor, now
