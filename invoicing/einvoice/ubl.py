"""UBL 2.1 Invoice and CreditNote following EN 16931 and Peppol BIS Billing 3.0, or XRechnung 3.0 (the
German CIUS) for public-sector buyers: the same document under XRechnung's specification identifier, with
the buyer's Leitweg-ID as buyer reference (BT-10) and, without a Peppol ID, as its address (EAS 0204).

Element order follows the UBL 2.1 schema's sequences; amounts carry the document currency and the
currency's minor unit of decimals. A credit note's amounts are positive, as EN 16931 wants them.
"""

from lxml import etree

from customers.peppol import PeppolEndpoint
from invoicing.einvoice import common
from invoicing.models import Invoice, InvoiceLine, TaxBreakdown
from otc.company import company_profile
from otc.models import CompanyProfile

CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
XRECHNUNG_CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"
PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
LEITWEG_SCHEME = "0204"
INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
COMMERCIAL_INVOICE = "380"
CREDIT_NOTE = "381"


def _cac(parent: etree._Element, name: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{CAC}}}{name}")


def _cbc(parent: etree._Element, name: str, text: str, /, **attributes: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{CBC}}}{name}", attributes)
    element.text = text
    return element


def _amount(parent: etree._Element, name: str, amount, currency: str) -> etree._Element:
    return _cbc(parent, name, common.amount_text(amount, currency), currencyID=currency)


def _vat_scheme(parent: etree._Element) -> None:
    _cbc(_cac(parent, "TaxScheme"), "ID", "VAT")


def _address(parent: etree._Element, name: str, address: dict[str, str]) -> None:
    element = _cac(parent, name)
    for field, tag in (("line1", "StreetName"), ("line2", "AdditionalStreetName"), ("city", "CityName")):
        if address.get(field):
            _cbc(element, tag, address[field])
    if address.get("postal_code"):
        _cbc(element, "PostalZone", address["postal_code"])
    if address.get("region"):
        _cbc(element, "CountrySubentity", address["region"])
    _cbc(_cac(element, "Country"), "IdentificationCode", address["country"])


def _endpoint(party: etree._Element, endpoint: PeppolEndpoint | None) -> None:
    """A party without a Peppol participant ID gets no EndpointID, and the Peppol rules refuse the
    document (R010/R020): no made-up address is sent."""
    if endpoint is not None:
        _cbc(party, "EndpointID", endpoint.identifier, schemeID=endpoint.scheme)


def _seller(root: etree._Element, company: CompanyProfile, invoice: Invoice) -> None:
    party = _cac(_cac(root, "AccountingSupplierParty"), "Party")
    _endpoint(party, common.seller_endpoint(company))
    _cbc(_cac(party, "PartyName"), "Name", company.legal_name)
    _address(
        party,
        "PostalAddress",
        {
            "line1": company.line1,
            "line2": company.line2,
            "city": company.city,
            "postal_code": company.postal_code,
            "country": company.country,
        },
    )
    if common.states_vat_ids(invoice):
        tax_scheme = _cac(party, "PartyTaxScheme")
        _cbc(tax_scheme, "CompanyID", company.tax_id)
        _vat_scheme(tax_scheme)
    legal_entity = _cac(party, "PartyLegalEntity")
    _cbc(legal_entity, "RegistrationName", company.legal_name)
    registration_id = common.seller_registration_id(company, invoice)
    if registration_id:
        _cbc(legal_entity, "CompanyID", registration_id)
    if company.registration:
        _cbc(legal_entity, "CompanyLegalForm", company.registration)
    contact = _cac(party, "Contact")
    _cbc(contact, "Name", company.contact_name)
    if company.phone:
        _cbc(contact, "Telephone", company.phone)
    _cbc(contact, "ElectronicMail", company.email)


def _buyer(root: etree._Element, invoice: Invoice, endpoint: PeppolEndpoint | None) -> None:
    snapshot = invoice.customer_snapshot
    tax_id = common.buyer_vat_id(invoice) if common.states_vat_ids(invoice) else ""
    party = _cac(_cac(root, "AccountingCustomerParty"), "Party")
    _endpoint(party, endpoint)
    _cbc(_cac(party, "PartyIdentification"), "ID", snapshot["number"])
    _cbc(_cac(party, "PartyName"), "Name", snapshot.get("display_name") or snapshot["legal_name"])
    _address(party, "PostalAddress", common.buyer_address(invoice))
    if tax_id:
        tax_scheme = _cac(party, "PartyTaxScheme")
        _cbc(tax_scheme, "CompanyID", tax_id)
        _vat_scheme(tax_scheme)
    _cbc(_cac(party, "PartyLegalEntity"), "RegistrationName", snapshot["legal_name"])


def _delivery(root: etree._Element, invoice: Invoice) -> None:
    deliver_to = common.deliver_to_address(invoice)
    if invoice.delivery_date is None and deliver_to is None:
        return
    delivery = _cac(root, "Delivery")
    if invoice.delivery_date is not None:
        _cbc(delivery, "ActualDeliveryDate", invoice.delivery_date.isoformat())
    if deliver_to is not None:
        _address(_cac(delivery, "DeliveryLocation"), "Address", deliver_to)
        if deliver_to.get("name"):
            _cbc(_cac(_cac(delivery, "DeliveryParty"), "PartyName"), "Name", deliver_to["name"])


def _payment(root: etree._Element, invoice: Invoice, company: CompanyProfile) -> None:
    """An invoice names the account to pay into; a credit note says it is set off, and names none."""
    means = _cac(root, "PaymentMeans")
    payment_means = common.payment_means(invoice)
    _cbc(means, "PaymentMeansCode", payment_means.code, name=payment_means.name)
    _cbc(means, "PaymentID", common.payment_reference(invoice))
    if invoice.is_credit_note:
        return
    account = _cac(means, "PayeeFinancialAccount")
    _cbc(account, "ID", company.iban)
    _cbc(account, "Name", company.legal_name)
    if company.bic:
        _cbc(_cac(account, "FinancialInstitutionBranch"), "ID", company.bic)
    _cbc(_cac(root, "PaymentTerms"), "Note", common.payment_terms_note(invoice))


def _tax_category(parent: etree._Element, name: str, category: str, rate, reason: str | None = None) -> None:
    """A category with its rate; the breakdown's (not the line's, UBL-CR-600) also states the exemption."""
    element = _cac(parent, name)
    _cbc(element, "ID", category)
    rate_text = common.rate_text(category, rate)
    if rate_text is not None:
        _cbc(element, "Percent", rate_text)
    code, wording = common.exemption_reason(category, reason) if reason is not None else ("", "")
    if code:
        _cbc(element, "TaxExemptionReasonCode", code)
    if wording:
        _cbc(element, "TaxExemptionReason", wording)
    _vat_scheme(element)


def _tax_totals(root: etree._Element, invoice: Invoice, breakdown: list[TaxBreakdown]) -> None:
    currency = invoice.currency
    total = _cac(root, "TaxTotal")
    _amount(total, "TaxAmount", invoice.tax_total, currency)
    for group in breakdown:
        subtotal = _cac(total, "TaxSubtotal")
        _amount(subtotal, "TaxableAmount", group.taxable_amount, currency)
        _amount(subtotal, "TaxAmount", group.tax_amount, currency)
        _tax_category(subtotal, "TaxCategory", group.tax_category, group.tax_rate, group.exemption_reason)
    company_tax = common.tax_total_in_company_currency(invoice)
    if company_tax is not None:
        _amount(_cac(root, "TaxTotal"), "TaxAmount", company_tax, invoice.company_currency)


def _monetary_total(root: etree._Element, invoice: Invoice) -> None:
    total = _cac(root, "LegalMonetaryTotal")
    for name, amount in (
        ("LineExtensionAmount", invoice.net_total),
        ("TaxExclusiveAmount", invoice.net_total),
        ("TaxInclusiveAmount", invoice.gross_total),
        ("PayableAmount", invoice.gross_total),
    ):
        _amount(total, name, amount, invoice.currency)


def _line(root: etree._Element, invoice: Invoice, line: InvoiceLine) -> None:
    currency = invoice.currency
    prefix = "CreditNote" if invoice.is_credit_note else "Invoice"
    quantity_name = "CreditedQuantity" if invoice.is_credit_note else "InvoicedQuantity"
    element = _cac(root, f"{prefix}Line")
    _cbc(element, "ID", str(line.line_no))
    _cbc(element, quantity_name, common.number_text(line.quantity), unitCode=line.unit)
    _amount(element, "LineExtensionAmount", line.net_amount, currency)
    adjustment = common.line_adjustment(line, currency)
    if adjustment is not None:
        allowance = _cac(element, "AllowanceCharge")
        _cbc(allowance, "ChargeIndicator", "true" if adjustment.is_charge else "false")
        if adjustment.reason_code:
            _cbc(allowance, "AllowanceChargeReasonCode", adjustment.reason_code)
        _cbc(allowance, "AllowanceChargeReason", adjustment.reason)
        if adjustment.percent is not None:
            _cbc(allowance, "MultiplierFactorNumeric", common.number_text(adjustment.percent))
        _amount(allowance, "Amount", adjustment.amount, currency)
        if adjustment.base_amount is not None:
            _amount(allowance, "BaseAmount", adjustment.base_amount, currency)
    item = _cac(element, "Item")
    _cbc(item, "Name", line.description)
    if line.sku:
        _cbc(_cac(item, "SellersItemIdentification"), "ID", line.sku)
    if line.gtin:
        _cbc(_cac(item, "StandardItemIdentification"), "ID", line.gtin, schemeID=common.GTIN_SCHEME)
    _tax_category(item, "ClassifiedTaxCategory", line.tax_category, line.tax_rate)
    price = _cac(element, "Price")
    _cbc(price, "PriceAmount", common.price_text(line.unit_price, currency), currencyID=currency)


def _header(root: etree._Element, invoice: Invoice, customization_id: str, buyer_reference: str) -> None:
    _cbc(root, "CustomizationID", customization_id)
    _cbc(root, "ProfileID", PROFILE_ID)
    _cbc(root, "ID", invoice.number)
    _cbc(root, "IssueDate", invoice.issue_date.isoformat())
    if invoice.is_credit_note:
        _cbc(root, "CreditNoteTypeCode", CREDIT_NOTE)
    else:
        _cbc(root, "DueDate", invoice.due_date.isoformat())
        _cbc(root, "InvoiceTypeCode", COMMERCIAL_INVOICE)
    if invoice.reason:
        _cbc(root, "Note", invoice.reason)
    _cbc(root, "DocumentCurrencyCode", invoice.currency)
    if invoice.currency != invoice.company_currency:
        _cbc(root, "TaxCurrencyCode", invoice.company_currency)
    _cbc(root, "BuyerReference", buyer_reference)
    if invoice.po_number:
        _cbc(_cac(root, "OrderReference"), "ID", invoice.po_number)
    if invoice.credited_invoice is not None:
        reference = _cac(_cac(root, "BillingReference"), "InvoiceDocumentReference")
        _cbc(reference, "ID", invoice.credited_invoice.number)
        _cbc(reference, "IssueDate", invoice.credited_invoice.issue_date.isoformat())


def invoice_ubl(invoice: Invoice) -> bytes:
    """The issued invoice or credit note as a Peppol BIS Billing 3.0 UBL document (UTF-8 bytes)."""
    buyer_reference = invoice.po_number or invoice.customer_snapshot["number"]
    return _document(invoice, CUSTOMIZATION_ID, buyer_reference, common.buyer_endpoint(invoice))


def invoice_xrechnung(invoice: Invoice) -> bytes:
    """The issued invoice or credit note as XRechnung 3.0 UBL (UTF-8 bytes). The Leitweg-ID is read from
    the customer as it is now, like the Peppol address: a corrected one applies to documents still waiting.
    Without one the document breaks BR-DE-15 and is not sent."""
    customer = invoice.customer
    leitweg_id = customer.leitweg_id
    if customer.peppol_scheme or not leitweg_id:
        endpoint = common.buyer_endpoint(invoice)
    else:
        endpoint = PeppolEndpoint(LEITWEG_SCHEME, leitweg_id)
    return _document(invoice, XRECHNUNG_CUSTOMIZATION_ID, leitweg_id, endpoint)


def _document(
    invoice: Invoice, customization_id: str, buyer_reference: str, buyer_endpoint: PeppolEndpoint | None
) -> bytes:
    company = company_profile()
    namespace, name = (CREDIT_NOTE_NS, "CreditNote") if invoice.is_credit_note else (INVOICE_NS, "Invoice")
    root = etree.Element(f"{{{namespace}}}{name}", nsmap={None: namespace, "cac": CAC, "cbc": CBC})
    _header(root, invoice, customization_id, buyer_reference)
    _seller(root, company, invoice)
    _buyer(root, invoice, buyer_endpoint)
    _delivery(root, invoice)
    _payment(root, invoice, company)
    _tax_totals(root, invoice, list(invoice.tax_breakdown.all()))
    _monetary_total(root, invoice)
    for line in invoice.lines.order_by("line_no"):
        _line(root, invoice, line)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
