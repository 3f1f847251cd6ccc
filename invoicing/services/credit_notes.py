"""Credit notes: by line, by amount, and for returned goods; never more than what they credit."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Q, Sum
from django.db.models.functions import Coalesce

from inventory.models import format_quantity
from invoicing.errors import (
    NotCreditable,
    OverCredit,
)
from invoicing.events import CreditNoteIssued
from invoicing.models import (
    DocumentKind,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    TaxBreakdown,
)
from invoicing.services.drafting import save_with_lines
from invoicing.services.issuing import issue_document
from invoicing.services.settlement import settlement_status
from invoicing.services.tax import credit_tax_groups
from ledger.models import ItemKind
from ledger.selectors import item_for_document
from orders.models import ReturnOrder
from otc.audit import acting
from otc.errors import InvalidInput
from otc.events import publish
from otc.models import User
from otc.money import line_net, parse_decimal, quantize

ZERO = Decimal("0")

ISSUED_STATUSES = [status for status in InvoiceStatus.values if status != InvoiceStatus.DRAFT]


@dataclass(frozen=True)
class CreditLine:
    """Credit `quantity` of an invoice line at its price, or a price reduction of `net_amount` on it."""

    invoice_line: InvoiceLine
    quantity: Decimal | None = None
    net_amount: Decimal | None = None


def _uncredited(invoice: Invoice) -> tuple[dict[int, tuple[Decimal, Decimal]], dict[tuple[str, Decimal], tuple]]:
    """Per invoice line (quantity, net) and per tax group (net, tax) not yet credited by issued notes."""
    credited_lines = defaultdict(lambda: (ZERO, ZERO))
    for row in (
        InvoiceLine.objects.filter(credited_line__invoice=invoice, invoice__status__in=ISSUED_STATUSES)
        .values("credited_line_id")
        .annotate(quantity=Coalesce(Sum("quantity", filter=Q(is_price_reduction=False)), ZERO), net=Sum("net_amount"))
    ):
        credited_lines[row["credited_line_id"]] = (row["quantity"], row["net"])
    lines = {
        line.pk: (line.quantity - credited_lines[line.pk][0], line.net_amount - credited_lines[line.pk][1])
        for line in invoice.lines.all()
    }
    credited_groups = defaultdict(lambda: (ZERO, ZERO))
    for row in (
        TaxBreakdown.objects.filter(invoice__credited_invoice=invoice, invoice__status__in=ISSUED_STATUSES)
        .values("tax_category", "tax_rate")
        .annotate(net=Sum("taxable_amount"), tax=Sum("tax_amount"))
    ):
        credited_groups[(row["tax_category"], row["tax_rate"])] = (row["net"], row["tax"])
    groups = {
        (group.tax_category, group.tax_rate): (
            group.taxable_amount - credited_groups[(group.tax_category, group.tax_rate)][0],
            group.tax_amount - credited_groups[(group.tax_category, group.tax_rate)][1],
        )
        for group in invoice.tax_breakdown.all()
    }
    return lines, groups


def _credit_note_line(source: InvoiceLine, credit: CreditLine, left: tuple[Decimal, Decimal], currency: str):
    left_quantity, left_net = left
    if (credit.quantity is None) == (credit.net_amount is None):
        raise InvalidInput("Give a quantity or an amount to credit, not both.", fields={"lines": ["One of them."]})
    if credit.net_amount is not None:
        amount = parse_decimal(credit.net_amount, field="net_amount", low=Decimal("0.01"))
        if quantize(amount, currency) != amount or amount > left_net:
            raise OverCredit(
                f"Line {source.line_no}: {amount} asked, {left_net} {currency} left to credit.",
                fields={"lines": [f"At most {left_net}."]},
            )
        quantity, unit_price, discount, net = Decimal(1), amount, ZERO, amount
        description = f"Price reduction: {source.description}"
    else:
        quantity = parse_decimal(credit.quantity, field="quantity", low=Decimal("0.001"))
        if quantity > left_quantity:
            raise OverCredit(
                f"Line {source.line_no}: {format_quantity(quantity)} asked, "
                f"{format_quantity(left_quantity)} left to credit.",
                fields={"lines": [f"At most {format_quantity(left_quantity)}."]},
            )
        unit_price, discount, description = source.unit_price, source.discount_percent, source.description
        net = (
            left_net
            if quantity == left_quantity
            else min(
                line_net(quantity=quantity, unit_price=unit_price, discount_percent=discount, currency=currency),
                left_net,
            )
        )
    return InvoiceLine(
        product_id=source.product_id,
        sku=source.sku,
        gtin=source.gtin,
        description=description[:300],
        quantity=quantity,
        unit=source.unit,
        unit_price=unit_price,
        discount_percent=discount,
        tax_category=source.tax_category,
        tax_rate=source.tax_rate,
        tax_note=source.tax_note,
        net_amount=net,
        order_line_id=source.order_line_id,
        credited_line=source,
        is_price_reduction=credit.net_amount is not None,
    )


@transaction.atomic
def issue_credit_note(
    *,
    invoice: Invoice,
    actor: User,
    reason: str,
    lines: list[CreditLine] | None = None,
    return_order: ReturnOrder | None = None,
    issue_date: date | None = None,
) -> Invoice:
    """Credit an issued invoice in full (no `lines`) or in part, and apply the credit to what is open.

    Whatever the invoice no longer has open (it was paid) stays open on the credit note: the
    customer's credit balance.
    """
    if not reason.strip():
        raise InvalidInput("A credit note needs a reason.", fields={"reason": ["This field is required."]})
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.is_credit_note or invoice.status == InvoiceStatus.DRAFT:
        raise NotCreditable(f"{invoice} cannot be credited: only issued invoices can.")
    invoice_lines = {line.pk: line for line in invoice.lines.all()}
    left_lines, left_groups = _uncredited(invoice)
    if lines is None:
        lines = [
            CreditLine(line, quantity=left_lines[pk][0]) for pk, line in invoice_lines.items() if left_lines[pk][0]
        ]
        if not lines:
            raise OverCredit(f"{invoice} is fully credited already.")
    note_lines = []
    for credit in lines:
        source = invoice_lines.get(credit.invoice_line.pk)
        if source is None:
            raise InvalidInput("The line is not on this invoice.", fields={"lines": ["Not on this invoice."]})
        note_line = _credit_note_line(source, credit, left_lines[source.pk], invoice.currency)
        left_quantity, left_net = left_lines[source.pk]
        left_lines[source.pk] = (
            left_quantity - (note_line.quantity if credit.quantity is not None else ZERO),
            left_net - note_line.net_amount,
        )
        note_lines.append(note_line)
    note = Invoice(
        kind=DocumentKind.CREDIT_NOTE,
        customer_id=invoice.customer_id,
        currency=invoice.currency,
        company_currency=invoice.company_currency,
        payment_terms_days=0,
        customer_snapshot=invoice.customer_snapshot,
        billing_address=invoice.billing_address,
        shipping_address=invoice.shipping_address,
        po_number=invoice.po_number,
        order_id=invoice.order_id,
        credited_invoice=invoice,
        return_order=return_order,
        reason=reason.strip()[:300],
        language=invoice.language,
        layout=invoice.layout,
        created_by=actor,
    )
    with acting(actor, f"credit note: {reason.strip()}"):
        save_with_lines(
            note, note_lines, credit_tax_groups(note_lines, remaining=left_groups, currency=invoice.currency)
        )
        applied = min(note.gross_total, invoice.open_amount)
        credited_item = item_for_document(kind=ItemKind.INVOICE, document_id=invoice.pk)
        issue_document(note, actor=actor, issue_date=issue_date, applied=applied, credited_item=credited_item)
        invoice.open_amount -= applied
        invoice.credited_amount += note.gross_total
        if invoice.credited_amount > invoice.gross_total:
            raise OverCredit(f"{invoice}: credits would exceed the invoice's {invoice.gross_total}.")
        invoice.status = settlement_status(invoice)
        invoice.save(update_fields=["open_amount", "credited_amount", "status", "updated_at"])
        note.open_amount = note.gross_total - applied
        note.status = settlement_status(note)
        note.save(update_fields=["open_amount", "status", "updated_at"])
    publish(
        CreditNoteIssued(
            credit_note_id=note.pk,
            credit_note_number=note.number,
            credited_invoice_id=invoice.pk,
            credited_invoice_number=invoice.number,
            customer_id=invoice.customer_id,
            customer_number=note.customer_snapshot["number"],
            actor_id=actor.pk,
            issue_date=note.issue_date,
            currency=note.currency,
            gross_total=note.gross_total,
        )
    )
    return note


@transaction.atomic
def credit_returned_goods(*, return_order: ReturnOrder, actor: User) -> list[Invoice]:
    """A credit note per invoice that billed the returned goods, for the returned quantities."""
    credits: dict[int, list[CreditLine]] = defaultdict(list)
    invoices: dict[int, Invoice] = {}
    left: dict[int, Decimal] = {}  # invoice line id -> quantity not yet credited, read once per invoice
    for return_line in return_order.lines.select_related("order_line"):
        remaining = return_line.quantity
        billed = (
            InvoiceLine.objects.select_related("invoice")
            .filter(order_line=return_line.order_line, invoice__kind=DocumentKind.INVOICE)
            .exclude(invoice__status=InvoiceStatus.DRAFT)
            .order_by("-invoice__issue_date", "-pk")
        )
        for line in billed:
            if remaining <= ZERO:
                break
            if line.pk not in left:
                left.update((pk, quantity) for pk, (quantity, _net) in _uncredited(line.invoice)[0].items())
            quantity = min(remaining, left[line.pk])
            if quantity > ZERO:
                credits[line.invoice_id].append(CreditLine(line, quantity=quantity))
                invoices[line.invoice_id] = line.invoice
                left[line.pk] -= quantity
                remaining -= quantity
    return [
        issue_credit_note(
            invoice=invoices[invoice_id],
            actor=actor,
            reason=f"Return {return_order.number}: {return_order.reason}",
            lines=lines,
            return_order=return_order,
        )
        for invoice_id, lines in credits.items()
    ]
