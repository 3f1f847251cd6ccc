"""Asking and disputing in the portal: a ticket about an order or invoice with an attachment, the
conversation without internal notes, replies; a dispute of chosen lines that opens a linked ticket and
holds the invoice; a promise to pay through collections' service."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from customers import services as customer_services
from customers.models import PortalRole
from invoicing import services as invoicing
from invoicing.models import HoldKind, InvoiceHold
from payments.models import PromiseToPay
from service import services
from service.models import Dispute, DisputeStatus, MessageKind, Ticket, TicketChannel, TicketStatus
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
D = Decimal


def invoice_for(customer, clerk, *amounts: str):
    lines = [
        invoicing.ManualLine(description=f"Service {n}", quantity=D("1"), unit_price=D(amount), tax_rate=D("19"))
        for n, amount in enumerate(amounts, start=1)
    ]
    return invoicing.create_manual_invoice(customer=customer, lines=lines, actor=clerk)


@pytest.fixture
def desk(clerk):
    mine = CustomerFactory(actor=clerk, legal_name="Nordwind Handel GmbH")
    theirs = CustomerFactory(actor=clerk, legal_name="Konkurrenz AG")
    client = Client()
    client.force_login(
        customer_services.grant_portal_access(
            customer=mine, actor=clerk, email="ap@nordwind.example", roles=[PortalRole.ACCOUNTS_PAYABLE]
        )
    )
    return client, mine, theirs


def test_open_a_ticket_about_an_invoice_with_an_attachment(desk, clerk):
    client, mine, theirs = desk
    invoice = invoice_for(mine, clerk, "100.00")
    foreign = invoice_for(theirs, clerk, "50.00")

    refused = client.post(
        "/portal/tickets/new/",
        {"category": "billing", "subject": "Copy", "body": "Please", "invoice": foreign.number},
    )
    response = client.post(
        "/portal/tickets/new/",
        {
            "category": "billing",
            "subject": "Wrong address on the invoice",
            "body": "Our street is Hafenweg 3.",
            "invoice": invoice.number,
            "attachment": SimpleUploadedFile("letter.txt", b"Hafenweg 3", content_type="text/plain"),
        },
    )

    assert refused.status_code == 200
    ticket = Ticket.objects.get()
    assert response["Location"] == f"/portal/tickets/{ticket.number}/"
    assert (ticket.customer, ticket.channel, ticket.category) == (mine, TicketChannel.PORTAL, "billing")
    assert list(ticket.invoices.all()) == [invoice]
    message = ticket.messages.get()
    assert (message.kind, message.sender_email) == (MessageKind.CUSTOMER_MESSAGE, "ap@nordwind.example")
    assert [attachment.filename for attachment in message.attachments.all()] == ["letter.txt"]


def test_the_conversation_hides_internal_notes_and_takes_replies(desk, clerk):
    client, mine, theirs = desk
    ticket = services.open_ticket(
        customer=mine, subject="Delivery late", body="Where is it?", channel=TicketChannel.EMAIL, actor=clerk
    )
    services.add_message(ticket=ticket, kind=MessageKind.INTERNAL_NOTE, body="Carrier strike, do not say", actor=clerk)
    services.add_message(ticket=ticket, kind=MessageKind.REPLY, body="It ships on Monday.", actor=clerk)
    their_ticket = services.open_ticket(
        customer=theirs, subject="Other", body="Secret", channel=TicketChannel.EMAIL, actor=clerk
    )

    page = client.get(f"/portal/tickets/{ticket.number}/").content.decode()
    reply = client.post(f"/portal/tickets/{ticket.number}/", {"body": "Thank you, Monday is fine."})

    assert "It ships on Monday." in page
    assert "Carrier strike" not in page
    assert reply.status_code == 302
    assert ticket.messages.filter(kind=MessageKind.CUSTOMER_MESSAGE).count() == 2
    assert client.get(f"/portal/tickets/{their_ticket.number}/").status_code == 404
    assert client.post(f"/portal/tickets/{their_ticket.number}/", {"body": "x"}).status_code == 404
    assert their_ticket.messages.count() == 1
    listing = client.get("/portal/tickets/").content.decode()
    assert ticket.number in listing
    assert their_ticket.number not in listing


def test_dispute_chosen_lines_opens_a_linked_ticket_and_holds_the_invoice(desk, clerk):
    client, mine, _ = desk
    invoice = invoice_for(mine, clerk, "100.00", "40.00")
    second = invoice.lines.get(line_no=2)

    response = client.post(
        f"/portal/invoices/{invoice.pk}/dispute/",
        {"reason": "damaged", "description": "The second item arrived broken.", "lines": [second.pk]},
    )

    dispute = Dispute.objects.get()
    assert response["Location"] == f"/portal/tickets/{dispute.ticket.number}/"
    assert (dispute.invoice, dispute.status, dispute.opened_by.email) == (
        invoice,
        DisputeStatus.OPEN,
        "ap@nordwind.example",
    )
    assert list(dispute.disputed_lines.all()) == [second]
    assert list(dispute.ticket.invoices.all()) == [invoice]
    assert dispute.ticket.status == TicketStatus.NEW
    assert InvoiceHold.objects.filter(invoice=invoice, kind=HoldKind.DISPUTE, released_at__isnull=True).exists()
    assert "The second item arrived broken." in client.get(f"/portal/invoices/{invoice.pk}/").content.decode()

    again = client.post(f"/portal/invoices/{invoice.pk}/dispute/", {"reason": "price", "description": "Too dear"})

    assert again.status_code == 200
    assert "open dispute already" in again.content.decode()
    assert Dispute.objects.count() == 1
    assert Ticket.objects.count() == 1  # the refused dispute left no ticket behind


def test_promise_to_pay_through_collections(desk, clerk):
    client, mine, theirs = desk
    invoice = invoice_for(mine, clerk, "100.00")
    foreign = invoice_for(theirs, clerk, "50.00")
    next_week = timezone.localdate() + timedelta(days=7)

    too_much = client.post(
        f"/portal/invoices/{invoice.pk}/promise/", {"promised_date": next_week.isoformat(), "amount": "119.01"}
    )
    response = client.post(
        f"/portal/invoices/{invoice.pk}/promise/",
        {"promised_date": next_week.isoformat(), "amount": "119.00", "note": "Transfer on Friday"},
    )

    assert too_much.status_code == 200
    assert "at most 119.00" in too_much.content.decode().lower()
    assert response.status_code == 302
    promise = PromiseToPay.objects.get()
    assert (promise.customer, promise.amount, promise.promised_date, promise.created_by.email) == (
        mine,
        D("119.00"),
        next_week,
        "ap@nordwind.example",
    )
    assert list(promise.invoices.all()) == [invoice]
    assert client.get(f"/portal/invoices/{foreign.pk}/promise/").status_code == 404
