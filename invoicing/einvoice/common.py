"""What UBL and CII say alike about an invoice: number formats, electronic addresses, exemption codes,
the line discount, and the tax in the company currency. Both syntaxes render these same facts."""

from dataclasses import dataclass
from decimal import Decimal

from customers.models import ContactRole
from customers.peppol import PeppolEndpoint, endpoint_from_vat_id
from invoicing.models import Invoice, InvoiceLine, TaxCategoryCode
from otc.document_numbers import creditor_reference
from otc.models import CompanyProfile
from otc.money import minor_units, quantize

EMAIL_ADDRESS_SCHEME = "EM"

# VATEX codes (CEF list) for the categories whose exemption EN 16931 requires to be stated.
EXEMPTION_CODES = {
    TaxCategoryCode.REVERSE_CHARGE: "VATEX-EU-AE",
    TaxCategoryCode.INTRA_COMMUNITY: "VATEX-EU-IC",
    TaxCategoryCode.EXPORT: "VATEX-EU-G",
    TaxCategoryCode.NOT_SUBJECT: "VATEX-EU-O",
}
# Categories that must carry an exemption reason (BR-AE-10, BR-IC-10, BR-G-10, BR-E-10, BR-O-10); S and Z
# must not.
EXEMPT_CATEGORIES = {*EXEMPTION_CODES, TaxCategoryCode.EXEMPT}
NOT_SUBJECT_TO_VAT_WORDING = "Not subject to VAT"
DISCOUNT_REASON_CODE = "95"  # UNCL 5189: Discount
SEPA_CREDIT_TRANSFER = "58"  # UNCL 4461
CLEARING_BETWEEN_PARTNERS = "97"  # UNCL 4461: a credit note is set off against open invoices
GTIN_SCHEME = "0160"


def amount_text(amount: Decimal, currency: str) -> str:
    """An amount with exactly the currency's minor unit of decimals (BR-DEC rules)."""
    return f"{quantize(amount, currency):f}"


def number_text(value: Decimal) -> str:
    """A quantity or percentage without trailing zeros or exponent: 12, 6.9, 20."""
    return f"{Decimal(value).normalize():f}"


def price_text(price: Decimal, currency: str) -> str:
    """A unit price with at least the currency's decimals and every significant one beyond."""
    places = max(minor_units(currency), -Decimal(price).normalize().as_tuple().exponent)
    return f"{Decimal(price).quantize(Decimal(1).scaleb(-places)):f}"


@dataclass(frozen=True)
class PaymentMeans:
    code: str
    name: str


def payment_means(invoice: Invoice) -> PaymentMeans:
    """An invoice is paid by SEPA transfer into the company's account; a credit note is set off against
    open invoices (EN 16931 and XRechnung want payment instructions on both, DE-R-001)."""
    if invoice.is_credit_note:
        return PaymentMeans(CLEARING_BETWEEN_PARTNERS, "Clearing between partners")
    return PaymentMeans(SEPA_CREDIT_TRANSFER, "SEPA credit transfer")


def payment_reference(invoice: Invoice) -> str:
    """What the payer quotes on the transfer (BT-83): the invoice's RF creditor reference, as on its PDF
    and EPC QR code, so the payer's bank hands it back on our statement and matching reads it exactly; a
    credit note is set off, not paid, and names itself."""
    return invoice.number if invoice.is_credit_note else creditor_reference(invoice.number)


def seller_endpoint(company: CompanyProfile) -> PeppolEndpoint | None:
    """The company's Peppol participant ID, else the one its VAT ID gives."""
    if company.peppol_scheme:
        return PeppolEndpoint(company.peppol_scheme, company.peppol_id)
    return endpoint_from_vat_id(company.tax_id)


def buyer_endpoint(invoice: Invoice) -> PeppolEndpoint | None:
    """The customer's Peppol participant ID as it is now (an address to deliver to, so a corrected one
    applies to documents still waiting), else the one its VAT ID gives; None when it has neither."""
    customer = invoice.customer
    if customer.peppol_scheme:
        return PeppolEndpoint(customer.peppol_scheme, customer.peppol_id)
    vat_id = buyer_vat_id(invoice)
    return endpoint_from_vat_id(vat_id) if vat_id else None


def buyer_vat_id(invoice: Invoice) -> str:
    """The buyer's tax ID when it is a VAT ID (country prefix, BR-CO-9); other tax numbers are not."""
    tax_id = invoice.customer_snapshot.get("tax_id", "")
    return tax_id if tax_id[:2].isalpha() else ""


def states_vat_ids(invoice: Invoice) -> bool:
    """An invoice not subject to VAT names neither the seller's nor the buyer's VAT ID (BR-O-02); every
    other invoice names both it has."""
    return not invoice.tax_breakdown.filter(tax_category=TaxCategoryCode.NOT_SUBJECT).exists()


def seller_registration_id(company: CompanyProfile, invoice: Invoice) -> str:
    """The commercial register entry as the seller's legal registration ID (BT-30), stated when the
    document names no seller VAT ID: the buyer must then identify the seller by it (BR-CO-26)."""
    return "" if states_vat_ids(invoice) else company.registration


def buyer_email(invoice: Invoice) -> str:
    """The customer's billing contact (else its first active contact): the invoice keeps no email itself."""
    contacts = list(invoice.customer.contacts.filter(is_active=True).order_by("pk"))
    billing = [contact for contact in contacts if ContactRole.BILLING in contact.roles]
    chosen = (billing or contacts)[:1]
    return chosen[0].email if chosen else ""


def buyer_address(invoice: Invoice) -> dict[str, str]:
    """The billing address, falling back on the shipping one and at least the customer's country."""
    address = invoice.billing_address or invoice.shipping_address or {}
    return {**address, "country": address.get("country") or invoice.customer_snapshot.get("country", "")}


def deliver_to_address(invoice: Invoice) -> dict[str, str] | None:
    """The shipping address; for an intra-community supply without one, the buyer's address, because
    the deliver-to country must be stated (BR-IC-12)."""
    if invoice.shipping_address.get("country"):
        return invoice.shipping_address
    if invoice.tax_breakdown.filter(tax_category=TaxCategoryCode.INTRA_COMMUNITY).exists():
        return buyer_address(invoice)
    return None


def payment_terms_note(invoice: Invoice) -> str:
    return f"Payable within {invoice.payment_terms_days} days"


def exemption_reason(category: str, reason: str) -> tuple[str, str]:
    """(VATEX code, wording) for a category that must state its exemption; empty for S and Z. A supply
    not subject to VAT says so in words even when the line gave no reason (BR-O-10)."""
    if category not in EXEMPT_CATEGORIES:
        return "", ""
    if category == TaxCategoryCode.NOT_SUBJECT:
        reason = reason or NOT_SUBJECT_TO_VAT_WORDING
    return EXEMPTION_CODES.get(category, ""), reason


def rate_text(category: str, rate: Decimal) -> str | None:
    """The VAT rate as written on a line or in the breakdown; none for a supply not subject to VAT
    (BR-O-05, BR-48)."""
    return None if category == TaxCategoryCode.NOT_SUBJECT else number_text(rate)


@dataclass(frozen=True)
class LineAdjustment:
    """The gap between quantity × price and the line's rounded net, as a line allowance (or charge)."""

    amount: Decimal
    is_charge: bool
    reason: str
    reason_code: str
    base_amount: Decimal | None = None
    percent: Decimal | None = None


def line_adjustment(line: InvoiceLine, currency: str) -> LineAdjustment | None:
    """Net = quantity × price − allowance, to the cent (BR-CO-10 and Peppol's line-net rule hold exactly).

    The gap is the line's discount; a credit note's last line may also carry a rounding cent. Base
    amount and percentage come together or not at all (PEPPOL-EN16931-R041/R042), and only when the
    percentage of the base gives the amount to the cent (R040).
    """
    base = quantize(line.quantity * line.unit_price, currency)
    gap = base - line.net_amount
    if gap == 0:
        return None
    if gap < 0:
        return LineAdjustment(-gap, True, "Rounding difference", "")
    percent = line.discount_percent
    if not percent:
        return LineAdjustment(gap, False, "Rounding difference", "")
    reason = f"Discount {number_text(percent)} %"
    if quantize(base * percent / 100, currency) != gap:
        return LineAdjustment(gap, False, reason, DISCOUNT_REASON_CODE)
    return LineAdjustment(gap, False, reason, DISCOUNT_REASON_CODE, base_amount=base, percent=percent)


def tax_total_in_company_currency(invoice: Invoice) -> Decimal | None:
    """The VAT total in the company's currency (BT-111, BR-53), when the invoice is in another one."""
    if invoice.currency == invoice.company_currency:
        return None
    return quantize(invoice.tax_total * invoice.exchange_rate, invoice.company_currency)
