"""The order confirmation and the delivery note: what the PDFs say (in the customer's language), that
each is rendered once and stored, that the confirmation and dispatch emails carry them, and that the
admin, the API and the portal serve them, the portal only to the customer whose order it is."""

import io
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from pypdf import PdfReader

from customers import services as customer_services
from orders import services
from orders.documents import confirmation_document, delivery_note_document
from orders.errors import DocumentNotAvailable
from orders.models import OrderDocument, OrderDocumentKind
from tests import factories
from tests.factories import CustomerFactory, StaffFactory
from tests.support.outbox import run_outbox

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def stored_text(document: OrderDocument) -> str:
    with document.file.open("rb") as file:
        return pdf_text(file.read())


def body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.fixture
def german_order(clerk, approver, widget, manual):
    """The same order as confirmed_order, for a customer who reads German."""
    customer = CustomerFactory(
        actor=clerk,
        legal_name="Elbe Technik GmbH",
        language="de",
        contacts=[{"name": "Greta Einkauf", "email": "greta@elbe.example", "roles": ["purchasing", "shipping"]}],
        addresses=[
            {"kind": "shipping", "line1": "Kaistraße 3", "postal_code": "01067", "city": "Dresden", "country": "DE"}
        ],
    )
    factories.approved_limit(customer, limit="10000", clerk=clerk, approver=approver)
    return factories.placed_order(
        customer, clerk, (widget, "12", "5"), (manual, "3"), discount_percent=Decimal("2"), po_number="PO-4711"
    )


@pytest.fixture
def staff_client(db) -> Client:
    client = Client()
    client.force_login(StaffFactory(email="sam@otc.test", groups=["sales"]))
    return client


# --- What the documents say ----------------------------------------------------------------------------


def test_the_confirmation_shows_order_lines_tax_per_rate_totals_and_terms(confirmed_order):
    text = stored_text(confirmation_document(order=confirmed_order))

    assert f"Order confirmation {confirmed_order.number}" in text
    assert "PO-4711" in text
    assert "Nordwind Handel GmbH" in text
    assert "Hafenweg 9" in text
    assert "Product WIDGET" in text
    assert "Product MANUAL" in text
    # 12 widgets at the 9.00 break, 5 % line and 2 % order discount: 100.55 net, 19 % VAT 19.10;
    # 3 manuals at 19.99 less 2 %: 58.77 net, 7 % VAT 4.11.
    assert "100.55" in text
    assert "19.10" in text
    assert "58.77" in text
    assert "4.11" in text
    assert "Total gross 182.53 EUR" in text
    assert "payable within 30 days of the invoice date" in text


def test_a_german_customer_gets_a_german_confirmation_with_german_figures(german_order):
    text = stored_text(confirmation_document(order=german_order))

    assert f"Auftragsbestätigung {german_order.number}" in text
    assert "Summe brutto 182,53 EUR" in text
    assert "Umsatzsteuer-Aufstellung" in text
    assert "Total gross" not in text


def test_the_delivery_note_lists_goods_carrier_and_tracking_but_no_prices(shipment):
    text = stored_text(delivery_note_document(shipment=shipment))

    assert f"Delivery note {shipment.number}" in text
    assert shipment.order.number in text
    assert "DHL" in text
    assert "00340434161094042557" in text
    assert "Hafenweg 9" in text
    assert "Product WIDGET" in text
    assert "9.00" not in text
    assert "182.53" not in text
    assert "EUR" not in text


def test_a_german_delivery_note_is_in_german(german_order, clerk):
    shipment = factories.ship(german_order, clerk)

    text = stored_text(delivery_note_document(shipment=shipment))

    assert f"Lieferschein {shipment.number}" in text
    assert "Sendungsnummer" in text


def test_a_draft_has_no_confirmation_and_nothing_is_stored(clerk, customer, widget):
    draft = services.create_order(actor=clerk, customer=customer, lines=[services.LineInput(widget, Decimal("1"))])

    with pytest.raises(DocumentNotAvailable):
        confirmation_document(order=draft)

    assert not OrderDocument.objects.exists()


def test_a_cancelled_order_keeps_the_confirmation_it_was_sent(confirmed_order, clerk):
    services.cancel_order(order=confirmed_order, actor=clerk, reason="customer changed their mind")

    document = confirmation_document(order=confirmed_order)

    assert document.kind == OrderDocumentKind.CONFIRMATION


# --- Rendered once ---------------------------------------------------------------------------------------


def test_two_downloads_serve_one_stored_confirmation(confirmed_order, staff_client):
    url = f"/admin/orders/order/{confirmed_order.pk}/confirmation-pdf/"

    first, second = staff_client.get(url), staff_client.get(url)

    assert first.status_code == second.status_code == 200
    assert first["Content-Type"] == "application/pdf"
    assert body(first) == body(second)
    assert OrderDocument.objects.filter(order=confirmed_order).count() == 1


# --- Emails ------------------------------------------------------------------------------------------------


def test_the_confirmation_email_carries_the_stored_pdf(confirmed_order):
    mail.outbox.clear()

    run_outbox("order.confirmed")

    (message,) = [message for message in mail.outbox if "paula@nordwind.example" in message.to]
    ((filename, content, mimetype),) = message.attachments
    assert (filename, mimetype) == (f"order-confirmation-{confirmed_order.number}.pdf", "application/pdf")
    stored = OrderDocument.objects.get(order=confirmed_order, kind=OrderDocumentKind.CONFIRMATION)
    assert content == stored.file.read()
    assert "Total gross 182.53 EUR" in pdf_text(content)


@pytest.mark.usefixtures("company")
def test_the_dispatch_email_carries_the_delivery_note(shipment):
    mail.outbox.clear()

    run_outbox("shipment.dispatched")

    (message,) = [message for message in mail.outbox if message.subject.endswith("is on its way")]
    ((filename, content, mimetype),) = message.attachments
    assert (filename, mimetype) == (f"delivery-note-{shipment.number}.pdf", "application/pdf")
    assert content == OrderDocument.objects.get(shipment=shipment).file.read()


# --- Admin ------------------------------------------------------------------------------------------------


def test_the_admin_offers_the_confirmation_only_once_the_order_is_confirmed(
    staff_client, confirmed_order, clerk, customer, widget
):
    draft = services.create_order(actor=clerk, customer=customer, lines=[services.LineInput(widget, Decimal("1"))])

    confirmed_page = staff_client.get(f"/admin/orders/order/{confirmed_order.pk}/change/")
    draft_page = staff_client.get(f"/admin/orders/order/{draft.pk}/change/")

    assert b"Download confirmation PDF" in confirmed_page.content
    assert b"Download confirmation PDF" not in draft_page.content


def test_the_admin_downloads_a_shipments_delivery_note(staff_client, shipment):
    page = staff_client.get(f"/admin/orders/order/{shipment.order_id}/change/")
    url = f"/admin/orders/order/{shipment.order_id}/shipments/{shipment.pk}/delivery-note/"
    assert url.encode() in page.content

    response = staff_client.get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f"Delivery note {shipment.number}" in pdf_text(body(response))


def test_the_admin_refuses_a_shipment_of_another_order(staff_client, shipment, german_order):
    response = staff_client.get(f"/admin/orders/order/{german_order.pk}/shipments/{shipment.pk}/delivery-note/")

    assert response.status_code == 404
    assert not OrderDocument.objects.exists()


# --- API ----------------------------------------------------------------------------------------------------


def test_the_api_serves_the_confirmation_and_the_delivery_note_as_pdf(api_client_for, shipment):
    partner = api_client_for("orders:read")
    order = shipment.order

    confirmation = partner.get(f"/api/v1/orders/{order.number}/confirmation/")
    note = partner.get(f"/api/v1/shipments/{shipment.number}/delivery-note/")

    assert confirmation.status_code == note.status_code == 200
    assert confirmation["Content-Type"] == note["Content-Type"] == "application/pdf"
    assert f"Order confirmation {order.number}" in pdf_text(body(confirmation))
    assert f"Delivery note {shipment.number}" in pdf_text(body(note))


def test_the_api_needs_the_order_read_scope_and_refuses_a_draft(api_client_for, clerk, customer, widget):
    draft = services.create_order(actor=clerk, customer=customer, lines=[services.LineInput(widget, Decimal("1"))])

    refused = api_client_for("customers:read").get(f"/api/v1/orders/{draft.number}/confirmation/")
    conflict = api_client_for("orders:read").get(f"/api/v1/orders/{draft.number}/confirmation/")
    missing = api_client_for("orders:read").get("/api/v1/orders/SO-NOPE/confirmation/")

    assert refused.status_code == 403
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "order_document_not_available"
    assert missing.status_code == 404
    assert not OrderDocument.objects.exists()


def test_the_schema_lists_both_downloads_as_pdf(api_client_for):
    schema = api_client_for("orders:read").get("/api/schema/", HTTP_ACCEPT="application/json").json()

    confirmation = schema["paths"]["/api/v1/orders/{number}/confirmation/"]["get"]
    note = schema["paths"]["/api/v1/shipments/{number}/delivery-note/"]["get"]
    assert "application/pdf" in confirmation["responses"]["200"]["content"]
    assert "application/pdf" in note["responses"]["200"]["content"]


# --- Portal ---------------------------------------------------------------------------------------------------


@pytest.fixture
def portal(clerk, shipment, german_order):
    """Nordwind's buyer signed in; Elbe Technik's order and shipment are someone else's."""
    client = Client()
    client.force_login(
        customer_services.grant_portal_access(customer=shipment.order.customer, actor=clerk, email="b@nordwind.example")
    )
    return client, shipment, factories.ship(german_order, clerk)


def test_the_portal_order_page_links_and_serves_the_customers_documents(portal):
    client, shipment, _theirs = portal
    order = shipment.order

    page = client.get(f"/portal/orders/{order.number}/")
    confirmation = client.get(f"/portal/orders/{order.number}/confirmation/")
    note = client.get(f"/portal/orders/{order.number}/shipments/{shipment.number}/delivery-note/")

    assert f"/portal/orders/{order.number}/confirmation/".encode() in page.content
    assert f"/portal/orders/{order.number}/shipments/{shipment.number}/delivery-note/".encode() in page.content
    assert confirmation.status_code == note.status_code == 200
    assert f"Order confirmation {order.number}" in pdf_text(body(confirmation))
    assert f"Delivery note {shipment.number}" in pdf_text(body(note))


def test_the_portal_gives_a_404_for_another_customers_order_and_shipment(portal):
    client, mine, theirs = portal

    their_confirmation = client.get(f"/portal/orders/{theirs.order.number}/confirmation/")
    their_note = client.get(f"/portal/orders/{theirs.order.number}/shipments/{theirs.number}/delivery-note/")
    their_note_under_my_order = client.get(
        f"/portal/orders/{mine.order.number}/shipments/{theirs.number}/delivery-note/"
    )

    assert their_confirmation.status_code == their_note.status_code == their_note_under_my_order.status_code == 404
    assert not OrderDocument.objects.filter(order=theirs.order).exists()


def test_the_confirmation_and_the_delivery_note_carry_the_company_letterhead(company, shipment):
    confirmation = stored_text(confirmation_document(order=shipment.order))
    delivery_note = stored_text(delivery_note_document(shipment=shipment))

    for text in (confirmation, delivery_note):
        assert "Hanse Werkzeug GmbH" in text
        assert "DE123456789" in text
        assert "Speicherstadt 1" in text


def test_without_a_company_profile_the_documents_carry_no_letterhead(shipment):
    assert "Hanse Werkzeug" not in stored_text(confirmation_document(order=shipment.order))
