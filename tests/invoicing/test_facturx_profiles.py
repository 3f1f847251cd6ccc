"""Factur-X in the profile each customer chose: the CII carries that profile's guideline ID and only
what its XSD allows (no lines in MINIMUM and BASIC WL), passes the profile's own rules, and the PDF
around it is structurally PDF/A-3 with the XML attached as the invoice's data."""

from decimal import Decimal

import facturx
import pytest
from lxml import etree
from pypdf import PdfReader

from customers.models import FacturXProfile, Preferences
from invoicing import services
from invoicing.documents.services import document_for
from invoicing.einvoice.cii import RAM, invoice_cii
from invoicing.einvoice.validation import validate_einvoice
from invoicing.models import DocumentFormat, Invoice

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("company")]
D = Decimal
GUIDELINES = {
    "minimum": "urn:factur-x.eu:1p0:minimum",
    "basicwl": "urn:factur-x.eu:1p0:basicwl",
    "basic": "urn:cen.eu:en16931:2017#compliant#urn:factur-x.eu:1p0:basic",
    "en16931": "urn:cen.eu:en16931:2017",
}
LINES = {"minimum": 0, "basicwl": 0, "basic": 2, "en16931": 2}


@pytest.fixture
def invoice(clerk, customer) -> Invoice:
    lines = [
        services.ManualLine(description="Drill", quantity=D("3"), unit_price=D("49.90"), tax_rate=D("19")),
        services.ManualLine(
            description="Manual", quantity=D("1"), unit_price=D("12.00"), tax_rate=D("7"), discount_percent=D("10")
        ),
    ]
    return services.create_manual_invoice(customer=customer, lines=lines, actor=clerk, po_number="PO-77")


@pytest.mark.parametrize("profile", FacturXProfile.values)
def test_the_cii_of_a_profile_carries_its_guideline_and_passes_its_xsd_and_rules(invoice, profile):
    xml = invoice_cii(Invoice.objects.get(pk=invoice.pk), profile)

    root = etree.fromstring(xml)
    assert root.findtext(f".//{{{RAM}}}GuidelineSpecifiedDocumentContextParameter/{{{RAM}}}ID") == GUIDELINES[profile]
    assert len(root.findall(f".//{{{RAM}}}IncludedSupplyChainTradeLineItem")) == LINES[profile]
    assert root.findtext(f".//{{{RAM}}}DuePayableAmount") == "189.70"
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level=profile) is True
    report = validate_einvoice(xml)
    assert report.rule_sets == ("XSD", f"facturx-{profile}")
    assert [str(error) for error in report.errors] == []


def test_a_cii_naming_no_factur_x_profile_is_refused():
    xml = b"""<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
        xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100">
      <rsm:ExchangedDocumentContext><ram:GuidelineSpecifiedDocumentContextParameter>
        <ram:ID>urn:example:not-a-profile</ram:ID>
      </ram:GuidelineSpecifiedDocumentContextParameter></rsm:ExchangedDocumentContext>
    </rsm:CrossIndustryInvoice>"""

    report = validate_einvoice(xml)

    assert report.rule_ids == ["XML"]


def _xmp(reader: PdfReader) -> etree._Element:
    return etree.fromstring(reader.trailer["/Root"]["/Metadata"].get_object().get_data())


def test_the_facturx_pdf_is_pdfa3_with_the_customers_profile_attached_as_data(invoice):
    Preferences.objects.filter(customer_id=invoice.customer_id).update(facturx_profile=FacturXProfile.BASIC_WL)

    stored = document_for(invoice=invoice, format=DocumentFormat.FACTURX)
    with stored.file.open("rb") as file:
        reader = PdfReader(file)
        catalog = reader.trailer["/Root"]

        xmp = _xmp(reader)
        namespaces = {
            "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
            "fx": "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#",
        }

        def xmp_value(path: str) -> str:
            found = xmp.xpath(f"//{path} | //@{path}", namespaces=namespaces)
            assert found, path
            return found[0] if isinstance(found[0], str) else found[0].text

        assert (xmp_value("pdfaid:part"), xmp_value("pdfaid:conformance")) == ("3", "B")
        assert xmp_value("fx:ConformanceLevel") == "BASIC WL"
        assert xmp_value("fx:DocumentFileName") == "factur-x.xml"

        [attached] = [spec.get_object() for spec in catalog["/AF"]]
        assert attached["/F"] == "factur-x.xml"
        assert attached["/AFRelationship"] in ("/Data", "/Alternative")
        names = catalog["/Names"]["/EmbeddedFiles"]["/Names"]
        assert names[0] == "factur-x.xml"
        embedded = attached["/EF"]["/F"].get_object()
        assert embedded["/Subtype"] == "/text/xml"
        xml = embedded.get_data()
        assert GUIDELINES["basicwl"].encode() in xml

        [intent] = [entry.get_object() for entry in catalog["/OutputIntents"]]
        assert intent["/S"] == "/GTS_PDFA1"
        icc = intent["/DestOutputProfile"].get_object()
        assert icc["/N"] == 3
        assert icc.get_data()[36:40] == b"acsp"  # the ICC profile signature
