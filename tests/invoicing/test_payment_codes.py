"""The RF creditor reference (ISO 11649) and the EPC QR code on the portal's invoice page and the PDF."""

import io
from decimal import Decimal

import pytest
from django.test import Client
from pypdf import PdfReader
from segno import helpers
from stdnum import iso11649

from customers import services as customer_services
from customers.models import PortalRole
from invoicing import services as invoicing
from invoicing.documents.render import invoice_html, render_invoice_pdf
from otc.document_numbers import creditor_reference, is_valid_creditor_reference
from tests import factories
from tests.factories import CustomerFactory

D = Decimal


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_creditor_reference_follows_iso_11649():
    assert creditor_reference("539007547034") == "RF18539007547034"  # the standard's example
    assert creditor_reference("INV-2026-000123") == "RF98INV2026000123"
    assert is_valid_creditor_reference("RF18 5390 0754 7034")
    assert not is_valid_creditor_reference("RF19539007547034")
    assert not is_valid_creditor_reference("INV-2026-000123")


@pytest.mark.django_db
def test_the_invoice_page_shows_the_reference_and_a_girocode(clerk, company):
    customer = CustomerFactory(actor=clerk, legal_name="Nordwind Handel GmbH")
    line = invoicing.ManualLine(
        description="Service", quantity=Decimal("1"), unit_price=Decimal("100"), tax_rate=Decimal("19")
    )
    invoice = invoicing.create_manual_invoice(customer=customer, lines=[line], actor=clerk)
    client = Client()
    client.force_login(
        customer_services.grant_portal_access(
            customer=customer, actor=clerk, email="ap@nordwind.example", roles=[PortalRole.ACCOUNTS_PAYABLE]
        )
    )

    page = client.get(f"/portal/invoices/{invoice.pk}/").content.decode()

    assert creditor_reference(invoice.number) in page
    assert is_valid_creditor_reference(creditor_reference(invoice.number))
    assert "DE89370400440532013000" in page
    assert 'src="data:image/svg+xml' in page
    assert "119.00 EUR" in page


@pytest.mark.django_db
@pytest.mark.usefixtures("media_root")
def test_the_invoice_pdf_prints_the_creditor_reference_and_the_epc_qr_code_paying_the_amount_due(clerk, buyer, company):
    invoice = factories.manual_invoice(buyer, clerk, ("2", "76.69", "19"))
    reference = creditor_reference(invoice.number)

    text = pdf_text(render_invoice_pdf(invoice))
    html = invoice_html(invoice)

    assert f"Payment reference: {iso11649.format(reference)} (invoice {invoice.number})" in text
    assert is_valid_creditor_reference(iso11649.format(reference))
    assert invoice.gross_total == D("182.52")
    girocode = helpers.make_epc_qr(
        name="Hanse Werkzeug GmbH",
        iban="DE89370400440532013000",
        amount=D("182.52"),
        reference=reference,
        bic="HASPDEHHXXX",
    )
    assert f'src="{girocode.svg_data_uri(scale=4, border=2)}"' in html
    assert "Scan the code with your banking app" in text


@pytest.mark.django_db
@pytest.mark.usefixtures("media_root")
def test_a_credit_note_and_a_draft_carry_no_creditor_reference_or_qr_code(clerk, buyer, company):
    draft = factories.manual_invoice(buyer, clerk, ("1", "100", "19"), issue=False)
    invoice = factories.manual_invoice(buyer, clerk, ("1", "100", "19"))
    note = invoicing.issue_credit_note(invoice=invoice, actor=clerk, reason="Returned")

    for document in (draft, note):
        text = pdf_text(render_invoice_pdf(document))
        assert "RF" not in text.replace("DRAFT", "")
        assert "data:image/svg+xml" not in invoice_html(document)
