"""How an issued document sits in the ledger: its open item, its journal lines and memo."""

from decimal import Decimal

from invoicing.models import (
    Invoice,
)
from ledger.models import AccountRole, ItemKind, OpenItem
from ledger.services import Posting, open_item

ZERO = Decimal("0")


def document_item(document: Invoice) -> OpenItem:
    """The open item (unsaved) the ledger keeps an issued document's receivable on."""
    return open_item(
        customer_id=document.customer_id,
        kind=ItemKind(document.kind),
        document_id=document.pk,
        reference=document.number,
        currency=document.currency,
        issued_on=document.issue_date,
        due_on=document.due_date,
    )


def document_postings(
    document: Invoice, *, item_id: int, applied: Decimal = ZERO, credited_item_id: int | None = None
) -> list[Posting]:
    """Receivable against revenue and tax; a credit note is the mirror image. The part of a credit
    note `applied` to the credited invoice settles that invoice's item; the rest stays open on the note's."""
    sign = -1 if document.is_credit_note else 1
    return [
        Posting(AccountRole.RECEIVABLE, sign * (document.gross_total - applied), document.customer_id, item_id),
        Posting(AccountRole.RECEIVABLE, -applied, document.customer_id, credited_item_id),
        Posting(AccountRole.TAX_PAYABLE, -sign * document.tax_total),
        Posting(AccountRole.REVENUE, -sign * document.net_total),
    ]


def entry_memo(document: Invoice) -> str:
    """How an issued document's journal entry reads: number and customer."""
    return f"{document.number} {document.customer_snapshot.get('legal_name', '')}"[:300]
