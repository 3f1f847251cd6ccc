"""The order confirmation and the delivery notes of an order as PDF, in the customer's language and
document layout, under the company's letterhead once the company profile is set up; rendered once and
stored: every later download and email serves the same file.
"""

from django.db.models import Prefetch
from django.utils.translation import gettext

from customers.models import DocumentLayout
from customers.selectors import document_style_for
from inventory.models import TaxCategoryCode
from orders.errors import DocumentNotAvailable
from orders.models import Order, OrderDocument, OrderDocumentKind, OrderLine, Shipment, ShipmentLine
from otc.company import letterhead_if_set_up
from otc.countries import address_lines
from otc.document_styles import look
from otc.documents import amount, money, plain_number, render_pdf, store_once
from otc.money import tax_groups

PDF = "application/pdf"


def _layout(order: Order) -> str:
    preferences = getattr(order.customer, "preferences", None)
    return preferences.document_layout if preferences is not None else DocumentLayout.STANDARD


def _parties(order: Order) -> dict:
    name = order.customer.legal_name
    billing, shipping = order.billing_address, order.shipping_address
    return {
        "language": order.customer.language,
        "layout": _layout(order),
        "customer": order.customer,
        "company": letterhead_if_set_up(),
        "look": look(document_style_for(order.customer), order.customer.language),
        # Orders entered without a billing address bill the delivery address.
        "recipient_lines": address_lines(billing or shipping, name),
        "delivery_lines": address_lines(shipping, name) if billing and shipping and shipping != billing else [],
    }


def confirmation_context(order: Order) -> dict:
    """What the order confirmation shows; call inside the customer's language."""
    order = (
        Order.objects.select_related("customer__preferences")
        .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.select_related("product").order_by("line_no")))
        .get(pk=order.pk)
    )
    currency = order.currency
    lines = list(order.lines.all())
    return {
        **_parties(order),
        "title": gettext("Order confirmation"),
        "order": order,
        "lines": [
            {
                "position": line.line_no,
                "description": line.description,
                "sku": line.product.sku,
                "quantity": plain_number(line.quantity),
                "unit_price": amount(line.unit_price, currency),
                "discount": plain_number(line.discount_percent) if line.discount_percent else "",
                "tax_rate": plain_number(line.tax_rate),
                "net": amount(line.net_amount, currency),
            }
            for line in lines
        ],
        "order_discount": plain_number(order.discount_percent) if order.discount_percent else "",
        "tax_rows": [
            {
                "category": gettext(TaxCategoryCode(group.tax_category).label),
                "rate": plain_number(group.tax_rate),
                "taxable": amount(group.taxable_amount, currency),
                "tax": amount(group.tax_amount, currency),
                "note": group.exemption_reason,
            }
            for group in tax_groups(lines, currency)
        ],
        "net_total": money(order.net_total, currency),
        "tax_total": money(order.tax_total, currency),
        "gross_total": money(order.gross_total, currency),
        "payment_terms_days": order.customer.payment_terms_days,
    }


def delivery_note_context(shipment: Shipment) -> dict:
    """What the delivery note shows (no prices); call inside the customer's language."""
    shipment = (
        Shipment.objects.select_related("order__customer__preferences")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=ShipmentLine.objects.select_related("order_line__product").order_by("order_line__line_no"),
            )
        )
        .get(pk=shipment.pk)
    )
    order = shipment.order
    parties = _parties(order)
    return {
        **parties,
        # The goods go to the delivery address, whoever is billed.
        "recipient_lines": address_lines(order.shipping_address or order.billing_address, order.customer.legal_name),
        "delivery_lines": [],
        "title": gettext("Delivery note"),
        "order": order,
        "shipment": shipment,
        "lines": [
            {
                "position": line.order_line.line_no,
                "description": line.order_line.description,
                "sku": line.order_line.product.sku,
                "quantity": plain_number(line.quantity),
                "ordered": plain_number(line.order_line.quantity),
            }
            for line in shipment.lines.all()
        ],
    }


def confirmation_document(*, order: Order) -> OrderDocument:
    """The stored order confirmation, rendered the first time it is asked for. An order has one once it
    was confirmed (and keeps it if later cancelled); a draft or a held order has none."""

    def render() -> tuple[str, bytes]:
        current = Order.objects.select_related("customer").get(pk=order.pk)
        if current.confirmed_at is None:
            raise DocumentNotAvailable(f"Order {current.number} is not confirmed: it has no confirmation.")
        content = render_pdf(
            template="documents/order_confirmation.html",
            language=current.customer.language,
            context=lambda: confirmation_context(current),
        )
        return f"order-confirmation-{current.number}.pdf", content

    return store_once(
        OrderDocument,
        key={"order_id": order.pk, "kind": OrderDocumentKind.CONFIRMATION},
        content_type=PDF,
        render=render,
    )


def delivery_note_document(*, shipment: Shipment) -> OrderDocument:
    """The stored delivery note of a shipment, rendered the first time it is asked for."""

    def render() -> tuple[str, bytes]:
        current = Shipment.objects.select_related("order__customer").get(pk=shipment.pk)
        content = render_pdf(
            template="documents/delivery_note.html",
            language=current.order.customer.language,
            context=lambda: delivery_note_context(current),
        )
        return f"delivery-note-{current.number}.pdf", content

    return store_once(
        OrderDocument,
        key={"shipment_id": shipment.pk, "kind": OrderDocumentKind.DELIVERY_NOTE},
        fields={"order_id": shipment.order_id},
        content_type=PDF,
        render=render,
    )
