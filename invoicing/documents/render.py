"""Invoices, credit notes and statements as PDF: Django templates (templates/documents/) rendered by
WeasyPrint through otc.documents.

Every figure is formatted here, in the document's language and to its currency's minor unit, so the
templates only place text. The logo is embedded as a data URI: the renderer fetches nothing else.
"""

from decimal import Decimal

from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from customers.models import Address, AddressKind, DocumentLayout, Preferences
from customers.selectors import document_style_for
from invoicing.documents.payment_codes import epc_qr_svg_data_uri
from invoicing.documents.statements import Statement
from invoicing.models import Invoice, InvoiceLine, InvoiceStatus, TaxBreakdown, TaxCategoryCode
from otc.company import company_profile, letterhead
from otc.countries import COUNTRY_NAMES, address_lines
from otc.document_numbers import creditor_reference, printed_creditor_reference
from otc.document_styles import look
from otc.documents import amount, html_to_pdf, money, plain_number
from otc.models import CompanyProfile, DocumentStyle

UNIT_LABELS = {"C62": _("pcs"), "XBX": _("box"), "KGM": "kg", "MTR": "m", "LTR": "l", "HUR": _("h")}
# What the law asks a document to say when it charges no (or not the standard) VAT.
EXEMPTION_WORDING = {
    TaxCategoryCode.REVERSE_CHARGE: _("Reverse charge: the recipient is liable for the VAT (Art. 196 VAT Directive)."),
    TaxCategoryCode.INTRA_COMMUNITY: _("Tax-exempt intra-community supply (Art. 138 VAT Directive)."),
    TaxCategoryCode.EXPORT: _("Tax-exempt export outside the EU (Art. 146 VAT Directive)."),
    TaxCategoryCode.EXEMPT: _("Exempt from VAT."),
    TaxCategoryCode.ZERO: _("Zero-rated supply."),
    TaxCategoryCode.NOT_SUBJECT: _("Not subject to VAT."),
}


# --- Invoices and credit notes ----------------------------------------------------------------------


def _document(invoice: Invoice) -> Invoice:
    """The document with everything its template shows, in a fixed number of queries."""
    return (
        Invoice.objects.select_related("credited_invoice", "order")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=InvoiceLine.objects.select_related("order_line__order", "shipment_line__shipment").order_by(
                    "line_no"
                ),
            ),
            Prefetch("tax_breakdown", queryset=TaxBreakdown.objects.order_by("-tax_rate", "tax_category")),
        )
        .get(pk=invoice.pk)
    )


def _line_row(line: InvoiceLine, currency: str) -> dict:
    return {
        "position": line.line_no,
        "description": line.description,
        "sku": line.sku,
        "gtin": line.gtin,
        "order_number": line.order_line.order.number if line.order_line else "",
        "shipment_number": line.shipment_line.shipment.number if line.shipment_line else "",
        "quantity": plain_number(line.quantity),
        "unit": UNIT_LABELS.get(line.unit, line.unit),
        "unit_price": amount(line.unit_price, currency),
        "discount": plain_number(line.discount_percent) if line.discount_percent else "",
        "tax_rate": plain_number(line.tax_rate),
        "net": amount(line.net_amount, currency),
    }


def _tax_row(group: TaxBreakdown, currency: str) -> dict:
    return {
        "category": gettext(TaxCategoryCode(group.tax_category).label),
        "rate": plain_number(group.tax_rate),
        "taxable": amount(group.taxable_amount, currency),
        "tax": amount(group.tax_amount, currency),
        "note": group.exemption_reason or EXEMPTION_WORDING.get(group.tax_category, ""),
    }


def invoice_context(invoice: Invoice, *, style: DocumentStyle | None = None) -> dict:
    """What the invoice templates show; call inside the document's language. The customer's document
    style unless `style` is given (the admin's preview of an unsaved style)."""
    document = _document(invoice)
    currency = document.currency
    snapshot = document.customer_snapshot
    shipping = document.shipping_address
    profile = company_profile()
    return {
        "language": document.language,
        "company": letterhead(profile),
        "look": look(style or document_style_for(document.customer), document.language),
        **_payment_codes(document, profile),
        "invoice": document,
        "is_draft": document.status == InvoiceStatus.DRAFT,
        "title": gettext("Credit note") if document.is_credit_note else gettext("Invoice"),
        "customer": snapshot,
        # Orders entered without a billing address bill the delivery address.
        "recipient_lines": address_lines(document.billing_address or shipping, snapshot.get("legal_name", "")),
        "delivery_lines": address_lines(shipping, snapshot.get("legal_name", ""))
        if document.billing_address and shipping and shipping != document.billing_address
        else [],
        "lines": [_line_row(line, currency) for line in document.lines.all()],
        "tax_rows": [_tax_row(group, currency) for group in document.tax_breakdown.all()],
        "net_total": money(document.net_total, currency),
        "tax_total": money(document.tax_total, currency),
        "gross_total": money(document.gross_total, currency),
        "currency": currency,
    }


def _payment_codes(invoice: Invoice, profile: CompanyProfile) -> dict[str, str]:
    """The RF creditor reference to quote and the EPC QR code paying the amount due with it, on an
    issued invoice: a bank app reads both, and cash application finds the invoice by the reference."""
    if invoice.is_credit_note or not invoice.number or invoice.status == InvoiceStatus.DRAFT:
        return {"payment_reference": "", "payment_qr": ""}
    return {
        "payment_reference": printed_creditor_reference(creditor_reference(invoice.number)),
        "payment_qr": epc_qr_svg_data_uri(invoice=invoice, company=profile, amount=invoice.gross_total),
    }


def _invoice_template(invoice: Invoice) -> str:
    return _invoice_template_for(invoice.layout)


def _invoice_template_for(layout: str) -> str:
    layout = layout if layout in DocumentLayout.values else DocumentLayout.STANDARD
    return f"documents/{layout}/invoice.html"


def invoice_html(invoice: Invoice, *, style: DocumentStyle | None = None) -> str:
    """The invoice or credit note as HTML, in its language and layout (also the admin's previews)."""
    with translation.override(invoice.language):
        return render_to_string(_invoice_template(invoice), invoice_context(invoice, style=style))


def render_invoice_pdf(invoice: Invoice, *, pdf_variant: str | None = None) -> bytes:
    """The invoice or credit note as PDF; a draft carries a watermark saying it is not valid.

    `pdf_variant` "pdf/a-3b" makes the archival PDF that Factur-X embeds its XML in.
    """
    return html_to_pdf(invoice_html(invoice), pdf_variant=pdf_variant)


def style_preview_html(style: DocumentStyle) -> str:
    """A style, saved or not, applied to the latest issued invoice, or to a sample invoice built in
    memory when none is issued yet: rendered for the eye, never stored."""
    latest = Invoice.objects.exclude(status=InvoiceStatus.DRAFT).order_by("-issue_date", "-pk").first()
    if latest is not None:
        return invoice_html(latest, style=style)
    with translation.override("en"):
        return render_to_string(_invoice_template_for(DocumentLayout.STANDARD), _sample_context(style))


def _sample_context(style: DocumentStyle) -> dict:
    """A made-up invoice with every optional column filled, so each choice of the style shows."""
    currency, today = "EUR", timezone.localdate()
    profile = CompanyProfile.objects.filter(pk=1).first()
    return {
        "language": "en",
        "company": letterhead(profile) if profile is not None else None,
        "look": look(style, "en"),
        "invoice": {"number": "SAMPLE-0001", "issue_date": today, "po_number": "PO-4711", "payment_terms_days": 14},
        "is_draft": True,
        "title": gettext("Invoice"),
        "customer": {"number": "C-00001", "legal_name": "Sample Customer Ltd"},
        "recipient_lines": ["Sample Customer Ltd", "1 Sample Street", "10115 Berlin", "Germany"],
        "delivery_lines": ["Sample Customer Ltd", "2 Warehouse Road", "20457 Hamburg", "Germany"],
        "lines": [
            {
                "position": 1,
                "description": "Sample product",
                "sku": "SKU-1",
                "gtin": "4006381333931",
                "quantity": plain_number(Decimal("2")),
                "unit": UNIT_LABELS["C62"],
                "unit_price": amount(Decimal("50"), currency),
                "discount": plain_number(Decimal("5")),
                "tax_rate": plain_number(Decimal("19")),
                "net": amount(Decimal("95"), currency),
            }
        ],
        "tax_rows": [
            {
                "category": gettext(TaxCategoryCode.STANDARD.label),
                "rate": "19",
                "taxable": amount(Decimal("95"), currency),
                "tax": amount(Decimal("18.05"), currency),
                "note": "",
            }
        ],
        "net_total": money(Decimal("95"), currency),
        "tax_total": money(Decimal("18.05"), currency),
        "gross_total": money(Decimal("113.05"), currency),
        "currency": currency,
    }


# --- Statements of account --------------------------------------------------------------------------


def _statement_recipient(statement: Statement) -> list[str]:
    customer = statement.customer
    address = Address.objects.filter(customer=customer, kind=AddressKind.BILLING).order_by("-is_default", "pk").first()
    if address is None:
        return [customer.legal_name, str(COUNTRY_NAMES.get(customer.country, customer.country))]
    return address_lines(
        {
            "name": address.name,
            "line1": address.line1,
            "line2": address.line2,
            "postal_code": address.postal_code,
            "city": address.city,
            "region": address.region,
            "country": address.country,
        },
        customer.legal_name,
    )


def _statement_sections(statement: Statement) -> list[dict]:
    sections = []
    for account in statement.accounts:
        code = account.currency
        aging = account.aging
        sections.append(
            {
                "currency": code,
                "opening": money(account.opening_balance, code),
                "closing": money(account.closing_balance, code),
                "total_debit": amount(account.total_debit, code),
                "total_credit": amount(account.total_credit, code),
                "movements": [
                    {
                        "posted_on": movement.posted_on,
                        "document": movement.document,
                        "kind": gettext(movement.kind_label),
                        "debit": amount(movement.debit, code) if movement.debit else "",
                        "credit": amount(movement.credit, code) if movement.credit else "",
                        "balance": amount(movement.balance, code),
                    }
                    for movement in account.movements
                ],
                "aging": [
                    (gettext("Not yet due"), amount(aging.not_due, code)),
                    (gettext("1–30 days"), amount(aging.days_1_30, code)),
                    (gettext("31–60 days"), amount(aging.days_31_60, code)),
                    (gettext("61–90 days"), amount(aging.days_61_90, code)),
                    (gettext("Over 90 days"), amount(aging.over_90, code)),
                    (gettext("Unapplied credit"), amount(aging.unapplied_credit, code)),
                ],
                "aging_total": money(aging.total, code),
            }
        )
    return sections


def statement_html(statement: Statement) -> str:
    """The statement as HTML in the customer's language; compact customers get the small print."""
    customer = statement.customer
    with translation.override(customer.language):
        return render_to_string(
            "documents/statement.html",
            {
                "language": customer.language,
                "company": letterhead(company_profile()),
                "look": look(document_style_for(customer), customer.language),
                "statement": statement,
                "customer": customer,
                "compact": Preferences.objects.filter(
                    customer=customer, document_layout=DocumentLayout.COMPACT
                ).exists(),
                "recipient_lines": _statement_recipient(statement),
                "sections": _statement_sections(statement),
                "printed_on": timezone.localdate(),
            },
        )


def render_statement_pdf(statement: Statement) -> bytes:
    """The statement of account as PDF, in the customer's language."""
    return html_to_pdf(statement_html(statement))
