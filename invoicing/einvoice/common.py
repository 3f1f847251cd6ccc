"""What UBL and CII say alike about an invoice: number formats, electronic addresses, exemption codes,
the line discount, and the tax in the company currency. Both syntaxes render these same facts."""

from dataclasses import dataclass
from decimal import Decimal

from customers.models import ContactRole
from invoicing.models import Invoice, InvoiceLine, TaxCategoryCode
from otc.money import minor_units, quantize

# Peppol EAS codes of the VAT-number electronic addresses, by the VAT ID's two-letter prefix.
VAT_ADDRESS_SCHEMES = {
    "AD": "9922",
    "AL": "9923",
    "AT": "9914",
    "BA": "9924",
    "BE": "9925",
    "BG": "9926",
    "CH": "9927",
    "CY": "9928",
    "CZ": "9929",
    "DE": "9930",
    "EE": "9931",
    "EL": "9933",
    "ES": "9920",
    "FI": "0213",
    "FR": "9957",
    "GB": "9932",
    "HR": "9934",
    "HU": "9910",
    "IE": "9935",
    "IT": "0211",
    "LI": "9936",
    "LT": "9937",
    "LU": "9938",
    "LV": "9939",
    "MC": "9940",
    "ME": "9941",
    "MK": "9942",
    "MT": "9943",
    "NL": "9944",
    "PL": "9945",
    "PT": "9946",
    "RO": "9947",
    "RS": "9948",
    "SE": "9955",
    "SI": "9949",
    "SK": "9950",
    "SM": "9951",
    "TR": "9952",
    "VA": "9953",
}
EMAIL_ADDRESS_SCHEME = "EM"

# VATEX codes (CEF list) for the categories whose exemption EN 16931 requires to be stated.
EXEMPTION_CODES = {
    TaxCategoryCode.REVERSE_CHARGE: "VATEX-EU-AE",
    TaxCategoryCode.INTRA_COMMUNITY: "VATEX-EU-IC",
    TaxCategoryCode.EXPORT: "VATEX-EU-G",
}
# Categories that must carry an exemption reason (BR-AE-10, BR-IC-10, BR-G-10, BR-E-10); S and Z must not.
EXEMPT_CATEGORIES = {*EXEMPTION_CODES, TaxCategoryCode.EXEMPT}
DISCOUNT_REASON_CODE = "95"  # UNCL 5189: Discount
SEPA_CREDIT_TRANSFER = "58"  # UNCL 4461
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
class ElectronicAddress:
    scheme: str
    value: str


def electronic_address(*, tax_id: str, email: str) -> ElectronicAddress | None:
    """Where Peppol delivers to a party: its VAT number when the prefix has a scheme, else its email."""
    scheme = VAT_ADDRESS_SCHEMES.get(tax_id[:2].upper()) if tax_id else None
    if scheme:
        return ElectronicAddress(scheme, tax_id)
    return ElectronicAddress(EMAIL_ADDRESS_SCHEME, email) if email else None


def buyer_vat_id(invoice: Invoice) -> str:
    """The buyer's tax ID when it is a VAT ID (country prefix, BR-CO-9); other tax numbers are not."""
    tax_id = invoice.customer_snapshot.get("tax_id", "")
    return tax_id if tax_id[:2].isalpha() else ""


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


def payment_terms_note(invoice: Invoice) -> str:
    return f"Payable within {invoice.payment_terms_days} days"


def exemption_reason(category: str, reason: str) -> tuple[str, str]:
    """(VATEX code, wording) for a category that must state its exemption; empty for S and Z."""
    if category not in EXEMPT_CATEGORIES:
        return "", ""
    return EXEMPTION_CODES.get(category, ""), reason


@dataclass(frozen=True)
class LineAdjustment:
    """The gap between quantity × price and the line's rounded net, as a line allowance (or charge)."""

    base_amount: Decimal
    amount: Decimal
    is_charge: bool
    reason: str
    reason_code: str


def line_adjustment(line: InvoiceLine, currency: str) -> LineAdjustment | None:
    """Net = quantity × price − allowance, to the cent (BR-CO-10 and Peppol's line-net rule hold exactly).

    The gap is the line's discount; a credit note's last line may also carry a rounding cent.
    """
    base = quantize(line.quantity * line.unit_price, currency)
    gap = base - line.net_amount
    if gap == 0:
        return None
    if gap < 0:
        return LineAdjustment(base, -gap, True, "Rounding difference", "")
    if line.discount_percent:
        return LineAdjustment(
            base, gap, False, f"Discount {number_text(line.discount_percent)} %", DISCOUNT_REASON_CODE
        )
    return LineAdjustment(base, gap, False, "Rounding difference", "")


def tax_total_in_company_currency(invoice: Invoice) -> Decimal | None:
    """The VAT total in the company's currency (BT-111, BR-53), when the invoice is in another one."""
    if invoice.currency == invoice.company_currency:
        return None
    return quantize(invoice.tax_total * invoice.exchange_rate, invoice.company_currency)
