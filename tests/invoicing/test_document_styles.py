"""Document styles: which style a customer's documents use (customer over group over default), that bad
input changes nothing, that the PDFs show the style's texts in the customer's language and its choice
of columns, that a stored document keeps the look it was issued with, that the admin's preview stores
nothing, and that every change is audited."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from pypdf import PdfReader

from customers import services as customers
from customers.models import CustomerGroup
from customers.selectors import document_style_for
from invoicing import services
from invoicing.documents import services as documents
from invoicing.documents.render import render_invoice_pdf
from invoicing.models import DocumentFormat, StoredDocument
from orders.documents import confirmation_document
from otc.document_styles import save_document_style
from otc.errors import InvalidInput
from otc.models import DOCUMENT_LOGO_MAX_BYTES, DocumentStyle
from tests import factories
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root", "company")]

BRANDED = {
    "name": "Branded",
    "accent_colour": "#0a7f5a",
    "text_colour": "#222222",
    "font_family": "DejaVu Serif",
    "header_text_en": "Quality tools since 1921",
    "header_text_de": "Qualitätswerkzeug seit 1921",
    "footer_text_en": "Thank you for your business",
    "footer_text_de": "Vielen Dank für Ihren Auftrag",
    "payment_terms_de": "Zahlbar ohne Abzug",
}


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def stored_text(document) -> str:
    with document.file.open("rb") as file:
        return pdf_text(file.read())


@pytest.fixture
def branded(clerk) -> DocumentStyle:
    return save_document_style(actor=clerk, data=BRANDED)


def use_style(customer, style, clerk) -> None:
    customers.update_preferences(customer=customer, actor=clerk, data={"document_style": style})


# --- Which style -----------------------------------------------------------------------------------------


def test_a_customer_style_overrides_the_group_style_which_overrides_the_default(clerk, customer):
    default = save_document_style(actor=clerk, data={"name": "House", "is_default": True})
    group_style = save_document_style(actor=clerk, data={"name": "Wholesale"})
    own = save_document_style(actor=clerk, data={"name": "Own"})
    group = CustomerGroup.objects.create(code="wholesale", name="Wholesale")
    customer.group = group
    customer.save(update_fields=["group"])

    assert document_style_for(customer) == default
    customers.set_group_document_style(actor=clerk, group=group, style=group_style)
    customer.refresh_from_db()
    assert document_style_for(customer) == group_style
    use_style(customer, own, clerk)
    customer.refresh_from_db()
    assert document_style_for(customer) == own


def test_without_any_style_the_built_in_look_applies_and_nothing_is_stored(customer):
    style = document_style_for(customer)

    assert (style.pk, style.font_family, style.show_sku) == (None, "DejaVu Sans", True)
    assert not DocumentStyle.objects.exists()


def test_a_new_default_takes_the_default_from_the_old_one(clerk):
    first = save_document_style(actor=clerk, data={"name": "First", "is_default": True})
    second = save_document_style(actor=clerk, data={"name": "Second", "is_default": True})

    assert list(DocumentStyle.objects.filter(is_default=True)) == [second]
    first.refresh_from_db()
    assert first.is_default is False


# --- Bad input changes nothing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("accent_colour", "green"),
        ("text_colour", "#12345"),
        ("font_family", "Comic Sans MS"),
        ("logo", SimpleUploadedFile("big.png", b"\x89PNG" + b"0" * DOCUMENT_LOGO_MAX_BYTES, "image/png")),
        ("logo", SimpleUploadedFile("logo.gif", b"GIF89a", "image/gif")),
    ],
)
def test_a_bad_colour_font_or_logo_is_refused_and_changes_nothing(clerk, branded, field, value):
    events = branded.events.count()

    with pytest.raises(InvalidInput) as refused:
        save_document_style(actor=clerk, style=DocumentStyle.objects.get(pk=branded.pk), data={field: value})

    assert field in refused.value.fields
    stored = DocumentStyle.objects.get(pk=branded.pk)
    assert (stored.accent_colour, stored.text_colour, stored.font_family, stored.logo.name) == (
        "#0a7f5a",
        "#222222",
        "DejaVu Serif",
        "",
    )
    assert branded.events.count() == events


# --- What the documents show -----------------------------------------------------------------------------


@pytest.fixture
def german_buyer(clerk, approver, branded):
    customer = CustomerFactory(actor=clerk, legal_name="Elbe Technik GmbH", language="de")
    factories.approved_limit(customer, limit="10000", clerk=clerk, approver=approver)
    use_style(customer, branded, clerk)
    return customer


def test_the_invoice_shows_header_footer_and_payment_terms_in_the_customer_language(clerk, german_buyer):
    invoice = factories.manual_invoice(german_buyer, clerk, ("1", "100", "19"))

    text = pdf_text(render_invoice_pdf(invoice))

    assert "Qualitätswerkzeug seit 1921" in text
    assert "Vielen Dank für Ihren Auftrag" in text
    assert "Zahlbar ohne Abzug" in text
    assert "Quality tools since 1921" not in text


def test_a_text_missing_in_the_customer_language_falls_back_to_english(clerk, customer, branded):
    use_style(customer, branded, clerk)
    invoice = factories.manual_invoice(customer, clerk, ("1", "100", "19"))

    text = pdf_text(render_invoice_pdf(invoice))

    assert "Quality tools since 1921" in text
    assert "Thank you for your business" in text
    assert "Zahlbar" not in text


def test_optional_columns_and_fields_show_as_the_style_says(clerk, customer, shipment, branded):
    use_style(customer, branded, clerk)
    invoice = services.invoice_shipments(shipments=[shipment], actor=clerk)
    shown = pdf_text(render_invoice_pdf(invoice))
    save_document_style(
        actor=clerk,
        style=branded,
        data={"show_sku": False, "show_tax_rate": False, "show_gtin": True, "show_po_number": False},
    )

    hidden = pdf_text(render_invoice_pdf(invoice))

    assert "SKU" in shown
    assert "SKU" not in hidden
    assert "VAT %" in shown
    assert "VAT %" not in hidden
    assert "GTIN" not in shown
    assert "GTIN" in hidden
    assert "PO-4711" in shown
    assert "PO-4711" not in hidden
    assert "182.53 EUR" in hidden


def test_the_order_confirmation_uses_the_customer_style(clerk, confirmed_order, branded):
    use_style(confirmed_order.customer, branded, clerk)
    save_document_style(actor=clerk, style=branded, data={"show_discount": False})

    text = stored_text(confirmation_document(order=confirmed_order))

    assert "Quality tools since 1921" in text
    assert "Disc. %" not in text


# --- An issued document keeps its look -------------------------------------------------------------------


def test_a_stored_document_keeps_its_look_and_a_new_one_takes_the_new_style(clerk, customer, branded):
    use_style(customer, branded, clerk)
    first = factories.manual_invoice(customer, clerk, ("1", "100", "19"))
    stored = documents.document_for(invoice=first, format=DocumentFormat.PDF)
    with stored.file.open("rb") as file:
        issued_bytes = file.read()

    save_document_style(actor=clerk, style=branded, data={"header_text_en": "New season, new look"})

    again = documents.document_for(invoice=first, format=DocumentFormat.PDF)
    with again.file.open("rb") as file:
        assert file.read() == issued_bytes
    assert again.pk == stored.pk
    assert "Quality tools since 1921" in stored_text(again)
    second = factories.manual_invoice(customer, clerk, ("1", "50", "19"))
    assert "New season, new look" in stored_text(documents.document_for(invoice=second, format=DocumentFormat.PDF))


# --- The admin: preview and audit ------------------------------------------------------------------------


def admin_form(style: DocumentStyle, **changes) -> dict:
    form = {
        name: value
        for name, value in BRANDED.items()
        if name in {"name", "accent_colour", "text_colour", "font_family", "header_text_en", "footer_text_en"}
    }
    form |= {"show_sku": "on", "show_discount": "on", "show_unit": "on", "show_tax_rate": "on"}
    return form | changes


def test_the_preview_renders_the_latest_invoice_with_unsaved_values_and_stores_nothing(admin_user, clerk, branded):
    invoice = factories.manual_invoice(CustomerFactory(actor=clerk), clerk, ("1", "100", "19"))
    client = Client()
    client.force_login(admin_user)
    url = f"/admin/otc/documentstyle/{branded.pk}/preview/"
    form = admin_form(branded, header_text_en="Not saved yet")
    events, stored = branded.events.count(), StoredDocument.objects.count()

    html = client.post(url, form | {"_preview": "html"})
    pdf = client.post(url, form | {"_preview": "pdf"})

    assert html.status_code == 200
    assert "Not saved yet" in html.content.decode()
    assert invoice.number in html.content.decode()
    assert pdf["Content-Type"] == "application/pdf"
    assert "Not saved yet" in pdf_text(pdf.content)
    branded.refresh_from_db()
    assert branded.header_text_en == "Quality tools since 1921"
    assert (branded.events.count(), StoredDocument.objects.count()) == (events, stored)


def test_the_preview_without_an_issued_invoice_shows_a_sample_and_refuses_bad_input(admin_user):
    client = Client()
    client.force_login(admin_user)
    form = admin_form(DocumentStyle(), name="Draft look")

    sample = client.post("/admin/otc/documentstyle/preview/", form | {"_preview": "html"})
    refused = client.post("/admin/otc/documentstyle/preview/", form | {"accent_colour": "red", "_preview": "html"})

    assert sample.status_code == 200
    assert "SAMPLE-0001" in sample.content.decode()
    assert refused.status_code == 422
    assert "accent_colour" in refused.content.decode()
    assert not DocumentStyle.objects.exists()


def test_an_admin_change_is_audited_with_the_user(admin_user, branded):
    client = Client()
    client.force_login(admin_user)

    response = client.post(
        f"/admin/otc/documentstyle/{branded.pk}/change/", admin_form(branded, accent_colour="#aa0000")
    )

    assert response.status_code == 302
    latest = branded.events.order_by("-pgh_id").first()
    assert (latest.pgh_label, latest.accent_colour) == ("update", "#aa0000")
    assert latest.pgh_context.metadata["user"] == admin_user.pk
    created = branded.events.order_by("pgh_id").first()
    assert created.pgh_label == "insert"
