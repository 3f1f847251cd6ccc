"""The tickets API: scopes, idempotent creates, problem+json refusals, messages without internal
notes, status changes along the table, and lists at a constant query count."""

import base64

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from service import services
from service.models import MessageKind, Ticket, TicketAttachment
from tests.factories import manual_invoice, open_for

pytestmark = pytest.mark.django_db
API = "/api/v1/tickets/"


def body_for(customer, **extra) -> dict:
    return {"customer": customer.pk, "subject": "Rechnungskopie", "body": "Bitte Rechnung erneut senden.", **extra}


def test_a_read_key_cannot_open_tickets_or_post_messages(api_client_for, buyer, clerk):
    reader = api_client_for("tickets:read")
    ticket = open_for(buyer, clerk)

    created = reader.post(API, body_for(buyer), format="json")
    posted = reader.post(f"{API}{ticket.pk}/messages/", {"body": "Hello"}, format="json")
    listed = reader.get(API)

    assert (created.status_code, posted.status_code, listed.status_code) == (403, 403, 200)
    assert created["Content-Type"] == "application/problem+json"
    assert Ticket.objects.count() == 1
    assert ticket.messages.count() == 1
    assert api_client_for("orders:read").get(API).status_code == 403


def test_create_is_idempotent_and_links_the_customers_invoice(api_client_for, buyer, paula, clerk):
    writer = api_client_for("tickets:write", "tickets:read")
    invoice = manual_invoice(buyer, clerk, ("1", "100", "19"))
    pdf = base64.b64encode(b"%PDF-1.4\n%%EOF\n").decode()
    body = body_for(
        buyer,
        contact=paula.pk,
        category="invoice_copy",
        invoices=[invoice.number],
        attachments=[{"filename": "note.pdf", "content_base64": pdf}],
    )

    first = writer.post(API, body, format="json", HTTP_IDEMPOTENCY_KEY="t-1")
    replay = writer.post(API, body, format="json", HTTP_IDEMPOTENCY_KEY="t-1")

    assert first.status_code == 201, first.json()
    assert replay.json() == first.json()
    assert replay["Idempotent-Replayed"] == "true"
    data = first.json()
    assert (data["channel"], data["category"], data["invoices"], data["status"]) == (
        "api",
        "invoice_copy",
        [invoice.number],
        "new",
    )
    assert Ticket.objects.count() == 1
    assert list(TicketAttachment.objects.values_list("filename", "content_type")) == [("note.pdf", "application/pdf")]


def test_another_customers_invoice_and_a_disguised_file_are_422_with_nothing_written(
    api_client_for, buyer, stranger, clerk
):
    writer = api_client_for("tickets:write")
    theirs = manual_invoice(stranger, clerk, ("1", "100", "19"))
    exe = base64.b64encode(b"MZ\x90\x00\x03" + b"\x00" * 40).decode()

    foreign = writer.post(API, body_for(buyer, invoices=[theirs.number]), format="json")
    disguised = writer.post(
        API, body_for(buyer, attachments=[{"filename": "scan.pdf", "content_base64": exe}]), format="json"
    )

    assert (foreign.status_code, foreign.json()["code"]) == (422, "document_of_another_customer")
    assert (disguised.status_code, disguised.json()["code"]) == (422, "attachment_refused")
    assert Ticket.objects.count() == 0


def test_messages_hide_internal_notes_and_a_posted_reply_opens_the_ticket(api_client_for, buyer, clerk):
    client = api_client_for("tickets:write", "tickets:read")
    ticket = open_for(buyer, clerk, sender_email="einkauf@nordwind.example")
    services.add_message(ticket=ticket, kind=MessageKind.INTERNAL_NOTE, body="Customer is a key account", actor=clerk)

    posted = client.post(f"{API}{ticket.pk}/messages/", {"kind": "reply", "body": "Copy attached."}, format="json")
    listed = client.get(f"{API}{ticket.pk}/messages/")

    assert posted.status_code == 201
    assert [(message["kind"], message["body"]) for message in listed.json()] == [
        ("customer_message", "Our order has not arrived yet."),
        ("reply", "Copy attached."),
    ]
    assert client.get(f"{API}{ticket.pk}/").json()["status"] == "open"


def test_status_change_follows_the_table_and_a_refusal_is_409(api_client_for, buyer, clerk):
    client = api_client_for("tickets:write", "tickets:read")
    ticket = open_for(buyer, clerk)

    closed = client.post(f"{API}{ticket.pk}/status/", {"status": "closed"}, format="json")
    reopened = client.post(f"{API}{ticket.pk}/status/", {"status": "open"}, format="json")
    message = client.post(f"{API}{ticket.pk}/messages/", {"body": "Still there?"}, format="json")

    assert (closed.status_code, closed.json()["status"]) == (200, "closed")
    assert (reopened.status_code, reopened.json()["code"]) == (409, "ticket_transition_refused")
    assert reopened.json()["errors"] == {"status": ["Allowed from closed: none (closed is final)."]}
    assert (message.status_code, message.json()["code"]) == (409, "ticket_closed")


def test_list_costs_the_same_queries_for_three_or_twenty_tickets_and_searches_text(api_client_for, buyer, clerk):
    client = api_client_for("tickets:read")
    invoice = manual_invoice(buyer, clerk, ("1", "100", "19"))
    for _ in range(3):
        open_for(buyer, clerk, links=[invoice])
    with CaptureQueriesContext(connection) as three:
        assert len(client.get(API).json()["results"]) == 3
    for _ in range(17):
        open_for(buyer, clerk, links=[invoice])
    with CaptureQueriesContext(connection) as twenty:
        assert len(client.get(API).json()["results"]) == 20
    special = open_for(buyer, clerk, subject="Palette beschädigt")

    found = client.get(API, {"q": "beschädigt"}).json()["results"]
    by_number = client.get(API, {"q": special.number.lower()}).json()["results"]

    assert len(three) == len(twenty)
    assert [ticket["number"] for ticket in found] == [special.number]
    assert [ticket["number"] for ticket in by_number] == [special.number]
