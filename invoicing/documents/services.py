"""Write side of documents: render an issued invoice or credit note once per format and keep the file,
keep one statement file per customer and period, ask for a document to be sent again, and deliver
it the way the customer chose.

An issued document is immutable, so its files are too: the first rendering is the one the customer
got, and every later download or resend serves those same bytes.
"""

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import structlog
from django.db import IntegrityError, transaction
from django.utils import translation

from customers.models import Customer, InvoiceDelivery
from customers.notices import LegalNotice, customer_recipients
from customers.selectors import facturx_profile
from invoicing.documents.errors import DocumentNotIssued, EInvoiceInvalid
from invoicing.documents.render import money, render_invoice_pdf, render_statement_pdf
from invoicing.documents.statements import statement_of_account
from invoicing.events import InvoiceResendRequested
from invoicing.models import DeliveryChannel, DocumentFormat, Invoice, InvoiceDeliveryLog, InvoiceStatus, StoredDocument
from otc.company import company_profile
from otc.documents import fill_file, store_once
from otc.errors import InvalidInput
from otc.events import publish
from otc.models import User
from otc.notices import Notice

if TYPE_CHECKING:
    from invoicing.einvoice.validation import ValidationReport

CONTENT_TYPES = {
    DocumentFormat.PDF: "application/pdf",
    DocumentFormat.UBL: "application/xml",
    DocumentFormat.FACTURX: "application/pdf",
    DocumentFormat.XRECHNUNG: "application/xml",
    DocumentFormat.STATEMENT: "application/pdf",
}
FILE_SUFFIXES = {
    DocumentFormat.PDF: ".pdf",
    DocumentFormat.UBL: ".xml",
    DocumentFormat.FACTURX: "-facturx.pdf",
    DocumentFormat.XRECHNUNG: "-xrechnung.xml",
}
logger = structlog.get_logger(__name__)


def validated_einvoice(*, invoice: Invoice, xml: bytes) -> bytes:
    """The e-invoice when it passes the XSD, EN 16931 and (for UBL) Peppol BIS 3 or XRechnung rules; otherwise the
    failure is logged and raised with every broken rule's id and text, and nothing is stored or sent."""
    from invoicing.einvoice.validation import validate_einvoice

    report = validate_einvoice(xml)
    log = logger.bind(invoice_id=invoice.pk, number=invoice.number, rule_sets=report.rule_sets)
    if report.is_valid:
        log.info("einvoice.valid", seconds=round(report.seconds, 4), warnings=len(report.warnings))
        return xml
    log.warning("einvoice.invalid", rules=report.rule_ids, seconds=round(report.seconds, 4))
    messages = [str(error) for error in report.errors]
    raise EInvoiceInvalid(
        f"The e-invoice of {invoice.number} breaks {len(messages)} rule(s) and is not sent: {'; '.join(messages)}",
        fields={"rules": messages},
    )


def einvoice_reports(*, invoice: Invoice) -> dict[str, "ValidationReport"]:
    """The issued document's UBL, CII (in the customer's Factur-X profile) and, for a customer who gets
    it, XRechnung validated now, neither stored nor sent (the admin's check)."""
    from invoicing.einvoice.cii import invoice_cii
    from invoicing.einvoice.ubl import invoice_ubl, invoice_xrechnung
    from invoicing.einvoice.validation import validate_einvoice

    invoice = Invoice.objects.select_related("customer__preferences", "credited_invoice").get(pk=invoice.pk)
    if invoice.status == InvoiceStatus.DRAFT:
        raise DocumentNotIssued(f"{invoice} is a draft; issue it to check its e-invoice.")
    reports = {
        "UBL": validate_einvoice(invoice_ubl(invoice)),
        "CII": validate_einvoice(invoice_cii(invoice, facturx_profile(invoice.customer_id))),
    }
    if invoice.customer.preferences.invoice_delivery == InvoiceDelivery.XRECHNUNG:
        reports["XRechnung"] = validate_einvoice(invoice_xrechnung(invoice))
    return reports


def _rendered(invoice: Invoice, format: str) -> bytes:
    # Imported on use: the e-invoice modules load XML tooling that a plain PDF does not need.
    if format == DocumentFormat.PDF:
        return render_invoice_pdf(invoice)
    if format == DocumentFormat.UBL:
        from invoicing.einvoice.ubl import invoice_ubl

        return validated_einvoice(invoice=invoice, xml=invoice_ubl(invoice))
    if format == DocumentFormat.XRECHNUNG:
        from invoicing.einvoice.ubl import invoice_xrechnung

        return validated_einvoice(invoice=invoice, xml=invoice_xrechnung(invoice))
    from invoicing.einvoice.cii import invoice_cii
    from invoicing.einvoice.facturx import facturx_pdf

    profile = facturx_profile(invoice.customer_id)
    cii = validated_einvoice(invoice=invoice, xml=invoice_cii(invoice, profile))
    return facturx_pdf(invoice, render_invoice_pdf(invoice, pdf_variant="pdf/a-3b"), cii)


def store_customer_document(*, customer: Customer, format: str, filename: str, content: bytes) -> StoredDocument:
    """Keep a file sent to a customer that is no invoice (a dunning letter): invoicing owns stored
    documents, so other apps store theirs through here."""
    document = StoredDocument(customer=customer, format=format)
    fill_file(document, filename=filename, content=content, content_type=CONTENT_TYPES[format])
    document.save()
    return document


def document_for(*, invoice: Invoice, format: str) -> StoredDocument:
    """The stored file of an issued document in `format`, rendered and stored the first time it is asked for
    (once: the unique (invoice, format) row admits one of two concurrent renderings)."""
    if format not in FILE_SUFFIXES:
        raise InvalidInput(f"{format} is not a format of an invoice.", fields={"format": ["Not an invoice format."]})

    def render() -> tuple[str, bytes]:
        current = Invoice.objects.get(pk=invoice.pk)
        if current.status == InvoiceStatus.DRAFT:
            raise DocumentNotIssued(f"{current} is a draft; preview it instead of storing it.")
        return f"{current.number}{FILE_SUFFIXES[format]}", _rendered(current, format)

    return store_once(
        StoredDocument,
        key={"invoice": invoice, "format": format},
        fields={"customer_id": invoice.customer_id},
        content_type=CONTENT_TYPES[format],
        render=render,
    )


@dataclass(frozen=True)
class RenderedStatement:
    filename: str
    content: bytes


def statement_pdf(*, customer: Customer, start: date, end: date) -> RenderedStatement:
    """The statement of account for the period as a PDF, rendered on every request and never stored: a
    customer may ask for any period, and keeping each one would let a single customer fill the disk."""
    content = render_statement_pdf(statement_of_account(customer=customer, start=start, end=end))
    return RenderedStatement(filename=f"statement-{customer.number}-{start:%Y%m%d}-{end:%Y%m%d}.pdf", content=content)


@transaction.atomic
def request_resend(*, invoice: Invoice, actor: User, reason: str) -> None:
    """Ask for an issued document to be delivered again (the customer lost it, a new contact needs it)."""
    if not reason.strip():
        raise InvalidInput("A resend needs a reason.", fields={"reason": ["This field is required."]})
    invoice = Invoice.objects.get(pk=invoice.pk)
    if invoice.status == InvoiceStatus.DRAFT:
        raise DocumentNotIssued(f"{invoice} is a draft; only issued documents are sent.")
    publish(
        InvoiceResendRequested(
            invoice_id=invoice.pk,
            invoice_number=invoice.number,
            customer_id=invoice.customer_id,
            customer_number=invoice.customer_snapshot["number"],
            actor_id=actor.pk,
            reason=reason.strip()[:300],
        )
    )


DELIVERY_FORMATS = {
    InvoiceDelivery.PDF_EMAIL: [DocumentFormat.PDF],
    InvoiceDelivery.E_INVOICE: [DocumentFormat.UBL, DocumentFormat.FACTURX],
    InvoiceDelivery.XRECHNUNG: [DocumentFormat.XRECHNUNG],
    InvoiceDelivery.PORTAL_ONLY: [],
}


@transaction.atomic
def deliver_document(*, invoice_id: int, resend_requested_by_id: int | None = None) -> list[Notice]:
    """Deliver an issued invoice or credit note the way the customer chose: PDF or e-invoice by email,
    or only the portal. Every delivery is logged; the automatic one at most once per document (a
    second one returns nothing). Invoices are legal documents: no opt-out stops them."""
    invoice = Invoice.objects.select_related("customer__preferences", "credited_invoice").get(pk=invoice_id)
    customer = invoice.customer
    is_resend = resend_requested_by_id is not None
    formats = DELIVERY_FORMATS[customer.preferences.invoice_delivery]
    recipients = customer_recipients(customer, LegalNotice.INVOICE) if formats else []
    try:
        with transaction.atomic():
            InvoiceDeliveryLog.objects.create(
                invoice=invoice,
                channel=DeliveryChannel.EMAIL if recipients else DeliveryChannel.PORTAL,
                recipients=recipients,
                formats=formats if recipients else [],
                is_resend=is_resend,
                requested_by_id=resend_requested_by_id,
            )
    except IntegrityError:
        return []  # another event already delivered this document automatically
    if not recipients:
        return []
    with translation.override(invoice.language):
        context = {
            "invoice": invoice,
            "customer": customer,
            "company": company_profile().legal_name,
            "is_resend": is_resend,
            "amount_due": money(invoice.open_amount, invoice.currency),
            "gross_total": money(invoice.gross_total, invoice.currency),
        }
    template = "credit_note_issued" if invoice.is_credit_note else "invoice_issued"
    documents = [document_for(invoice=invoice, format=document_format) for document_format in formats]
    return [Notice(recipients, template, context, language=invoice.language, attachments=documents)]
