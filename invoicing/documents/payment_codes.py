"""What a customer's bank app needs to pay an invoice by transfer: the ISO 11649 structured creditor
reference ("RF" reference) made from the invoice number, and the EPC QR code ("GiroCode", EPC069-12)
with our IBAN, the open amount and that reference. Only euro invoices get a QR code: SEPA credit
transfers are in euro."""

import re

from segno import helpers

from invoicing.models import CompanyProfile, Invoice


def creditor_reference(invoice_number: str) -> str:
    """RF + two check digits + the invoice number's letters and digits (ISO 11649, mod 97)."""
    body = re.sub(r"[^0-9A-Za-z]", "", invoice_number).upper()[:21]
    digits = "".join(str(int(char, 36)) for char in body + "RF00")
    return f"RF{98 - int(digits) % 97:02d}{body}"


def is_valid_creditor_reference(reference: str) -> bool:
    reference = reference.replace(" ", "").upper()
    if not re.fullmatch(r"RF\d{2}[0-9A-Z]{1,21}", reference):
        return False
    return int("".join(str(int(char, 36)) for char in reference[4:] + reference[:4])) % 97 == 1


def epc_qr_svg_data_uri(*, invoice: Invoice, company: CompanyProfile) -> str:
    """The EPC QR code for the invoice's open amount as an SVG data URI (an <img> source), or "" when
    nothing is open, the invoice is not in euro, or the amount is above the EPC limit."""
    if invoice.currency != "EUR" or not 0 < invoice.open_amount <= 999999999 or not company.iban:
        return ""
    code = helpers.make_epc_qr(
        name=company.legal_name[:70],
        iban=company.iban.replace(" ", ""),
        amount=invoice.open_amount,
        reference=creditor_reference(invoice.number),
        bic=company.bic or None,
    )
    return code.svg_data_uri(scale=4, border=2)


def bank_transfer_details(invoice: Invoice) -> dict[str, str]:
    """For the invoice page: our IBAN, the RF reference to quote, and the QR code when one applies."""
    company = CompanyProfile.objects.filter(pk=1).first()
    if company is None or invoice.kind != "invoice" or not invoice.number:
        return {}
    return {
        "iban": company.iban,
        "bic": company.bic,
        "holder": company.legal_name,
        "reference": creditor_reference(invoice.number),
        "qr": epc_qr_svg_data_uri(invoice=invoice, company=company),
    }
