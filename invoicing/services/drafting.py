"""Drafts: from shipments, by hand, and discarding them."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from customers.models import AddressKind, Customer, Preferences
from customers.selectors import address_snapshot, default_addresses
from inventory.models import Product, Unit
from inventory.selectors import quote_taxes
from invoicing.errors import (
    AlreadyInvoiced,
    InvoiceNotDraft,
)
from invoicing.models import (
    DocumentKind,
    Invoice,
    InvoicedShipment,
    InvoiceLine,
    InvoiceStatus,
    TaxBreakdown,
    TaxCategoryCode,
)
from invoicing.selectors import invoices_each_shipment
from invoicing.services.issuing import issue_document
from orders.models import Shipment
from otc.audit import acting
from otc.errors import InvalidInput, field_checked
from otc.exchange_rates import company_currency
from otc.models import User
from otc.money import TaxGroup, combined_discount, line_net, parse_decimal, tax_groups, validate_currency

ZERO = Decimal("0")
HUNDRED = Decimal("100")

UNIT_CODES = {
    Unit.PIECE: "C62",
    Unit.BOX: "XBX",
    Unit.KILOGRAM: "KGM",
    Unit.METRE: "MTR",
    Unit.LITRE: "LTR",
    Unit.HOUR: "HUR",
}


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


def save_with_lines(document: Invoice, lines: list[InvoiceLine], groups: list[TaxGroup]) -> Invoice:
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
    save_with_lines(invoice, lines, tax_groups(lines, invoice.currency))
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
        return issue_document(invoice, actor=actor, issue_date=issue_date)


def invoice_shipment_if_due(*, shipment_id: int, customer_id: int, actor: User) -> Invoice | None:
    """Invoice a dispatched shipment now if its customer is invoiced per shipment (consolidated ones are
    invoiced by the daily job) and it is not invoiced yet."""
    if not invoices_each_shipment(customer_id) or InvoicedShipment.objects.filter(shipment_id=shipment_id).exists():
        return None
    return invoice_shipments(shipments=[Shipment.objects.get(pk=shipment_id)], actor=actor)


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
        if category == TaxCategoryCode.NOT_SUBJECT and rate != ZERO:
            raise InvalidInput("A line not subject to VAT has no VAT rate.", fields={"tax_rate": ["Must be 0."]})
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
    _check_not_subject_to_vat_alone(result)
    return result


def _check_not_subject_to_vat_alone(lines: list[InvoiceLine]) -> None:
    """A supply not subject to VAT is invoiced on its own: EN 16931 (BR-O-11, BR-O-12) allows no taxed
    line beside it, and the invoice then names no VAT IDs."""
    categories = {line.tax_category for line in lines}
    if TaxCategoryCode.NOT_SUBJECT in categories and len(categories) > 1:
        raise InvalidInput(
            "Lines not subject to VAT cannot share an invoice with other VAT categories; invoice them separately.",
            fields={"tax_category": ["Not subject to VAT (O) only, or no O at all."]},
        )


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
        save_with_lines(invoice, invoice_lines, tax_groups(invoice_lines, currency))
        return issue_document(invoice, actor=actor, issue_date=issue_date) if issue else invoice


@transaction.atomic
def discard_draft(*, invoice: Invoice, actor: User) -> None:
    """Delete a draft nobody issued; issued documents are never deleted."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status != InvoiceStatus.DRAFT:
        raise InvoiceNotDraft(f"{invoice} is issued; correct it with a credit note.")
    with acting(actor, "discard draft"):
        invoice.delete()
