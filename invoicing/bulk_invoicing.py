"""Bulk invoicing: many shipments, one issued invoice each, written set-based.

Each invoice is what `invoicing.services.invoice_shipments` makes of its shipment alone (the same
amounts, snapshot, number series, ledger posting and audit trail), but a batch of shipments costs a
fixed handful of statements instead of some twenty per invoice: this is how a nightly run or an
admin action invoices tens of thousands of shipments without leaving the database idle between
round trips.

Exactly once: a batch first claims its shipments by inserting their InvoicedShipment rows with
`ON CONFLICT DO NOTHING`; the unique shipment refuses the claim of a shipment invoiced by anyone
else, and waits for a competing transaction that has not committed yet. Only claimed shipments are
invoiced. Each invoice's id comes from the claim (foreign keys are checked at commit), so the rows are
written with COPY (`otc.bulk_rows`); the ledger posts the batch's entries the same way
(`ledger.services.post_entries`); every trigger (audit, immutability, balance) fires as for INSERT.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from customers.models import Customer, DocumentLayout
from invoicing.models import DocumentKind, Invoice, InvoiceLine, InvoiceStatus, TaxBreakdown
from invoicing.services import (
    customer_snapshot,
    document_item,
    document_postings,
    entry_memo,
    invoice_issued,
    mark_issued,
    shipped_invoice_line,
    take_numbers,
)
from ledger.models import EntryKind
from ledger.services import EntryToPost, account_ids, create_open_items, post_entries
from orders.models import Shipment, ShipmentLine
from otc.audit import acting
from otc.bulk_rows import copy_rows
from otc.events import publish_many
from otc.exchange_rates import company_currency, rate_on
from otc.models import User
from otc.money import TaxGroup, tax_groups

# Plain rows for the drafts, renamed for the business; plain fields of the model keep their names.
SHIPMENT_COLUMNS = {
    "currency": "order__currency",
    "po_number": "order__po_number",
    "billing_address": "order__billing_address",
    "shipping_address": "order__shipping_address",
    "order_discount": "order__discount_percent",
    "customer_id": "order__customer_id",
    "customer_number": "order__customer__number",
    "legal_name": "order__customer__legal_name",
    "trading_name": "order__customer__trading_name",
    "tax_id": "order__customer__tax_id",
    "country": "order__customer__country",
    "language": "order__customer__language",
    "payment_terms_days": "order__customer__payment_terms_days",
    "layout": "order__customer__preferences__document_layout",
}
LINE_COLUMNS = {
    "description": "order_line__description",
    "unit_price": "order_line__unit_price",
    "line_discount": "order_line__discount_percent",
    "tax_rate": "order_line__tax_rate",
    "tax_category": "order_line__tax_category",
    "tax_note": "order_line__tax_note",
    "product_id": "order_line__product_id",
    "sku": "order_line__product__sku",
    "gtin": "order_line__product__gtin",
    "product_unit": "order_line__product__unit",
}
ISSUE_SQL = """
    UPDATE invoicing_invoice AS invoice
       SET number = issued.number, status = %s, issue_date = %s, due_date = issued.due_date,
           exchange_rate = issued.exchange_rate, open_amount = invoice.gross_total,
           issued_by_id = %s, issued_at = %s, updated_at = %s
      FROM unnest(%s::bigint[], %s::varchar[], %s::date[], %s::numeric[])
           AS issued (id, number, due_date, exchange_rate)
     WHERE invoice.id = issued.id
"""
CLAIM_SQL = """
    INSERT INTO invoicing_invoicedshipment (shipment_id, invoice_id)
    SELECT shipment_id, nextval(pg_get_serial_sequence('invoicing_invoice', 'id'))
      FROM unnest(%s::bigint[]) AS claimed (shipment_id)
     ORDER BY shipment_id
        ON CONFLICT (shipment_id) DO NOTHING
    RETURNING shipment_id, invoice_id
"""

ZERO = Decimal("0")


@dataclass
class Draft:
    """One shipment's invoice before it is written: the document, its lines and its tax groups."""

    shipment_id: int
    invoice: Invoice
    lines: list[InvoiceLine]
    groups: list[TaxGroup]


def invoice_shipments_in_bulk(
    *, shipment_ids: list[int], actor: User, issue_date: date | None = None, batch_size: int = 1000
) -> int:
    """Invoice each shipment on its own issued invoice, `batch_size` shipments per transaction;
    return how many invoices were issued.

    Shipments invoiced already (before or concurrently) are skipped, as are shipments with nothing
    to charge, which `invoice_shipments` refuses. Numbers follow the shipments' ids and stay gapless
    across batches. Call it outside a transaction, so that each batch commits and releases its locks.
    """
    issue_date = issue_date or timezone.localdate()
    accounts = account_ids()
    issued = 0
    for batch in _batches(sorted(set(shipment_ids)), batch_size):
        with transaction.atomic(), acting(actor, "bulk invoicing"):
            issued += _invoice_batch(batch, actor=actor, issue_date=issue_date, accounts=accounts)
    return issued


def _batches(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _invoice_batch(shipment_ids: list[int], *, actor: User, issue_date: date, accounts: dict[str, int]) -> int:
    drafts = [draft for draft in _drafts(shipment_ids, actor=actor) if draft.invoice.gross_total > ZERO]
    claimed = _claim([draft.shipment_id for draft in drafts])
    drafts = [draft for draft in drafts if draft.shipment_id in claimed]
    if not drafts:
        return 0
    for draft in drafts:
        draft.invoice.pk = claimed[draft.shipment_id]
    now = timezone.now()
    _save_drafts(drafts, now=now)
    invoices = [draft.invoice for draft in drafts]
    _issue(invoices, actor=actor, issue_date=issue_date, rates=_rates(drafts, issue_date), now=now)
    _post(drafts, actor=actor, issue_date=issue_date, accounts=accounts, now=now)
    publish_many(invoice_issued(invoice, actor=actor) for invoice in invoices)
    return len(invoices)


# --- Reading and computing ---------------------------------------------------------------------------


def _drafts(shipment_ids: list[int], *, actor: User) -> list[Draft]:
    """The batch's shipments not yet invoiced, as drafts: two queries, whatever the batch size."""
    shipments = (
        Shipment.objects.filter(pk__in=shipment_ids, invoicing__isnull=True)
        .order_by("pk")
        .values("id", "dispatched_at", "order_id", **{name: F(path) for name, path in SHIPMENT_COLUMNS.items()})
    )
    lines_by_shipment: dict[int, list[dict]] = {}
    for row in (
        ShipmentLine.objects.filter(shipment_id__in=shipment_ids, shipment__invoicing__isnull=True)
        .order_by("shipment_id", "pk")
        .values(
            "id", "shipment_id", "quantity", "order_line_id", **{name: F(path) for name, path in LINE_COLUMNS.items()}
        )
    ):
        lines_by_shipment.setdefault(row["shipment_id"], []).append(row)
    snapshots: dict[int, dict[str, str]] = {}
    home = company_currency()
    drafts = []
    for shipment in shipments:
        if shipment["customer_id"] not in snapshots:
            snapshots[shipment["customer_id"]] = _snapshot(shipment)
        lines = _invoice_lines(shipment, lines_by_shipment.get(shipment["id"], []))
        groups = tax_groups(lines, shipment["currency"])
        invoice = _draft_invoice(shipment, snapshots[shipment["customer_id"]], lines, groups, home=home, actor=actor)
        drafts.append(Draft(shipment["id"], invoice, lines, groups))
    return drafts


def _snapshot(shipment: dict) -> dict[str, str]:
    return customer_snapshot(
        Customer(
            number=shipment["customer_number"],
            legal_name=shipment["legal_name"],
            trading_name=shipment["trading_name"],
            tax_id=shipment["tax_id"],
            country=shipment["country"],
        )
    )


def _invoice_lines(shipment: dict, rows: list[dict]) -> list[InvoiceLine]:
    """The lines `invoicing.services.drafting._lines_from_shipments` makes, from plain rows."""
    lines = []
    for line_no, row in enumerate(rows, start=1):
        line = shipped_invoice_line(
            quantity=row["quantity"],
            description=row["description"],
            unit_price=row["unit_price"],
            line_discount=row["line_discount"],
            order_discount=shipment["order_discount"],
            tax_rate=row["tax_rate"],
            tax_category=row["tax_category"],
            tax_note=row["tax_note"],
            product_id=row["product_id"],
            sku=row["sku"],
            gtin=row["gtin"],
            product_unit=row["product_unit"],
            currency=shipment["currency"],
            order_line_id=row["order_line_id"],
            shipment_line_id=row["id"],
        )
        line.line_no = line_no
        lines.append(line)
    return lines


def _draft_invoice(
    shipment: dict,
    snapshot: dict[str, str],
    lines: list[InvoiceLine],
    groups: list[TaxGroup],
    *,
    home: str,
    actor: User,
) -> Invoice:
    """The draft `_draft_for_shipments` saves for a single shipment, totals included."""
    net = sum((line.net_amount for line in lines), ZERO)
    tax = sum((group.tax_amount for group in groups), ZERO)
    return Invoice(
        kind=DocumentKind.INVOICE,
        customer_id=shipment["customer_id"],
        currency=shipment["currency"],
        company_currency=home,
        payment_terms_days=shipment["payment_terms_days"],
        customer_snapshot=snapshot,
        language=shipment["language"],
        layout=shipment["layout"] or DocumentLayout.STANDARD,
        created_by=actor,
        order_id=shipment["order_id"],
        po_number=shipment["po_number"][:60],
        billing_address=shipment["billing_address"],
        shipping_address=shipment["shipping_address"],
        delivery_date=timezone.localdate(shipment["dispatched_at"]),
        net_total=net,
        tax_total=tax,
        gross_total=net + tax,
    )


def _rates(drafts: list[Draft], issue_date: date) -> dict[str, Decimal]:
    """One exchange-rate look-up per currency in the batch."""
    return {currency: rate_on(currency, issue_date) for currency in {draft.invoice.currency for draft in drafts}}


# --- Writing -----------------------------------------------------------------------------------------


def _claim(shipment_ids: list[int]) -> dict[int, int]:
    """Claim the shipments for this transaction; the answer maps each claimed shipment to the id of its
    invoice. The first write of the batch: it also attaches the audit context."""
    if not shipment_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(CLAIM_SQL, [shipment_ids])
        return dict(cursor.fetchall())


def _save_drafts(drafts: list[Draft], *, now: datetime) -> None:
    """Drafts first, as `invoice_shipments` does: the lines of an issued invoice are refused by trigger."""
    copy_rows(Invoice, [draft.invoice for draft in drafts], now=now)
    lines = []
    breakdowns = []
    for draft in drafts:
        for line in draft.lines:
            line.invoice_id = draft.invoice.pk
        lines += draft.lines
        breakdowns += [
            TaxBreakdown(
                invoice_id=draft.invoice.pk,
                tax_category=group.tax_category,
                tax_rate=group.tax_rate,
                taxable_amount=group.taxable_amount,
                tax_amount=group.tax_amount,
                exemption_reason=group.exemption_reason,
            )
            for group in draft.groups
        ]
    copy_rows(InvoiceLine, lines, now=now)
    copy_rows(TaxBreakdown, breakdowns, now=now)


def _issue(
    invoices: list[Invoice], *, actor: User, issue_date: date, rates: dict[str, Decimal], now: datetime
) -> list[Invoice]:
    """Number, date and rate the drafts in one statement, as `services.issue_document` does one by one."""
    numbers = take_numbers(kind=DocumentKind.INVOICE, year=issue_date.year, count=len(invoices))
    for invoice, number in zip(invoices, numbers, strict=True):
        mark_issued(invoice, number=number, issue_date=issue_date, rate=rates[invoice.currency], actor=actor, now=now)
    with connection.cursor() as cursor:
        cursor.execute(
            ISSUE_SQL,
            [
                InvoiceStatus.ISSUED,
                issue_date,
                actor.pk,
                now,
                now,
                [invoice.pk for invoice in invoices],
                [invoice.number for invoice in invoices],
                [invoice.due_date for invoice in invoices],
                [invoice.exchange_rate for invoice in invoices],
            ],
        )
    return invoices


def _post(drafts: list[Draft], *, actor: User, issue_date: date, accounts: dict[str, int], now: datetime) -> None:
    """One open item and one balanced journal entry per invoice, as `services.issue_document` posts them."""
    items = create_open_items(items=[document_item(draft.invoice) for draft in drafts])
    entries = [
        EntryToPost(
            kind=EntryKind.INVOICE,
            posted_on=issue_date,
            memo=entry_memo(draft.invoice),
            postings=document_postings(draft.invoice, item_id=item.pk),
            currency=draft.invoice.currency,
            rate=draft.invoice.exchange_rate,
            item_id=item.pk,
        )
        for draft, item in zip(drafts, items, strict=True)
    ]
    post_entries(entries=entries, actor=actor, accounts=accounts, now=now)
