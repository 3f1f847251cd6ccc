"""XRechnung for German public-sector buyers: the Leitweg-ID on the customer, the document, its BR-DE
rules, and delivery that waits when a rule is broken."""

import pytest
from django.core import mail
from lxml import etree

from customers import services as customer_services
from customers.leitweg import leitweg_check_digits, normalize_leitweg_id
from customers.models import Customer, Preferences
from invoicing import services
from invoicing.einvoice.ubl import XRECHNUNG_CUSTOMIZATION_ID, invoice_xrechnung
from invoicing.einvoice.validation import validate_einvoice
from invoicing.models import InvoiceDeliveryLog, StoredDocument
from otc.errors import InvalidInput
from otc.models import CompanyProfile
from tests.factories import CustomerFactory, manual_invoice
from tests.support.outbox import run_outbox
from workflows.models import EventStatus
from workflows.services import retry_event

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root", "company")]
LEITWEG_ID = "04011000-1234512345-06"
INVOICES = "/api/v1/invoices/"
NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}


@pytest.fixture
def reachable_seller(company):
    """XRechnung wants a telephone number for the seller's contact (BR-DE-6); the shared company has none."""
    CompanyProfile.objects.filter(pk=company.pk).update(phone="+49 40 1234567")


@pytest.fixture
def authority(clerk):
    """A public-sector buyer without VAT ID, who gets XRechnung."""
    return CustomerFactory(
        actor=clerk,
        legal_name="Freie und Hansestadt Hamburg, Finanzbehörde",
        leitweg_id=LEITWEG_ID,
        contacts=[{"name": "Rechnungseingang", "email": "xrechnung@fb.hamburg.example", "roles": ["billing"]}],
        addresses=[
            {"kind": "billing", "line1": "Gänsemarkt 36", "postal_code": "20354", "city": "Hamburg", "country": "DE"}
        ],
        preferences={"invoice_delivery": "xrechnung"},
    )


def texts(xml: bytes, path: str) -> list[str]:
    return [node.text for node in etree.fromstring(xml).xpath(path, namespaces=NS)]


def without(xml: bytes, path: str) -> bytes:
    root = etree.fromstring(xml)
    for node in root.xpath(path, namespaces=NS):
        node.getparent().remove(node)
    return etree.tostring(root)


@pytest.mark.parametrize(
    "leitweg_id", ["04011000-1234512345-06", "991-33333TEST-33", "992-90009-96", " 991-33333test-33 "]
)
def test_leitweg_ids_with_right_check_digits_are_taken_in_capitals(leitweg_id):
    assert normalize_leitweg_id(leitweg_id) == leitweg_id.strip().upper()


@pytest.mark.parametrize(
    ("leitweg_id", "says"),
    [
        ("04011000-1234512345-07", "check digits of the Leitweg-ID 04011000-1234512345-07 are wrong (expected 06)"),
        ("4-1234512345-06", "is not a Leitweg-ID"),
        ("04011000_1234512345-06", "is not a Leitweg-ID"),
        ("04011000-1234512345", "is not a Leitweg-ID"),
    ],
)
def test_a_wrong_leitweg_id_is_refused_saying_why(clerk, leitweg_id, says):
    with pytest.raises(InvalidInput) as refused:
        CustomerFactory(actor=clerk, legal_name="Amt", leitweg_id=leitweg_id)
    assert says in str(refused.value)
    assert refused.value.fields["leitweg_id"]
    assert not Customer.objects.filter(legal_name="Amt").exists()


def test_check_digits_follow_iso_7064_mod_97_10():
    assert leitweg_check_digits("04011000", "1234512345") == "06"
    assert leitweg_check_digits("991", "33333TEST") == "33"


def test_xrechnung_delivery_needs_a_leitweg_id_on_every_path(clerk):
    with pytest.raises(InvalidInput) as refused:
        CustomerFactory(actor=clerk, legal_name="Landratsamt", preferences={"invoice_delivery": "xrechnung"})
    assert "leitweg_id" in refused.value.fields
    assert not Customer.objects.filter(legal_name="Landratsamt").exists()

    customer = CustomerFactory(actor=clerk, legal_name="Stadtwerke")
    with pytest.raises(InvalidInput):
        customer_services.update_preferences(customer=customer, actor=clerk, data={"invoice_delivery": "xrechnung"})
    assert Preferences.objects.get(customer=customer).invoice_delivery == "pdf_email"

    customer_services.update_customer(customer=customer, actor=clerk, data={"leitweg_id": "991-33333test-33"})
    customer_services.update_preferences(customer=customer, actor=clerk, data={"invoice_delivery": "xrechnung"})
    with pytest.raises(InvalidInput):
        customer_services.update_customer(customer=customer, actor=clerk, data={"leitweg_id": ""})
    assert Customer.objects.get(pk=customer.pk).leitweg_id == "991-33333TEST-33"


@pytest.mark.usefixtures("reachable_seller")
def test_a_public_sector_buyer_gets_one_valid_xrechnung_addressed_by_its_leitweg_id(clerk, authority):
    mail.outbox.clear()
    invoice = manual_invoice(authority, clerk, ("2", "150.00", "19"))

    run_outbox("invoice.issued")

    (message,) = mail.outbox
    ((filename, xml, mimetype),) = message.attachments
    assert (filename, mimetype) == (f"{invoice.number}-xrechnung.xml", "application/xml")
    assert texts(xml, "/*/cbc:CustomizationID") == [XRECHNUNG_CUSTOMIZATION_ID]
    assert texts(xml, "/*/cbc:BuyerReference") == [LEITWEG_ID]
    endpoint = etree.fromstring(xml).find(".//cac:AccountingCustomerParty/cac:Party/cbc:EndpointID", NS)
    assert (endpoint.get("schemeID"), endpoint.text) == ("0204", LEITWEG_ID)
    assert texts(xml, "//cac:LegalMonetaryTotal/cbc:PayableAmount") == ["357.00"]
    report = validate_einvoice(xml)
    assert report.rule_sets == ("XSD", "cen-ubl", "xrechnung")
    assert (report.errors, [warning.rule_id for warning in report.warnings]) == ((), [])
    assert InvoiceDeliveryLog.objects.get(invoice=invoice).formats == ["xrechnung"]


@pytest.mark.usefixtures("reachable_seller")
def test_an_xrechnung_credit_note_passes_the_rules(clerk, authority):
    invoice = manual_invoice(authority, clerk, ("1", "80.00", "7"))
    note = services.issue_credit_note(invoice=invoice, actor=clerk, reason="Storniert")

    report = validate_einvoice(invoice_xrechnung(note))

    assert report.is_valid, report.errors
    assert texts(invoice_xrechnung(note), "/*/cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID") == [
        invoice.number
    ]


def test_without_the_sellers_telephone_the_xrechnung_waits_unsent_naming_br_de_6(clerk, authority, company):
    mail.outbox.clear()
    invoice = manual_invoice(authority, clerk, ("1", "100.00", "19"))

    (event,) = run_outbox("invoice.issued")

    event.refresh_from_db()
    assert (event.status, mail.outbox) == (EventStatus.PENDING, [])
    assert "[BR-DE-6] The seller's contact telephone number (BT-42) is required." in event.last_error
    assert not StoredDocument.objects.filter(invoice=invoice).exists()
    assert not InvoiceDeliveryLog.objects.filter(invoice=invoice).exists()

    CompanyProfile.objects.filter(pk=company.pk).update(phone="040 1234567")
    retry_event(event=event)
    run_outbox("invoice.issued")

    assert [attachment[0] for attachment in mail.outbox[0].attachments] == [f"{invoice.number}-xrechnung.xml"]


@pytest.mark.usefixtures("reachable_seller")
@pytest.mark.parametrize(
    ("broken", "rule_id"),
    [
        (lambda xml: without(xml, "/*/cbc:BuyerReference"), "BR-DE-15"),
        (lambda xml: without(xml, "//cac:AccountingSupplierParty//cac:Contact/cbc:Telephone"), "BR-DE-6"),
        (lambda xml: without(xml, "//cac:AccountingSupplierParty//cac:Contact/cbc:ElectronicMail"), "BR-DE-7"),
        (lambda xml: without(xml, "//cac:AccountingCustomerParty//cac:PostalAddress/cbc:PostalZone"), "BR-DE-9"),
        (lambda xml: without(xml, "//cac:PayeeFinancialAccount"), "BR-DE-23-a"),
        (lambda xml: without(xml, "//cac:AccountingSupplierParty//cac:PartyTaxScheme"), "BR-DE-16"),
        (lambda xml: xml.replace(b"</cbc:Note>", b"\n#SKONTO#TAGE=14#PROZENT=2#\n</cbc:Note>", 1), "BR-DE-18"),
    ],
)
def test_each_broken_br_de_rule_is_named(clerk, authority, broken, rule_id):
    invoice = manual_invoice(authority, clerk, ("1", "100.00", "19"))
    xml = invoice_xrechnung(invoice)
    assert validate_einvoice(xml).is_valid

    report = validate_einvoice(broken(xml))

    assert rule_id in report.rule_ids


@pytest.mark.usefixtures("reachable_seller")
def test_a_well_formed_cash_discount_line_is_accepted(clerk, authority):
    invoice = manual_invoice(authority, clerk, ("1", "100.00", "19"))
    xml = invoice_xrechnung(invoice).replace(b"</cbc:Note>", b"\n#SKONTO#TAGE=14#PROZENT=2.00#\n</cbc:Note>", 1)
    assert b"#SKONTO#" in xml

    assert "BR-DE-18" not in validate_einvoice(xml).rule_ids


@pytest.mark.usefixtures("reachable_seller")
def test_the_api_serves_the_xrechnung_and_links_it(api_client_for, clerk, authority):
    reader = api_client_for("invoices:read")
    invoice = manual_invoice(authority, clerk, ("1", "100.00", "19"))

    detail = reader.get(f"{INVOICES}{invoice.pk}/").json()
    response = reader.get(f"{INVOICES}{invoice.pk}/xrechnung/")

    assert detail["links"]["xrechnung"].endswith(f"{INVOICES}{invoice.pk}/xrechnung/")
    assert (response.status_code, response["Content-Type"]) == (200, "application/xml")
    assert LEITWEG_ID.encode() in b"".join(response.streaming_content)
