"""What a customer's bank app needs to pay an invoice by transfer: the ISO 11649 structured creditor
reference ("RF" reference) made from the invoice number, and the EPC QR code ("GiroCode", EPC069-12)
with our IBAN, the amount to pay and that reference. Only euro invoices get a QR code: SEPA credit
transfers are in euro."""

from decimal import Decimal

from segno import helpers

from invoicing.models import Invoice
from otc.document_numbers import creditor_reference
from otc.models import CompanyProfile

EPC_AMOUNT_MAX = Decimal("999999999.99")  # EPC069-12: amounts from 0.01 to 999,999,999.99 EUR


def epc_qr_svg_data_uri(*, invoice: Invoice, company: CompanyProfile, amount: Decimal) -> str:
    """The EPC QR code paying `amount` of the invoice with its creditor reference, as an SVG data URI
    (an <img> source), or "" when there is nothing to pay, the invoice is not in euro, the amount is
    above the EPC limit or we have no IBAN."""
    if invoice.currency != "EUR" or not 0 < amount <= EPC_AMOUNT_MAX or not company.iban or not invoice.number:
        return ""
    code = helpers.make_epc_qr(
        name=company.legal_name[:70],
        iban=company.iban.replace(" ", ""),
        amount=amount,
        reference=creditor_reference(invoice.number),
        bic=company.bic or None,
    )
    return code.svg_data_uri(scale=4, border=2)


def bank_transfer_details(invoice: Invoice) -> dict[str, str]:
    """For the portal's invoice page: our IBAN, the RF reference to quote, and the QR code for what is
    still open when one applies."""
    company = CompanyProfile.objects.filter(pk=1).first()
    if company is None or invoice.kind != "invoice" or not invoice.number:
        return {}
    return {
        "iban": company.iban,
        "bic": company.bic,
        "holder": company.legal_name,
        "reference": creditor_reference(invoice.number),
        "qr": epc_qr_svg_data_uri(invoice=invoice, company=company, amount=invoice.open_amount),
    }
