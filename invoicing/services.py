"""Write side of invoicing: drafts from shipments or by hand, issuing (gapless number, open item and
posting in the ledger, event), credit notes, and settling and reopening invoices for payments.

Rounding: the suite's one rule (EN 16931) in `otc.money` -- line nets rounded half-up per line, tax
per VAT group (category code and rate) rounded half-up once per group, totals are sums -- the same
rule orders use, so an order and its invoice agree to the cent. A credit note's tax per group is
capped at what the invoice's group has left uncredited, and a credit note that takes the rest of a
group takes the rest of its tax, so credits never exceed what they credit, to the cent.

Tax categories are UNCL 5305 codes decided once, by `inventory.selectors.quote_taxes`, stored on the
order line and copied to the invoice line; the tax note is wording for people only.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from customers.models import AddressKind, Customer, InvoicingSchedule, Preferences
from customers.selectors import address_snapshot, default_addresses
from customers.validators import normalize_bic, normalize_iban, normalize_tax_id, validate_country
from inventory.models import Product, Unit, format_quantity
from inventory.selectors import quote_taxes
from invoicing import signals
from invoicing.errors import (
    AlreadyInvoiced,
    AmountNotOpen,
    HoldAlreadyActive,
    HoldNotActive,
    InvoiceNotDraft,
    NotCreditable,
    OverCredit,
)
from invoicing.models import (
    CompanyProfile,
    DocumentKind,
    HoldKind,
    Invoice,
    InvoicedShipment,
    InvoiceHold,
    InvoiceLine,
    InvoiceStatus,
    TaxBreakdown,
    TaxCategoryCode,
)
from ledger.models import AccountRole, EntryKind, ItemKind, OpenItem
from ledger.selectors import item_for_document
from ledger.services import Posting, create_open_items, open_item, post_entry
from orders.models import ReturnOrder, Shipment
from otc.audit import acting
from otc.errors import InvalidInput, field_checked
from otc.exchange_rates import company_currency, rate_on
from otc.models import User
from otc.money import TaxGroup, combined_discount, line_net, parse_decimal, quantize, tax_groups, validate_currency
from otc.services import validate_model

ZERO = Decimal("0")
HUNDRED = Decimal("100")
SERIES_PREFIX = {DocumentKind.INVOICE: "INV", DocumentKind.CREDIT_NOTE: "CN"}
UNIT_CODES = {
    Unit.PIECE: "C62",
    Unit.BOX: "XBX",
    Unit.KILOGRAM: "KGM",
    Unit.METRE: "MTR",
    Unit.LITRE: "LTR",
    Unit.HOUR: "HUR",
}
ISSUED_STATUSES = [status for status in InvoiceStatus.values if status != InvoiceStatus.DRAFT]


# --- Amounts -----------------------------------------------------------------------------------------


def credit_tax_groups(
    lines: Iterable[InvoiceLine], *, remaining: dict[tuple[str, Decimal], tuple[Decimal, Decimal]], currency: str
) -> list[TaxGroup]:
    """Tax of a credit note, capped by what each of the invoice's groups has left (net, tax) uncredited."""
    groups = []
    for group in tax_groups(lines, currency):
        left_net, left_tax = remaining[(group.tax_category, group.tax_rate)]
        tax = left_tax if group.taxable_amount == left_net else min(group.tax_amount, left_tax)
        groups.append(TaxGroup(group.tax_category, group.tax_rate, group.taxable_amount, tax, group.exemption_reason))
    return groups


# --- Numbers -----------------------------------------------------------------------------------------


def take_numbers(*, kind: str, year: int, count: int = 1) -> list[str]:
    """The next `count` numbers of the kind's series and year, gapless.

    The UPDATE holds the series row's lock until the issuing transaction ends; a rolled-back issue
    gives its numbers back, so no number is ever skipped.
    """
    code = SERIES_PREFIX[kind]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO invoicing_numberseries (code, year, last_value) VALUES (%s, %s, 0) "
            "ON CONFLICT (code, year) DO NOTHING",
            [code, year],
        )
        cursor.execute(
            "UPDATE invoicing_numberseries SET last_value = last_value + %s WHERE code = %s AND year = %s "
            "RETURNING last_value",
            [count, code, year],
        )
        (last,) = cursor.fetchone()
    return [f"{code}-{year}-{value:06d}" for value in range(last - count + 1, last + 1)]


# --- The ledger --------------------------------------------------------------------------------------


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


# --- Company profile --------------------------------------------------------------------------------

COMPANY_PROFILE_FIELDS = (
    "legal_name",
    "line1",
    "line2",
    "postal_code",
    "city",
    "country",
    "tax_id",
    "registration",
    "email",
    "phone",
    "website",
    "bank_name",
    "iban",
    "bic",
    "legal_text",
    "payment_instructions",
)


@transaction.atomic
def save_company_profile(*, actor: User, data: dict) -> CompanyProfile:
    """Who issues the documents. VAT ID, IBAN and BIC are checked, because every invoice prints them."""
    unknown = set(data) - set(COMPANY_PROFILE_FIELDS) - {"logo"}
    if unknown:
        raise InvalidInput(
            f"Unknown fields: {', '.join(sorted(unknown))}.", fields={name: ["Unknown."] for name in unknown}
        )
    profile = CompanyProfile.objects.select_for_update().filter(pk=1).first() or CompanyProfile(pk=1)
    for name, value in data.items():
        setattr(profile, name, value)
    field_checked("country", validate_country, profile.country)
    profile.tax_id = field_checked("tax_id", normalize_tax_id, profile.tax_id, profile.country)
    profile.iban = field_checked("iban", normalize_iban, profile.iban)
    profile.bic = field_checked("bic", normalize_bic, profile.bic)
    validate_model(profile)
    with acting(actor, "company profile"):
        profile.save()
    return profile


# --- Drafts ------------------------------------------------------------------------------------------


def customer_snapshot(customer: Customer) -> dict[str, str]:
    return {
        "number": customer.number,
        "legal_name": customer.legal_name,
        "display_name": customer.display_name,
        "tax_id": customer.tax_id,
        "country": customer.country,
    }


def _new_document(*, customer: Customer, kind: str, currency: str, actor: User, **fields) -> Invoice:
    preferences = Preferences.objects.filter(customer_id=customer.pk).first()
    return Invoice(
        kind=kind,
        customer=customer,
        currency=currency,
        company_currency=company_currency(),
        payment_terms_days=customer.payment_terms_days,
        customer_snapshot=customer_snapshot(customer),
        language=customer.language,
        layout=preferences.document_layout if preferences else "standard",
        created_by=actor,
        **fields,
    )


def _save_with_lines(document: Invoice, lines: list[InvoiceLine], groups: list[TaxGroup]) -> Invoice:
    document.net_total = sum((line.net_amount for line in lines), ZERO)
    document.tax_total = sum((group.tax_amount for group in groups), ZERO)
    document.gross_total = document.net_total + document.tax_total
    document.save()
    for number, line in enumerate(lines, start=1):
        line.invoice, line.line_no = document, number
    InvoiceLine.objects.bulk_create(lines)
    TaxBreakdown.objects.bulk_create(
        [
            TaxBreakdown(
                invoice=document,
                tax_category=group.tax_category,
                tax_rate=group.tax_rate,
                taxable_amount=group.taxable_amount,
                tax_amount=group.tax_amount,
                exemption_reason=group.exemption_reason,
            )
            for group in groups
        ]
    )
    return document


def shipped_invoice_line(
    *,
    quantity: Decimal,
    description: str,
    unit_price: Decimal,
    line_discount: Decimal,
    order_discount: Decimal,
    tax_rate: Decimal,
    tax_category: str,
    tax_note: str,
    product_id: int,
    sku: str,
    gtin: str,
    product_unit: str,
    currency: str,
    order_line_id: int,
    shipment_line_id: int,
) -> InvoiceLine:
    """The invoice line for a shipped quantity of an order line: its price, discounts and tax decision."""
    discount = combined_discount(line_discount, order_discount)
    return InvoiceLine(
        product_id=product_id,
        sku=sku,
        gtin=gtin,
        description=description,
        quantity=quantity,
        unit=UNIT_CODES.get(product_unit, "C62"),
        unit_price=unit_price,
        discount_percent=discount,
        tax_category=tax_category,
        tax_rate=tax_rate,
        tax_note=tax_note,
        net_amount=line_net(quantity=quantity, unit_price=unit_price, discount_percent=discount, currency=currency),
        order_line_id=order_line_id,
        shipment_line_id=shipment_line_id,
    )


def _lines_from_shipments(shipments: list[Shipment], currency: str) -> list[InvoiceLine]:
    lines = []
    for shipment in shipments:
        order = shipment.order
        for shipment_line in shipment.lines.all():
            order_line, product = shipment_line.order_line, shipment_line.order_line.product
            lines.append(
                shipped_invoice_line(
                    quantity=shipment_line.quantity,
                    description=order_line.description,
                    unit_price=order_line.unit_price,
                    line_discount=order_line.discount_percent,
                    order_discount=order.discount_percent,
                    tax_rate=order_line.tax_rate,
                    tax_category=order_line.tax_category,
                    tax_note=order_line.tax_note,
                    product_id=product.pk,
                    sku=product.sku,
                    gtin=product.gtin,
                    product_unit=product.unit,
                    currency=currency,
                    order_line_id=order_line.pk,
                    shipment_line_id=shipment_line.pk,
                )
            )
    return lines


def _draft_for_shipments(*, shipments: list[Shipment], actor: User) -> Invoice:
    orders = {shipment.order_id: shipment.order for shipment in shipments}
    first = shipments[0].order
    if len({order.customer_id for order in orders.values()}) > 1 or len({o.currency for o in orders.values()}) > 1:
        raise InvalidInput(
            "One invoice covers shipments of one customer in one currency.", fields={"shipments": ["Mixed."]}
        )
    purchase_orders = sorted({order.po_number for order in orders.values() if order.po_number})
    invoice = _new_document(
        customer=first.customer,
        kind=DocumentKind.INVOICE,
        currency=first.currency,
        actor=actor,
        order=first if len(orders) == 1 else None,
        po_number=", ".join(purchase_orders)[:60],
        billing_address=first.billing_address,
        shipping_address=first.shipping_address,
        delivery_date=max(timezone.localdate(shipment.dispatched_at) for shipment in shipments),
    )
    lines = _lines_from_shipments(shipments, invoice.currency)
    _save_with_lines(invoice, lines, tax_groups(lines, invoice.currency))
    try:
        with transaction.atomic():
            InvoicedShipment.objects.bulk_create(
                [InvoicedShipment(shipment=shipment, invoice=invoice) for shipment in shipments]
            )
    except IntegrityError as error:
        raise AlreadyInvoiced(f"{', '.join(s.number for s in shipments)}: already invoiced.") from error
    return invoice


@transaction.atomic
def invoice_shipments(*, shipments: list[Shipment], actor: User, issue_date: date | None = None) -> Invoice:
    """Invoice dispatched goods and issue the invoice: one shipment, or several (consolidated).

    Never two invoices for one shipment: the unique InvoicedShipment row refuses the second.
    """
    if not shipments:
        raise InvalidInput("Nothing to invoice.", fields={"shipments": ["At least one shipment."]})
    shipments = list(
        Shipment.objects.select_related("order__customer")
        .prefetch_related("lines__order_line__product")
        .filter(pk__in=[shipment.pk for shipment in shipments])
        .order_by("dispatched_at", "pk")
    )
    already = InvoicedShipment.objects.filter(shipment__in=shipments).select_related("shipment", "invoice")
    if already:
        taken = ", ".join(f"{row.shipment.number} ({row.invoice})" for row in already)
        raise AlreadyInvoiced(f"Already invoiced: {taken}.")
    with acting(actor, "invoice shipments"):
        invoice = _draft_for_shipments(shipments=shipments, actor=actor)
        return _issue(invoice, actor=actor, issue_date=issue_date)


@dataclass(frozen=True)
class ManualLine:
    """A line entered by hand: a service, a fee, or goods not shipped through an order."""

    description: str
    quantity: Decimal
    unit_price: Decimal
    product: Product | None = None
    discount_percent: Decimal = ZERO
    tax_rate: Decimal | None = None  # None: the product's rate for the customer's country today
    tax_category: str = ""  # empty: derived from the rate
    tax_note: str = ""


def _manual_lines(customer: Customer, lines: list[ManualLine], currency: str, on: date) -> list[InvoiceLine]:
    taxed = [line.product for line in lines if line.tax_rate is None and line.product is not None]
    taxes = quote_taxes(customer=customer, products=taxed, destination=customer.country, on_date=on) if taxed else {}
    result = []
    for line in lines:
        if not line.description.strip():
            raise InvalidInput("Every line needs a description.", fields={"description": ["Required."]})
        quantity = parse_decimal(line.quantity, field="quantity", low=Decimal("0.001"))
        unit_price = parse_decimal(line.unit_price, field="unit_price", low=ZERO)
        discount = parse_decimal(line.discount_percent, field="discount_percent", low=ZERO, high=HUNDRED)
        if line.tax_rate is None and line.product is None:
            raise InvalidInput("A line without a product needs a tax rate.", fields={"tax_rate": ["Required."]})
        if line.tax_rate is None:
            quote = taxes[line.product.pk]
            rate, category, note = quote.rate, quote.category, quote.note
        else:
            rate, note = parse_decimal(line.tax_rate, field="tax_rate", low=ZERO, high=HUNDRED), ""
            category = TaxCategoryCode.STANDARD if rate else TaxCategoryCode.ZERO
        category = line.tax_category or category
        if category not in TaxCategoryCode.values:
            raise InvalidInput(f"Unknown tax category {category}.", fields={"tax_category": ["Unknown."]})
        if category == TaxCategoryCode.STANDARD and rate == ZERO:
            raise InvalidInput("A standard-rated line needs a rate above 0.", fields={"tax_rate": ["Above 0."]})
        result.append(
            InvoiceLine(
                product=line.product,
                sku=line.product.sku if line.product else "",
                gtin=line.product.gtin if line.product else "",
                description=line.description.strip()[:300],
                quantity=quantity,
                unit=UNIT_CODES.get(line.product.unit, "C62") if line.product else "C62",
                unit_price=unit_price,
                discount_percent=discount,
                tax_category=category,
                tax_rate=rate,
                tax_note=(line.tax_note or note)[:200],
                net_amount=line_net(
                    quantity=quantity, unit_price=unit_price, discount_percent=discount, currency=currency
                ),
            )
        )
    return result


@transaction.atomic
def create_manual_invoice(
    *,
    customer: Customer,
    lines: list[ManualLine],
    actor: User,
    currency: str | None = None,
    po_number: str = "",
    notes: str = "",
    issue: bool = True,
    issue_date: date | None = None,
) -> Invoice:
    """An invoice typed in by finance (services, fees, corrections upward); issued unless `issue` is off."""
    currency = currency or customer.default_currency
    field_checked("currency", validate_currency, currency)
    if not lines:
        raise InvalidInput("An invoice needs at least one line.", fields={"lines": ["At least one line."]})
    defaults = default_addresses(customer)
    billing, shipping = defaults.get(AddressKind.BILLING), defaults.get(AddressKind.SHIPPING)
    with acting(actor, "manual invoice"):
        invoice = _new_document(
            customer=customer,
            kind=DocumentKind.INVOICE,
            currency=currency,
            actor=actor,
            po_number=po_number.strip()[:60],
            notes=notes,
            billing_address=address_snapshot(billing or shipping, customer),
            shipping_address=address_snapshot(shipping, customer),
        )
        invoice_lines = _manual_lines(customer, lines, currency, issue_date or timezone.localdate())
        _save_with_lines(invoice, invoice_lines, tax_groups(invoice_lines, currency))
        return _issue(invoice, actor=actor, issue_date=issue_date) if issue else invoice


@transaction.atomic
def discard_draft(*, invoice: Invoice, actor: User) -> None:
    """Delete a draft nobody issued; issued documents are never deleted."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status != InvoiceStatus.DRAFT:
        raise InvoiceNotDraft(f"{invoice} is issued; correct it with a credit note.")
    with acting(actor, "discard draft"):
        invoice.delete()


# --- Issuing -----------------------------------------------------------------------------------------


@transaction.atomic
def issue_invoice(*, invoice: Invoice, actor: User, issue_date: date | None = None) -> Invoice:
    """Issue a draft: number, dates, exchange rate, ledger posting, event. From then on it is frozen."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    with acting(actor, "issue invoice"):
        return _issue(invoice, actor=actor, issue_date=issue_date)


def _issue(
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
        signals.invoice_issued.send(
            sender=Invoice, invoice_id=document.pk, customer_id=document.customer_id, actor_id=actor.pk
        )
    return document


@transaction.atomic
def place_hold(
    *, invoice: Invoice, kind: str, reason_code: str, actor: User, text: str = "", source: str = ""
) -> InvoiceHold:
    """Keep collections away from an issued invoice (a dispute, a query) until the hold is released.
    `source` says what placed it ("dispute:12"), so that the placer finds and releases its own hold."""
    if kind not in HoldKind.values:
        raise InvalidInput(f"No hold kind {kind!r}.", fields={"kind": [f"One of {', '.join(HoldKind.values)}."]})
    if not reason_code.strip():
        raise InvalidInput("A hold needs a reason.", fields={"reason_code": ["This field is required."]})
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status == InvoiceStatus.DRAFT:
        raise InvoiceNotDraft(f"{invoice} is a draft; only issued invoices are held.")
    if invoice.holds.filter(kind=kind, released_at__isnull=True).exists():
        raise HoldAlreadyActive(f"{invoice} has an active {HoldKind(kind).label.lower()} hold already.")
    return InvoiceHold.objects.create(
        invoice=invoice,
        kind=kind,
        reason_code=reason_code.strip()[:40],
        text=text.strip()[:300],
        source=source[:60],
        placed_by=actor,
        placed_at=timezone.now(),
    )


@transaction.atomic
def release_hold(*, hold: InvoiceHold, actor: User, note: str = "") -> InvoiceHold:
    """Let collections pick the invoice up again (unless another hold keeps it)."""
    hold = InvoiceHold.objects.select_for_update().get(pk=hold.pk)
    if not hold.is_active:
        raise HoldNotActive(f"The {hold} was released already.")
    hold.released_by, hold.released_at, hold.release_note = actor, timezone.now(), note.strip()[:300]
    hold.save(update_fields=["released_by", "released_at", "release_note"])
    return hold


def mark_issued(document: Invoice, *, number: str, issue_date: date, rate: Decimal, actor: User, now: datetime) -> None:
    """What issuing sets on a document (in memory; the caller writes it, one by one or in bulk)."""
    document.number, document.issue_date = number, issue_date
    document.due_date = issue_date + timedelta(days=document.payment_terms_days)
    document.exchange_rate = rate
    document.status = InvoiceStatus.ISSUED
    document.open_amount = document.gross_total
    document.issued_by, document.issued_at = actor, now


def entry_memo(document: Invoice) -> str:
    """How an issued document's journal entry reads: number and customer."""
    return f"{document.number} {document.customer_snapshot.get('legal_name', '')}"[:300]


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


# --- Credit notes ------------------------------------------------------------------------------------


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
        _save_with_lines(
            note, note_lines, credit_tax_groups(note_lines, remaining=left_groups, currency=invoice.currency)
        )
        applied = min(note.gross_total, invoice.open_amount)
        credited_item = item_for_document(kind=ItemKind.INVOICE, document_id=invoice.pk)
        _issue(note, actor=actor, issue_date=issue_date, applied=applied, credited_item=credited_item)
        invoice.open_amount -= applied
        invoice.credited_amount += note.gross_total
        if invoice.credited_amount > invoice.gross_total:
            raise OverCredit(f"{invoice}: credits would exceed the invoice's {invoice.gross_total}.")
        invoice.status = settlement_status(invoice)
        invoice.save(update_fields=["open_amount", "credited_amount", "status", "updated_at"])
        note.open_amount = note.gross_total - applied
        note.status = settlement_status(note)
        note.save(update_fields=["open_amount", "status", "updated_at"])
    signals.credit_note_issued.send(
        sender=Invoice,
        invoice_id=note.pk,
        credited_invoice_id=invoice.pk,
        customer_id=invoice.customer_id,
        actor_id=actor.pk,
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


# --- Consolidated invoicing --------------------------------------------------------------------------


def consolidation_cutoff(schedule: str, today: date) -> date:
    """Shipments dispatched before this day are due on a consolidated invoice."""
    if schedule == InvoicingSchedule.WEEKLY:
        return today - timedelta(days=today.weekday())
    return today.replace(day=1)


def invoice_consolidated_shipments(*, actor: User, today: date | None = None) -> list[Invoice]:
    """The daily job: one invoice per customer and currency for the shipments of the period that
    ended, for customers invoiced weekly or monthly; and, for everyone else, any shipment of an
    earlier day still uninvoiced (its customer was switched from a consolidated schedule, or its
    event failed). Running it again finds nothing new."""
    today = today or timezone.localdate()
    groups: dict[tuple[int, str, str], list[int]] = defaultdict(list)
    uninvoiced = Shipment.objects.filter(invoicing__isnull=True).order_by("dispatched_at", "pk")
    for schedule in (InvoicingSchedule.WEEKLY, InvoicingSchedule.MONTHLY):
        due = uninvoiced.filter(
            order__customer__preferences__invoicing_schedule=schedule,
            dispatched_at__date__lt=consolidation_cutoff(schedule, today),
        ).values_list("order__customer_id", "order__currency", "pk")
        for customer_id, currency, shipment_id in due:
            groups[(customer_id, currency, schedule)].append(shipment_id)
    stranded = uninvoiced.filter(dispatched_at__date__lt=today).exclude(
        order__customer__preferences__invoicing_schedule__in=[InvoicingSchedule.WEEKLY, InvoicingSchedule.MONTHLY]
    )
    for shipment_id in stranded.values_list("pk", flat=True):
        groups[(shipment_id, "", InvoicingSchedule.PER_SHIPMENT)].append(shipment_id)
    invoices = []
    for shipment_ids in groups.values():
        try:
            invoices.append(
                invoice_shipments(shipments=list(Shipment.objects.filter(pk__in=shipment_ids)), actor=actor)
            )
        except AlreadyInvoiced:
            continue  # the dispatch handler got there first
    return invoices
