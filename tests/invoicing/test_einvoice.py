from datetime import date
from decimal import Decimal
from io import BytesIO

import facturx
import pytest
import weasyprint
from lxml import etree
from pypdf import PdfReader

from customers import services as customer_services
from invoicing import services
from invoicing.einvoice.cii import invoice_cii
from invoicing.einvoice.facturx import facturx_pdf
from invoicing.einvoice.ubl import invoice_ubl
from invoicing.einvoice.validation import validate_einvoice
from otc.document_numbers import creditor_reference, is_valid_creditor_reference
from otc.models import CompanyProfile, ExchangeRate
from tests.factories import CustomerFactory, approved_limit, placed_order, ship

pytestmark = pytest.mark.django_db
D = Decimal
UBL = {
    "ubl": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "cn": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
CII = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
}


@pytest.fixture(autouse=True)
def company(db):
    return CompanyProfile.objects.create(
        pk=1,
        legal_name="OTC Demo Trading GmbH",
        line1="Speicherstadt 1",
        postal_code="20457",
        city="Hamburg",
        country="DE",
        tax_id="DE136695976",
        registration="Amtsgericht Hamburg HRB 123456",
        email="billing@otc-demo.example",
        phone="+49 40 1234567",
        bank_name="Commerzbank",
        iban="DE89370400440532013000",
        bic="COBADEFFXXX",
    )


def valid_ubl(invoice) -> etree._Element:
    """The invoice's UBL, after checking it passes the XSD, the CEN EN 16931 and the Peppol BIS 3 rules."""
    xml = invoice_ubl(invoice)
    report = validate_einvoice(xml)
    assert report.rule_sets == ("XSD", "cen-ubl", "peppol-ubl")
    assert [str(error) for error in report.errors] == [], xml.decode()
    return etree.fromstring(xml)


def valid_cii(invoice) -> etree._Element:
    """The invoice's Factur-X CII, after checking it against the Factur-X EN 16931 XSD and schematron."""
    xml = invoice_cii(invoice)
    report = validate_einvoice(xml)
    assert report.rule_sets == ("XSD", "facturx-en16931")
    assert [str(error) for error in report.errors] == [], xml.decode()
    return etree.fromstring(xml)


def texts(root: etree._Element, path: str, namespaces=UBL) -> list[str]:
    return [
        node.text if isinstance(node, etree._Element) else str(node) for node in root.xpath(path, namespaces=namespaces)
    ]


def give_peppol_id(customer, clerk, scheme: str, identifier: str = "") -> None:
    customer_services.update_customer(
        customer=customer, actor=clerk, data={"peppol_scheme": scheme, "peppol_id": identifier}
    )
    customer.refresh_from_db()


@pytest.fixture
def domestic_invoice(clerk, customer, shipment):
    """12 widgets at 9.00 less 6.9 % (19 %) and 3 manuals at 19.99 less 2 % (7 %): 182.53 gross. The
    buyer has no VAT ID; its Peppol ID is a GLN."""
    give_peppol_id(customer, clerk, "0088", "4012345000009")
    return services.invoice_shipments(shipments=[shipment], actor=clerk)


def test_domestic_invoice_with_two_rates_and_discounts_is_valid_peppol_ubl(domestic_invoice):
    root = valid_ubl(domestic_invoice)

    assert texts(root, "/ubl:Invoice/cbc:ID") == [domestic_invoice.number]
    assert texts(root, "/ubl:Invoice/cbc:InvoiceTypeCode") == ["380"]
    assert texts(root, "//cac:LegalMonetaryTotal/cbc:PayableAmount") == ["182.53"]
    assert texts(root, "//cac:LegalMonetaryTotal/cbc:LineExtensionAmount") == ["159.32"]
    assert texts(root, "//cac:TaxSubtotal/cbc:TaxableAmount") == ["100.55", "58.77"]
    assert texts(root, "//cac:TaxSubtotal/cbc:TaxAmount") == ["19.10", "4.11"]
    # 12 × 9.00 = 108.00 less the 6.9 % discount: 7.45, so the line nets 100.55 to the cent.
    assert texts(root, "//cac:InvoiceLine[1]/cac:AllowanceCharge/cbc:Amount") == ["7.45"]
    assert texts(root, "//cac:OrderReference/cbc:ID") == ["PO-4711"]
    assert texts(root, "//cac:PayeeFinancialAccount/cbc:ID") == ["DE89370400440532013000"]
    # The RF creditor reference the PDF and QR code carry, so the payer's bank hands it back to matching.
    assert texts(root, "//cac:PaymentMeans/cbc:PaymentID") == [creditor_reference(domestic_invoice.number)]
    assert is_valid_creditor_reference(creditor_reference(domestic_invoice.number))
    assert texts(root, "//cac:AccountingSupplierParty//cbc:EndpointID/@schemeID") == ["9930"]
    assert texts(root, "//cac:AccountingCustomerParty//cbc:EndpointID") == ["4012345000009"]
    assert texts(root, "//cac:AccountingCustomerParty//cbc:EndpointID/@schemeID") == ["0088"]


def test_domestic_invoice_is_valid_facturx_cii(domestic_invoice):
    root = valid_cii(domestic_invoice)

    assert texts(root, "//rsm:ExchangedDocument/ram:ID", CII) == [domestic_invoice.number]
    assert texts(root, "//ram:DuePayableAmount", CII) == ["182.53"]
    assert texts(root, "//ram:ApplicableHeaderTradeSettlement/ram:PaymentReference", CII) == [
        creditor_reference(domestic_invoice.number)
    ]
    assert texts(root, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CalculatedAmount", CII) == [
        "19.10",
        "4.11",
    ]


def test_partial_credit_note_references_the_invoice(clerk, domestic_invoice):
    widget_line = domestic_invoice.lines.get(line_no=1)
    note = services.issue_credit_note(
        invoice=domestic_invoice,
        actor=clerk,
        reason="Five widgets damaged in transit",
        lines=[services.CreditLine(widget_line, quantity=D("5"))],
    )

    root = valid_ubl(note)
    # 5 × 9.00 × 0.931 = 41.895 -> 41.90 net, 19 % VAT 7.96.
    assert texts(root, "/cn:CreditNote/cbc:ID") == [note.number]
    assert texts(root, "/cn:CreditNote/cbc:CreditNoteTypeCode") == ["381"]
    assert texts(root, "//cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID") == [domestic_invoice.number]
    assert texts(root, "//cac:CreditNoteLine/cbc:CreditedQuantity") == ["5"]
    assert texts(root, "//cac:PaymentMeans/cbc:PaymentID") == [note.number]  # set off, not paid: no RF reference
    assert texts(root, "//cac:TaxSubtotal/cbc:TaxAmount") == ["7.96"]
    assert texts(root, "//cac:LegalMonetaryTotal/cbc:PayableAmount") == ["49.86"]

    cii = valid_cii(note)
    assert texts(cii, "//rsm:ExchangedDocument/ram:TypeCode", CII) == ["381"]
    assert texts(cii, "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID", CII) == [domestic_invoice.number]


@pytest.fixture
def french_customer(clerk, approver):
    customer = CustomerFactory(
        actor=clerk,
        legal_name="Mistral Distribution SARL",
        country="FR",
        tax_id="FR40303265045",
        contacts=[{"name": "Camille Comptable", "email": "factures@mistral.example", "roles": ["billing"]}],
        addresses=[
            {
                "kind": "billing",
                "line1": "12 rue de la République",
                "postal_code": "69002",
                "city": "Lyon",
                "country": "FR",
            },
            {
                "kind": "shipping",
                "line1": "Zone Portuaire 4",
                "postal_code": "13002",
                "city": "Marseille",
                "country": "FR",
            },
        ],
    )
    approved_limit(customer, limit="10000", clerk=clerk, approver=approver)
    return customer


def test_intra_community_supply_is_reverse_charged_with_delivery_date_and_country(clerk, french_customer, widget):
    order = placed_order(french_customer, clerk, (widget, "4"), po_number="BC-2024-118")
    invoice = services.invoice_shipments(shipments=[ship(order, clerk)], actor=clerk)

    root = valid_ubl(invoice)
    assert texts(root, "//cac:TaxSubtotal/cac:TaxCategory/cbc:ID") == ["K"]
    assert texts(root, "//cac:TaxSubtotal/cac:TaxCategory/cbc:TaxExemptionReasonCode") == ["VATEX-EU-IC"]
    assert texts(root, "//cac:TaxSubtotal/cbc:TaxAmount") == ["0.00"]
    assert texts(root, "//cac:TaxSubtotal/cbc:TaxableAmount") == ["40.00"]
    assert texts(root, "//cac:LegalMonetaryTotal/cbc:PayableAmount") == ["40.00"]
    assert texts(root, "//cac:Delivery/cbc:ActualDeliveryDate") == [invoice.delivery_date.isoformat()]
    assert texts(root, "//cac:DeliveryLocation//cbc:IdentificationCode") == ["FR"]
    assert texts(root, "//cac:AccountingCustomerParty//cbc:EndpointID/@schemeID") == ["9957"]
    assert texts(root, "//cac:AccountingCustomerParty//cac:PartyTaxScheme/cbc:CompanyID") == ["FR40303265045"]

    cii = valid_cii(invoice)
    assert texts(cii, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode", CII) == ["K"]


def test_export_to_a_us_customer_is_zero_rated_category_g(clerk):
    customer = CustomerFactory(
        actor=clerk,
        legal_name="Prairie Supply Inc.",
        country="US",
        peppol_scheme="0060",
        peppol_id="150483782",
        default_currency="EUR",
        contacts=[{"name": "Accounts Payable", "email": "ap@prairie.example", "roles": ["billing"]}],
        addresses=[
            {
                "kind": "billing",
                "line1": "500 Main St",
                "postal_code": "68102",
                "city": "Omaha",
                "region": "NE",
                "country": "US",
            }
        ],
    )
    invoice = services.create_manual_invoice(
        customer=customer,
        actor=clerk,
        lines=[
            services.ManualLine(
                description="Spare parts kit",
                quantity=D("3"),
                unit_price=D("125.50"),
                tax_rate=D("0"),
                tax_category="G",
                tax_note="Export outside the EU, zero-rated",
            )
        ],
    )

    root = valid_ubl(invoice)
    assert texts(root, "//cac:TaxSubtotal/cac:TaxCategory/cbc:ID") == ["G"]
    assert texts(root, "//cac:TaxSubtotal/cac:TaxCategory/cbc:TaxExemptionReason") == [
        "Export outside the EU, zero-rated"
    ]
    assert texts(root, "//cac:LegalMonetaryTotal/cbc:PayableAmount") == ["376.50"]
    assert texts(root, "//cac:AccountingCustomerParty//cbc:EndpointID/@schemeID") == ["0060"]

    valid_cii(invoice)


def test_usd_invoice_states_the_vat_in_euro_as_well(clerk, customer):
    give_peppol_id(customer, clerk, "0088", "4000001000005")
    ExchangeRate.objects.create(currency="USD", rate_date=date(2020, 1, 1), rate=D("0.9"))
    invoice = services.create_manual_invoice(
        customer=customer,
        actor=clerk,
        currency="USD",
        lines=[
            services.ManualLine(
                description="Installation service", quantity=D("7.5"), unit_price=D("80"), tax_rate=D("19")
            )
        ],
    )

    root = valid_ubl(invoice)
    # 7.5 h × 80.00 = 600.00 USD, VAT 114.00 USD = 102.60 EUR at 0.9.
    assert texts(root, "/ubl:Invoice/cbc:TaxCurrencyCode") == ["EUR"]
    assert texts(root, "//cac:TaxTotal/cbc:TaxAmount") == ["114.00", "102.60"]
    assert texts(root, "//cac:TaxTotal/cbc:TaxAmount/@currencyID") == ["USD", "EUR"]
    assert texts(root, "//cac:LegalMonetaryTotal/cbc:PayableAmount") == ["714.00"]

    cii = valid_cii(invoice)
    assert texts(cii, "//ram:TaxTotalAmount", CII) == ["114.00", "102.60"]


def test_facturx_pdf_carries_the_cii_and_gives_it_back(domestic_invoice):
    pdf = weasyprint.HTML(string=f"<h1>Invoice {domestic_invoice.number}</h1>").write_pdf(pdf_variant="pdf/a-3b")

    document = facturx_pdf(domestic_invoice, pdf, invoice_cii(domestic_invoice))

    filename, xml = facturx.get_facturx_xml_from_pdf(document, check_xsd=True)
    assert (filename, xml) == ("factur-x.xml", invoice_cii(domestic_invoice))
    assert validate_einvoice(xml).errors == ()
    metadata = PdfReader(BytesIO(document)).xmp_metadata.rdf_root.toxml()
    assert "<pdfaid:part>3</pdfaid:part>" in metadata
    assert "<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>" in metadata


def _fonts(reader: PdfReader) -> list:
    fonts = []
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            descendants = [item.get_object() for item in font.get("/DescendantFonts", [])]
            fonts += [font, *descendants]
    return fonts


@pytest.mark.usefixtures("media_root")
def test_the_stored_facturx_is_pdf_a_3_in_structure(domestic_invoice):
    """What a PDF/A-3 validator (veraPDF) checks first, and what Factur-X adds: identification and Factur-X
    metadata in XMP, an output intent with its ICC profile, the XML embedded as an associated file
    (catalog /AF, relationship given, MIME type text/xml), every font embedded, no encryption."""
    from invoicing.documents.services import document_for

    stored = document_for(invoice=domestic_invoice, format="facturx")
    with stored.file.open("rb") as file:
        reader = PdfReader(BytesIO(file.read()))
    catalog = reader.trailer["/Root"]

    assert not reader.is_encrypted
    metadata = reader.xmp_metadata.rdf_root.toxml()
    for expected in (
        "<pdfaid:part>3</pdfaid:part>",
        "<pdfaid:conformance>B</pdfaid:conformance>",
        "<fx:DocumentType>INVOICE</fx:DocumentType>",
        "<fx:DocumentFileName>factur-x.xml</fx:DocumentFileName>",
        "<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>",
    ):
        assert expected in metadata
    (intent,) = [item.get_object() for item in catalog["/OutputIntents"]]
    assert intent["/S"] == "/GTS_PDFA1"
    assert len(intent["/DestOutputProfile"].get_object().get_data()) > 1000
    (associated,) = [item.get_object() for item in catalog["/AF"]]
    assert associated["/F"] == "factur-x.xml"
    assert associated["/AFRelationship"] in {"/Data", "/Alternative", "/Source"}
    embedded = associated["/EF"]["/F"].get_object()
    assert embedded["/Subtype"] == "/text/xml"
    assert embedded.get_data() == invoice_cii(domestic_invoice)
    names = catalog["/Names"]["/EmbeddedFiles"]["/Names"]
    assert names[0] == "factur-x.xml"
    fonts = _fonts(reader)
    assert fonts
    embedded_fonts = [
        font
        for font in fonts
        if font.get("/Subtype") == "/Type0"
        or any(key in font.get("/FontDescriptor", {}) for key in ("/FontFile", "/FontFile2", "/FontFile3"))
    ]
    assert embedded_fonts == fonts
