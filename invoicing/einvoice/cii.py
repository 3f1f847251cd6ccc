"""UN/CEFACT Cross Industry Invoice (D16B) in a Factur-X / ZUGFeRD profile, EN 16931 unless asked otherwise.

Same facts as the UBL (see `common`), in CII's element order; a credit note is type 381 with
positive amounts and a reference to the credited invoice. A smaller profile (the customer's choice for
its Factur-X PDF) leaves out what its schema does not allow: MINIMUM and BASIC WL have no lines, MINIMUM
keeps only the parties, the currency and the totals.
"""

from datetime import date
from decimal import Decimal

from lxml import etree

from customers.models import FacturXProfile
from customers.peppol import PeppolEndpoint
from invoicing.einvoice import common
from invoicing.models import Invoice, InvoiceLine, TaxBreakdown
from otc.company import company_profile
from otc.models import CompanyProfile

# The guideline ID (BT-24) of each profile, as the Factur-X specification names it.
GUIDELINES = {
    FacturXProfile.MINIMUM: "urn:factur-x.eu:1p0:minimum",
    FacturXProfile.BASIC_WL: "urn:factur-x.eu:1p0:basicwl",
    FacturXProfile.BASIC: "urn:cen.eu:en16931:2017#compliant#urn:factur-x.eu:1p0:basic",
    FacturXProfile.EN16931: "urn:cen.eu:en16931:2017",
}
WITH_LINES = {FacturXProfile.BASIC, FacturXProfile.EN16931}
RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
NAMESPACES = {"rsm": RSM, "ram": RAM, "qdt": QDT, "udt": UDT}
COMMERCIAL_INVOICE = "380"
CREDIT_NOTE = "381"
DATE_FORMAT = "102"  # UNTDID 2379: CCYYMMDD


def _element(parent: etree._Element, namespace: str, name: str, text: str | None = None, /, **attributes: str):
    element = etree.SubElement(parent, f"{{{namespace}}}{name}", attributes)
    if text is not None:
        element.text = text
    return element


def _ram(parent: etree._Element, name: str, text: str | None = None, /, **attributes: str) -> etree._Element:
    return _element(parent, RAM, name, text, **attributes)


def _amount(parent: etree._Element, name: str, amount: Decimal, currency: str, *, with_currency: bool = False):
    attributes = {"currencyID": currency} if with_currency else {}
    return _ram(parent, name, common.amount_text(amount, currency), **attributes)


def _date(parent: etree._Element, name: str, day: date, namespace: str = UDT) -> None:
    _element(_ram(parent, name), namespace, "DateTimeString", day.strftime("%Y%m%d"), format=DATE_FORMAT)


def _indicator(parent: etree._Element, value: bool) -> None:
    _element(_ram(parent, "ChargeIndicator"), UDT, "Indicator", "true" if value else "false")


def _address(parent: etree._Element, address: dict[str, str], profile: str = FacturXProfile.EN16931) -> None:
    """The postal address; MINIMUM states only the country."""
    element = _ram(parent, "PostalTradeAddress")
    if profile == FacturXProfile.MINIMUM:
        _ram(element, "CountryID", address["country"])
        return
    for field, tag in (("postal_code", "PostcodeCode"), ("line1", "LineOne"), ("line2", "LineTwo")):
        if address.get(field):
            _ram(element, tag, address[field])
    if address.get("city"):
        _ram(element, "CityName", address["city"])
    _ram(element, "CountryID", address["country"])
    if address.get("region"):
        _ram(element, "CountrySubDivisionName", address["region"])


def _electronic_address(party: etree._Element, endpoint: PeppolEndpoint | None, email: str) -> None:
    """The Peppol participant ID, else the email address (EN 16931 allows it, Peppol does not; a
    Factur-X travels by email)."""
    if endpoint is not None:
        _ram(_ram(party, "URIUniversalCommunication"), "URIID", endpoint.identifier, schemeID=endpoint.scheme)
    elif email:
        _ram(_ram(party, "URIUniversalCommunication"), "URIID", email, schemeID=common.EMAIL_ADDRESS_SCHEME)


def _vat_registration(party: etree._Element, vat_id: str) -> None:
    if vat_id:
        _ram(_ram(party, "SpecifiedTaxRegistration"), "ID", vat_id, schemeID="VA")


def _seller(agreement: etree._Element, company: CompanyProfile, invoice: Invoice, profile: str) -> None:
    full = profile == FacturXProfile.EN16931
    party = _ram(agreement, "SellerTradeParty")
    _ram(party, "Name", company.legal_name)
    if company.registration and full:
        _ram(party, "Description", company.registration)
    registration_id = common.seller_registration_id(company, invoice)
    if registration_id:
        _ram(_ram(party, "SpecifiedLegalOrganization"), "ID", registration_id)
    if full:
        contact = _ram(party, "DefinedTradeContact")
        _ram(contact, "PersonName", company.contact_name)
        if company.phone:
            _ram(_ram(contact, "TelephoneUniversalCommunication"), "CompleteNumber", company.phone)
        _ram(_ram(contact, "EmailURIUniversalCommunication"), "URIID", company.email)
    _address(
        party,
        {
            "postal_code": company.postal_code,
            "line1": company.line1,
            "line2": company.line2,
            "city": company.city,
            "country": company.country,
        },
        profile,
    )
    if profile != FacturXProfile.MINIMUM:
        _electronic_address(party, common.seller_endpoint(company), company.email)
    if common.states_vat_ids(invoice):
        _vat_registration(party, company.tax_id)


def _buyer(agreement: etree._Element, invoice: Invoice, profile: str) -> None:
    minimum = profile == FacturXProfile.MINIMUM
    snapshot = invoice.customer_snapshot
    vat_id = common.buyer_vat_id(invoice) if common.states_vat_ids(invoice) else ""
    party = _ram(agreement, "BuyerTradeParty")
    if not minimum:
        _ram(party, "ID", snapshot["number"])
    _ram(party, "Name", snapshot["legal_name"])
    if snapshot.get("display_name") and snapshot["display_name"] != snapshot["legal_name"] and not minimum:
        _ram(_ram(party, "SpecifiedLegalOrganization"), "TradingBusinessName", snapshot["display_name"])
    if not minimum:
        _address(party, common.buyer_address(invoice))
        _electronic_address(party, common.buyer_endpoint(invoice), common.buyer_email(invoice))
    _vat_registration(party, vat_id)


def _agreement(transaction: etree._Element, invoice: Invoice, company: CompanyProfile, profile: str) -> None:
    agreement = _ram(transaction, "ApplicableHeaderTradeAgreement")
    _ram(agreement, "BuyerReference", invoice.po_number or invoice.customer_snapshot["number"])
    _seller(agreement, company, invoice, profile)
    _buyer(agreement, invoice, profile)
    if invoice.po_number:
        _ram(_ram(agreement, "BuyerOrderReferencedDocument"), "IssuerAssignedID", invoice.po_number)


def _delivery(transaction: etree._Element, invoice: Invoice, profile: str) -> None:
    delivery = _ram(transaction, "ApplicableHeaderTradeDelivery")
    if profile == FacturXProfile.MINIMUM:
        return
    deliver_to = common.deliver_to_address(invoice)
    if deliver_to is not None:
        party = _ram(delivery, "ShipToTradeParty")
        if deliver_to.get("name"):
            _ram(party, "Name", deliver_to["name"])
        _address(party, deliver_to)
    if invoice.delivery_date is not None:
        _date(_ram(delivery, "ActualDeliverySupplyChainEvent"), "OccurrenceDateTime", invoice.delivery_date)


def _line_tax(parent: etree._Element, category: str, rate: Decimal) -> None:
    tax = _ram(parent, "ApplicableTradeTax")
    _ram(tax, "TypeCode", "VAT")
    _ram(tax, "CategoryCode", category)
    _rate(tax, category, rate)


def _rate(tax: etree._Element, category: str, rate: Decimal) -> None:
    rate_text = common.rate_text(category, rate)
    if rate_text is not None:
        _ram(tax, "RateApplicablePercent", rate_text)


def _header_tax(settlement: etree._Element, group: TaxBreakdown, currency: str) -> None:
    tax = _ram(settlement, "ApplicableTradeTax")
    _amount(tax, "CalculatedAmount", group.tax_amount, currency)
    _ram(tax, "TypeCode", "VAT")
    code, wording = common.exemption_reason(group.tax_category, group.exemption_reason)
    if wording:
        _ram(tax, "ExemptionReason", wording)
    _amount(tax, "BasisAmount", group.taxable_amount, currency)
    _ram(tax, "CategoryCode", group.tax_category)
    if code:
        _ram(tax, "ExemptionReasonCode", code)
    _rate(tax, group.tax_category, group.tax_rate)


def _payment(settlement: etree._Element, invoice: Invoice, company: CompanyProfile, profile: str) -> None:
    """The account to pay into; its name and the BIC only in EN 16931, the smaller profiles have no place
    for them."""
    means = _ram(settlement, "SpecifiedTradeSettlementPaymentMeans")
    _ram(means, "TypeCode", common.payment_means(invoice).code)
    if invoice.is_credit_note:
        return
    account = _ram(means, "PayeePartyCreditorFinancialAccount")
    _ram(account, "IBANID", company.iban)
    if profile != FacturXProfile.EN16931:
        return
    _ram(account, "AccountName", company.legal_name)
    if company.bic:
        _ram(_ram(means, "PayeeSpecifiedCreditorFinancialInstitution"), "BICID", company.bic)


def _payment_terms(settlement: etree._Element, invoice: Invoice) -> None:
    if invoice.is_credit_note:
        return
    terms = _ram(settlement, "SpecifiedTradePaymentTerms")
    _ram(terms, "Description", common.payment_terms_note(invoice))
    _date(terms, "DueDateDateTime", invoice.due_date)


def _monetary_summation(settlement: etree._Element, invoice: Invoice, profile: str) -> None:
    currency = invoice.currency
    summation = _ram(settlement, "SpecifiedTradeSettlementHeaderMonetarySummation")
    if profile != FacturXProfile.MINIMUM:
        _amount(summation, "LineTotalAmount", invoice.net_total, currency)
    _amount(summation, "TaxBasisTotalAmount", invoice.net_total, currency)
    _amount(summation, "TaxTotalAmount", invoice.tax_total, currency, with_currency=True)
    company_tax = common.tax_total_in_company_currency(invoice)
    if company_tax is not None:
        _amount(summation, "TaxTotalAmount", company_tax, invoice.company_currency, with_currency=True)
    _amount(summation, "GrandTotalAmount", invoice.gross_total, currency)
    _amount(summation, "DuePayableAmount", invoice.gross_total, currency)


def _settlement(transaction: etree._Element, invoice: Invoice, company: CompanyProfile, profile: str) -> None:
    """Payment, VAT breakdown, terms and totals; MINIMUM has only the currency and the totals."""
    minimum = profile == FacturXProfile.MINIMUM
    settlement = _ram(transaction, "ApplicableHeaderTradeSettlement")
    if not invoice.is_credit_note and not minimum:
        _ram(settlement, "PaymentReference", common.payment_reference(invoice))
    if invoice.currency != invoice.company_currency and not minimum:
        _ram(settlement, "TaxCurrencyCode", invoice.company_currency)
    _ram(settlement, "InvoiceCurrencyCode", invoice.currency)
    if not minimum:
        _payment(settlement, invoice, company, profile)
        for group in invoice.tax_breakdown.all():
            _header_tax(settlement, group, invoice.currency)
        _payment_terms(settlement, invoice)
    _monetary_summation(settlement, invoice, profile)
    if invoice.credited_invoice is not None and not minimum:
        reference = _ram(settlement, "InvoiceReferencedDocument")
        _ram(reference, "IssuerAssignedID", invoice.credited_invoice.number)
        _date(reference, "FormattedIssueDateTime", invoice.credited_invoice.issue_date, namespace=QDT)


def _line(transaction: etree._Element, invoice: Invoice, line: InvoiceLine, profile: str) -> None:
    currency = invoice.currency
    item = _ram(transaction, "IncludedSupplyChainTradeLineItem")
    _ram(_ram(item, "AssociatedDocumentLineDocument"), "LineID", str(line.line_no))
    product = _ram(item, "SpecifiedTradeProduct")
    if line.gtin:
        _ram(product, "GlobalID", line.gtin, schemeID=common.GTIN_SCHEME)
    if line.sku and profile == FacturXProfile.EN16931:
        _ram(product, "SellerAssignedID", line.sku)
    _ram(product, "Name", line.description)
    price = common.price_text(line.unit_price, currency)
    agreement = _ram(item, "SpecifiedLineTradeAgreement")
    _ram(_ram(agreement, "GrossPriceProductTradePrice"), "ChargeAmount", price)
    _ram(_ram(agreement, "NetPriceProductTradePrice"), "ChargeAmount", price)
    _ram(
        _ram(item, "SpecifiedLineTradeDelivery"),
        "BilledQuantity",
        common.number_text(line.quantity),
        unitCode=line.unit,
    )
    settlement = _ram(item, "SpecifiedLineTradeSettlement")
    _line_tax(settlement, line.tax_category, line.tax_rate)
    adjustment = common.line_adjustment(line, currency)
    if adjustment is not None:
        allowance = _ram(settlement, "SpecifiedTradeAllowanceCharge")
        _indicator(allowance, adjustment.is_charge)
        if adjustment.percent is not None:
            _ram(allowance, "CalculationPercent", common.number_text(adjustment.percent))
        if adjustment.base_amount is not None:
            _amount(allowance, "BasisAmount", adjustment.base_amount, currency)
        _amount(allowance, "ActualAmount", adjustment.amount, currency)
        if adjustment.reason_code:
            _ram(allowance, "ReasonCode", adjustment.reason_code)
        _ram(allowance, "Reason", adjustment.reason)
    _amount(
        _ram(settlement, "SpecifiedTradeSettlementLineMonetarySummation"), "LineTotalAmount", line.net_amount, currency
    )


def _document(root: etree._Element, invoice: Invoice, profile: str) -> None:
    context = _element(root, RSM, "ExchangedDocumentContext")
    _ram(_ram(context, "GuidelineSpecifiedDocumentContextParameter"), "ID", GUIDELINES[profile])
    document = _element(root, RSM, "ExchangedDocument")
    _ram(document, "ID", invoice.number)
    _ram(document, "TypeCode", CREDIT_NOTE if invoice.is_credit_note else COMMERCIAL_INVOICE)
    _date(document, "IssueDateTime", invoice.issue_date)
    if invoice.reason and profile != FacturXProfile.MINIMUM:
        _ram(_ram(document, "IncludedNote"), "Content", invoice.reason)


def invoice_cii(invoice: Invoice, profile: str = FacturXProfile.EN16931) -> bytes:
    """The issued invoice or credit note as Factur-X CII XML (UTF-8 bytes) in the given profile."""
    company = company_profile()
    root = etree.Element(f"{{{RSM}}}CrossIndustryInvoice", nsmap=NAMESPACES)
    _document(root, invoice, profile)
    transaction = _element(root, RSM, "SupplyChainTradeTransaction")
    if profile in WITH_LINES:
        for line in invoice.lines.order_by("line_no"):
            _line(transaction, invoice, line, profile)
    _agreement(transaction, invoice, company, profile)
    _delivery(transaction, invoice, profile)
    _settlement(transaction, invoice, company, profile)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
