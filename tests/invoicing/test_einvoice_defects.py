"""Regression tests of the defects that made Peppol access points refuse our e-invoices, and of the
validator itself (byte-order mark, malformed input, schematron semantics)."""

from decimal import Decimal

import pytest
from lxml import etree

from customers import services as customer_services
from invoicing import services
from invoicing.documents import services as documents
from invoicing.documents.errors import EInvoiceInvalid
from invoicing.einvoice.cii import invoice_cii
from invoicing.einvoice.schematron import SchematronNotSupported, compile_schematron
from invoicing.einvoice.ubl import invoice_ubl
from invoicing.einvoice.validation import BYTE_ORDER_MARK, validate_einvoice
from invoicing.models import DocumentFormat, StoredDocument
from invoicing.selectors import peppol_endpoint_problems
from invoicing.services.company_profile import save_company_profile
from otc.errors import InvalidInput
from otc.models import CompanyProfile
from tests.factories import CustomerFactory, manual_invoice

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("company")]
D = Decimal
NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
}


def texts(xml: bytes, path: str) -> list[str]:
    return [node.text for node in etree.fromstring(xml).xpath(path, namespaces=NS)]


def buyer(clerk, **fields):
    country = fields.get("country", "DE")
    defaults = {
        "actor": clerk,
        "legal_name": "Käufer GmbH",
        "country": country,
        "contacts": [{"name": "Accounts Payable", "email": "ap@buyer.example", "roles": ["billing"]}],
        "addresses": [
            {"kind": "billing", "line1": "Hauptstr. 1", "postal_code": "10115", "city": "Berlin", "country": country}
        ],
    }
    return CustomerFactory(**{**defaults, **fields})


def invoice_for(customer, clerk, *, price="100.00", rate="19", category="", note="", discount="0", quantity="2"):
    return services.create_manual_invoice(
        customer=customer,
        actor=clerk,
        lines=[
            services.ManualLine(
                description="Consulting",
                quantity=D(quantity),
                unit_price=D(price),
                tax_rate=D(rate),
                tax_category=category,
                tax_note=note,
                discount_percent=D(discount),
            )
        ],
    )


def test_a_buyer_without_vat_id_gets_no_email_endpoint_and_the_rules_name_what_is_missing(clerk):
    invoice = invoice_for(buyer(clerk), clerk)

    xml = invoice_ubl(invoice)

    # It used to be EndpointID schemeID="EM", refused by every access point (PEPPOL-EN16931-CL008).
    assert texts(xml, "//cac:AccountingCustomerParty//cbc:EndpointID") == []
    assert validate_einvoice(xml).rule_ids == ["PEPPOL-EN16931-R010"]


def test_a_buyer_with_a_german_vat_id_gets_its_9930_endpoint(clerk):
    invoice = invoice_for(buyer(clerk, tax_id="DE811128135"), clerk)

    xml = invoice_ubl(invoice)

    assert texts(xml, "//cac:AccountingCustomerParty//cbc:EndpointID") == ["DE811128135"]
    assert etree.fromstring(xml).xpath("//cac:AccountingCustomerParty//cbc:EndpointID/@schemeID", namespaces=NS) == [
        "9930"
    ]
    assert validate_einvoice(xml).errors == ()


def test_a_line_discount_states_its_percentage_beside_the_base_amount(clerk):
    customer = buyer(clerk, tax_id="DE811128135")
    # 7 × 33.33 = 233.31, less 12.5 % = 29.16: the line nets 204.15.
    invoice = invoice_for(customer, clerk, price="33.33", quantity="7", discount="12.5")

    ubl, cii = invoice_ubl(invoice), invoice_cii(invoice)

    allowance = "//cac:InvoiceLine/cac:AllowanceCharge"
    assert texts(ubl, f"{allowance}/cbc:MultiplierFactorNumeric") == ["12.5"]
    assert texts(ubl, f"{allowance}/cbc:BaseAmount") == ["233.31"]
    assert texts(ubl, f"{allowance}/cbc:Amount") == ["29.16"]
    assert texts(ubl, "//cac:InvoiceLine/cbc:LineExtensionAmount") == ["204.15"]
    assert texts(cii, "//ram:SpecifiedTradeAllowanceCharge/ram:CalculationPercent") == ["12.5"]
    assert texts(cii, "//ram:SpecifiedTradeAllowanceCharge/ram:BasisAmount") == ["233.31"]
    assert validate_einvoice(ubl).errors == ()
    assert validate_einvoice(cii).errors == ()


def test_the_validator_refuses_a_base_amount_without_its_percentage():
    """The old output (BaseAmount without MultiplierFactorNumeric) is what PEPPOL-EN16931-R042 catches."""
    allowance = (
        '<cac:AllowanceCharge xmlns:cac="{cac}" xmlns:cbc="{cbc}"><cbc:ChargeIndicator>false</cbc:ChargeIndicator>'
        "<cbc:AllowanceChargeReason>Discount</cbc:AllowanceChargeReason>"
        '<cbc:Amount currencyID="EUR">1.00</cbc:Amount><cbc:BaseAmount currencyID="EUR">10.00</cbc:BaseAmount>'
        "</cac:AllowanceCharge>"
    ).format(**NS)
    document = etree.fromstring(UBL_SKELETON)
    line = document.find("cac:InvoiceLine", NS)
    line.insert(3, etree.fromstring(allowance))

    assert "PEPPOL-EN16931-R042" in validate_einvoice(etree.tostring(document)).rule_ids


def test_the_seller_contact_is_named_in_ubl_and_cii(clerk, company):
    company.contact_name = "Debitorenbuchhaltung"
    company.save()
    invoice = invoice_for(buyer(clerk, tax_id="DE811128135"), clerk)

    assert texts(invoice_ubl(invoice), "//cac:AccountingSupplierParty//cac:Contact/cbc:Name") == [
        "Debitorenbuchhaltung"
    ]
    assert texts(invoice_cii(invoice), "//ram:SellerTradeParty/ram:DefinedTradeContact/ram:PersonName") == [
        "Debitorenbuchhaltung"
    ]


def test_a_credit_note_states_that_it_is_set_off_against_open_invoices(clerk):
    invoice = invoice_for(buyer(clerk, tax_id="DE811128135"), clerk)
    note = services.issue_credit_note(invoice=invoice, actor=clerk, reason="Cancelled")

    ubl, cii = invoice_ubl(note), invoice_cii(note)

    assert texts(ubl, "//cac:PaymentMeans/cbc:PaymentMeansCode") == ["97"]
    assert texts(ubl, "//cac:PayeeFinancialAccount/cbc:ID") == []
    assert texts(cii, "//ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode") == ["97"]
    assert validate_einvoice(ubl).errors == ()
    assert validate_einvoice(cii).errors == ()


def test_an_intra_community_supply_without_shipping_address_names_the_deliver_to_country(clerk):
    customer = buyer(
        clerk,
        legal_name="Mistral SARL",
        country="FR",
        tax_id="FR40303265045",
        addresses=[
            {"kind": "billing", "line1": "1 rue Neuve", "postal_code": "69002", "city": "Lyon", "country": "FR"}
        ],
    )
    invoice = invoice_for(customer, clerk, price="40.00", rate="0", category="K", note="Intra-community supply")

    ubl, cii = invoice_ubl(invoice), invoice_cii(invoice)

    assert texts(ubl, "//cac:Delivery/cac:DeliveryLocation/cac:Address/cac:Country/cbc:IdentificationCode") == ["FR"]
    assert texts(cii, "//ram:ShipToTradeParty/ram:PostalTradeAddress/ram:CountryID") == ["FR"]
    assert "BR-IC-12" not in validate_einvoice(ubl).rule_ids
    assert validate_einvoice(ubl).errors == ()
    assert validate_einvoice(cii).errors == ()


def test_a_document_that_breaks_the_rules_is_not_stored_and_says_which_rules(clerk):
    invoice = invoice_for(buyer(clerk), clerk)

    with pytest.raises(EInvoiceInvalid) as refused:
        documents.document_for(invoice=invoice, format=DocumentFormat.UBL)

    assert refused.value.fields == {"rules": ["[PEPPOL-EN16931-R010] Buyer electronic address MUST be provided"]}
    assert not StoredDocument.objects.filter(invoice=invoice).exists()


# -- Peppol IDs on the company and on issued invoices ------------------------------------------------


def test_the_company_peppol_id_is_checked_and_looked_up(clerk, company):
    saved = save_company_profile(actor=clerk, data={"tax_id": "DE136695976", "peppol_scheme": "9930", "peppol_id": ""})

    assert (saved.peppol_scheme, saved.peppol_id) == ("9930", "DE136695976")
    with pytest.raises(InvalidInput) as refused:
        save_company_profile(actor=clerk, data={"peppol_scheme": "0088", "peppol_id": "123"})
    assert list(refused.value.fields) == ["peppol_id"]
    assert CompanyProfile.objects.values_list("peppol_scheme", "peppol_id").get() == ("9930", "DE136695976")


def test_an_invoice_whose_buyer_has_no_peppol_id_says_so_when_issued(clerk, customer, api_client_for):
    invoice = manual_invoice(customer, clerk, ("1", "100", "19"))
    reader = api_client_for("invoices:read")

    detail = reader.get(f"/api/v1/invoices/{invoice.pk}/").json()
    customer_services.update_customer(
        customer=customer, actor=clerk, data={"peppol_scheme": "0088", "peppol_id": "4012345000009"}
    )
    invoice.customer.refresh_from_db()

    assert detail["einvoice_problems"] == [
        f"{customer} has neither a Peppol ID nor a VAT ID to derive one from: its e-invoice is refused "
        "(PEPPOL-EN16931-R010) and waits until a Peppol ID is set on the customer."
    ]
    assert peppol_endpoint_problems(invoice) == []


# -- the validator ------------------------------------------------------------------------------------

UBL_SKELETON = b"""<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
 xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
 xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
 <cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0</cbc:CustomizationID>
 <cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</cbc:ProfileID>
 <cbc:ID>T-1</cbc:ID><cbc:IssueDate>2026-01-15</cbc:IssueDate><cbc:DueDate>2026-02-14</cbc:DueDate>
 <cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode><cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
 <cbc:BuyerReference>C000001</cbc:BuyerReference>
 <cac:AccountingSupplierParty><cac:Party><cbc:EndpointID schemeID="9930">DE136695976</cbc:EndpointID>
  <cac:PostalAddress><cbc:CityName>Hamburg</cbc:CityName><cac:Country><cbc:IdentificationCode>DE</cbc:IdentificationCode></cac:Country></cac:PostalAddress>
  <cac:PartyTaxScheme><cbc:CompanyID>DE136695976</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>
  <cac:PartyLegalEntity><cbc:RegistrationName>Seller GmbH</cbc:RegistrationName></cac:PartyLegalEntity>
 </cac:Party></cac:AccountingSupplierParty>
 <cac:AccountingCustomerParty><cac:Party><cbc:EndpointID schemeID="0088">4012345000009</cbc:EndpointID>
  <cac:PostalAddress><cbc:CityName>Berlin</cbc:CityName><cac:Country><cbc:IdentificationCode>DE</cbc:IdentificationCode></cac:Country></cac:PostalAddress>
  <cac:PartyLegalEntity><cbc:RegistrationName>Buyer GmbH</cbc:RegistrationName></cac:PartyLegalEntity>
 </cac:Party></cac:AccountingCustomerParty>
 <cac:PaymentMeans><cbc:PaymentMeansCode>58</cbc:PaymentMeansCode>
  <cac:PayeeFinancialAccount><cbc:ID>DE89370400440532013000</cbc:ID></cac:PayeeFinancialAccount></cac:PaymentMeans>
 <cac:TaxTotal><cbc:TaxAmount currencyID="EUR">1.90</cbc:TaxAmount>
  <cac:TaxSubtotal><cbc:TaxableAmount currencyID="EUR">10.00</cbc:TaxableAmount>
   <cbc:TaxAmount currencyID="EUR">1.90</cbc:TaxAmount>
   <cac:TaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>19</cbc:Percent><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:TaxCategory>
  </cac:TaxSubtotal></cac:TaxTotal>
 <cac:LegalMonetaryTotal><cbc:LineExtensionAmount currencyID="EUR">10.00</cbc:LineExtensionAmount>
  <cbc:TaxExclusiveAmount currencyID="EUR">10.00</cbc:TaxExclusiveAmount>
  <cbc:TaxInclusiveAmount currencyID="EUR">11.90</cbc:TaxInclusiveAmount>
  <cbc:PayableAmount currencyID="EUR">11.90</cbc:PayableAmount></cac:LegalMonetaryTotal>
 <cac:InvoiceLine><cbc:ID>1</cbc:ID><cbc:InvoicedQuantity unitCode="C62">1</cbc:InvoicedQuantity>
  <cbc:LineExtensionAmount currencyID="EUR">10.00</cbc:LineExtensionAmount>
  <cac:Item><cbc:Name>Widget</cbc:Name><cac:ClassifiedTaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>19</cbc:Percent>
   <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:ClassifiedTaxCategory></cac:Item>
  <cac:Price><cbc:PriceAmount currencyID="EUR">10.00</cbc:PriceAmount></cac:Price></cac:InvoiceLine>
</Invoice>
"""


def test_a_minimal_valid_invoice_passes_all_rule_sets():
    report = validate_einvoice(UBL_SKELETON)

    assert report.rule_sets == ("XSD", "cen-ubl", "peppol-ubl")
    assert [str(error) for error in report.errors] == []


def test_a_byte_order_mark_does_not_stop_the_validator():
    report = validate_einvoice(BYTE_ORDER_MARK + UBL_SKELETON)

    assert (report.is_valid, report.rule_sets) == (True, ("XSD", "cen-ubl", "peppol-ubl"))


def test_an_email_endpoint_is_refused_by_the_peppol_code_list():
    xml = UBL_SKELETON.replace(b'schemeID="0088">4012345000009', b'schemeID="EM">ap@buyer.example')

    assert validate_einvoice(xml).rule_ids == ["PEPPOL-EN16931-CL008"]


def test_malformed_xml_or_another_document_is_reported_not_raised():
    truncated = validate_einvoice(UBL_SKELETON[:200])
    order = validate_einvoice(b'<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2"/>')
    empty_invoice = validate_einvoice(b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"/>')

    assert (truncated.rule_ids, order.rule_ids, empty_invoice.rule_ids) == (["XML"], ["XML"], ["XSD"])


SCHEMATRON = b"""<schema xmlns="http://purl.oclc.org/dsdl/schematron" queryBinding="xslt2">
  <title>test</title>
  <pattern>
    <rule context="item[@kind = 'a']"><assert id="A" test="false()" flag="fatal">first rule</assert></rule>
    <rule context="item"><assert id="B" test="false()" flag="fatal">second rule</assert></rule>
  </pattern>
  <pattern>
    <let name="limit" value="2"/>
    <rule context="item"><report id="C" test="@n > $limit" flag="warning">over <x/></report></rule>
  </pattern>
</schema>"""


def test_the_schematron_compiler_fires_only_the_first_matching_rule_of_a_pattern():
    from saxonche import PySaxonProcessor

    source = SCHEMATRON.replace(b" <x/>", b"")
    saxon = PySaxonProcessor(license=False)
    stylesheet = saxon.new_xslt30_processor().compile_stylesheet(stylesheet_text=compile_schematron(source).decode())
    document = saxon.parse_xml(xml_text='<list><item kind="a" n="1"/><item n="3"/></list>')

    svrl = etree.fromstring(stylesheet.transform_to_string(xdm_node=document).encode())

    fired = [(node.get("id"), node.get("location")) for node in svrl.iter("{*}failed-assert", "{*}successful-report")]
    assert fired == [("A", "/Q{}list[1]/Q{}item[1]"), ("B", "/Q{}list[1]/Q{}item[2]"), ("C", "/Q{}list[1]/Q{}item[2]")]


def test_the_schematron_compiler_refuses_what_it_would_silently_drop():
    with pytest.raises(SchematronNotSupported):
        compile_schematron(SCHEMATRON)
