"""The agents' screen: queues at a constant query count without a full COUNT, search by number,
customer and words, "New ticket" pre-filled from an invoice, replying with a canned reply, internal
notes, attachments served only to staff who may see tickets, bulk assign and close."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from service import services
from service.models import CannedReply, Dispute, MessageKind, SlaPolicy, Ticket, TicketPriority, TicketStatus
from tests.factories import StaffFactory, manual_invoice, open_for

pytestmark = pytest.mark.django_db
TICKETS = "/admin/service/ticket/"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def numbers_on(response) -> list[str]:
    html = response.content.decode()
    return sorted(number for number in Ticket.objects.values_list("number", flat=True) if f">{number}<" in html)


def test_queues_cost_the_same_queries_for_3_or_20_tickets_without_a_count(agent, buyer, clerk, team):
    client = signed_in(agent)
    for _ in range(3):
        open_for(buyer, clerk, team=team, assignee=agent)
    client.get(TICKETS)

    for queue in ("mine", "team", "unassigned", "breaching", "waiting"):
        assert client.get(TICKETS, {"queue": queue}).status_code == 200
    with CaptureQueriesContext(connection) as three:
        client.get(TICKETS, {"queue": "mine"})
    for _ in range(17):
        open_for(buyer, clerk, team=team, assignee=agent)
    with CaptureQueriesContext(connection) as twenty:
        response = client.get(TICKETS, {"queue": "mine"})

    assert len(numbers_on(response)) == 20
    assert len(twenty) == len(three)
    assert not [q for q in twenty if "COUNT(" in q["sql"].upper() and "service_ticket" in q["sql"]]


def test_queues_hold_the_right_tickets(agent, lead, buyer, clerk, team, office_hours, monkeypatch):
    SlaPolicy.objects.create(
        name="Urgent",
        priority=TicketPriority.URGENT,
        first_response_hours=Decimal("0.5"),
        resolution_hours=Decimal("4"),
        calendar=office_hours,
    )
    monday_ten = datetime(2026, 12, 14, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    monkeypatch.setattr(timezone, "now", lambda: monday_ten)
    mine = open_for(buyer, clerk, team=team, assignee=agent, subject="Mine")
    teammates = open_for(buyer, clerk, team=team, assignee=lead, subject="Lead's")
    unassigned = open_for(buyer, clerk, priority=TicketPriority.URGENT, subject="Urgent")
    waiting = open_for(buyer, clerk, team=team, assignee=agent, subject="Waiting")
    services.change_status(ticket=waiting, status=TicketStatus.WAITING_ON_CUSTOMER, actor=clerk)
    client = signed_in(agent)

    def queue(name: str) -> list[str]:
        return numbers_on(client.get(TICKETS, {"queue": name}))

    assert queue("mine") == sorted([mine.number, waiting.number])
    assert queue("team") == sorted([mine.number, teammates.number, waiting.number])
    assert queue("unassigned") == [unassigned.number]
    assert queue("breaching") == [unassigned.number]  # first response due in 30 minutes
    assert queue("waiting") == [waiting.number]
    assert "soon" in client.get(TICKETS, {"queue": "breaching"}).content.decode()


def test_search_by_number_customer_and_words(agent, buyer, stranger, clerk):
    damaged = open_for(buyer, clerk, subject="Palette beschädigt")
    other = open_for(stranger, clerk, subject="Adresse ändern")
    client = signed_in(agent)

    assert numbers_on(client.get(TICKETS, {"q": damaged.number})) == [damaged.number]
    assert numbers_on(client.get(TICKETS, {"q": stranger.number})) == [other.number]
    assert numbers_on(client.get(TICKETS, {"q": "beschädigt"})) == [damaged.number]


def test_new_ticket_from_an_invoice_is_prefilled_and_opens_linked(agent, buyer, clerk, paula):
    invoice = manual_invoice(buyer, clerk, ("1", "100", "19"))
    client = signed_in(agent)

    invoice_page = client.get(f"/admin/invoicing/invoice/{invoice.pk}/change/").content.decode()
    form = client.get(f"{TICKETS}add/", {"invoice": invoice.pk}).content.decode()
    response = client.post(
        f"{TICKETS}add/",
        {
            "customer_number": buyer.number,
            "contact_email": "PAULA@nordwind.example",
            "subject": "Copy of invoice",
            "body": "Please send the invoice again.",
            "category": "invoice_copy",
            "priority": "normal",
            "invoice_number": invoice.number,
            "attachment": SimpleUploadedFile("request.txt", b"Please resend.\n"),
        },
    )

    assert f"{TICKETS}add/?invoice={invoice.pk}" in invoice_page
    assert f'value="{buyer.number}"' in form
    assert f'value="{invoice.number}"' in form
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert (ticket.channel, ticket.contact, list(ticket.invoices.all())) == ("staff", paula, [invoice])
    assert list(ticket.messages.get().attachments.values_list("content_type", flat=True)) == ["text/plain"]


def test_reply_with_a_canned_reply_and_an_internal_note(agent, buyer, clerk, paula, django_capture_on_commit_callbacks):
    ticket = open_for(buyer, clerk, contact=paula)
    macro = CannedReply.objects.create(
        title="Thanks", body="Dear {{ customer.display_name }}, thank you. {{ agent.first_name }}"
    )
    client = signed_in(agent)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{TICKETS}{ticket.pk}/reply/", {"canned_reply": macro.pk, "status": "waiting_on_customer"})
        client.post(f"{TICKETS}{ticket.pk}/reply/", {"internal": "on", "body": "Key account, be quick."})
        client.post(f"{TICKETS}{ticket.pk}/reply/", {"body": ""})  # refused: nothing to send
    page = client.get(f"{TICKETS}{ticket.pk}/change/").content.decode()

    assert list(ticket.messages.values_list("kind", "body")) == [
        (MessageKind.CUSTOMER_MESSAGE, "Our order has not arrived yet."),
        (MessageKind.REPLY, "Dear Nordwind Handel GmbH, thank you. Ada"),
        (MessageKind.INTERNAL_NOTE, "Key account, be quick."),
    ]
    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.WAITING_ON_CUSTOMER
    assert [message.body.splitlines()[0] for message in mail.outbox] == ["Dear Nordwind Handel GmbH, thank you. Ada"]
    assert "Key account, be quick." in page
    assert 'id="ticket-reply-form"' in page


def test_attachments_are_served_only_to_staff_who_may_see_tickets(agent, buyer, clerk, media_root):
    ticket = open_for(buyer, clerk, attachments=[services.Upload("scan.pdf", b"%PDF-1.4\n%%EOF\n")])
    attachment = ticket.messages.get().attachments.get()
    url = f"{TICKETS}{ticket.pk}/attachments/{attachment.pk}/"
    outsider = StaffFactory(email="stock@otc.test", groups=["admin"])
    outsider.groups.clear()

    served = signed_in(agent).get(url)
    refused = signed_in(outsider).get(url)
    wrong_ticket = signed_in(agent).get(f"{TICKETS}{ticket.pk + 1}/attachments/{attachment.pk}/")

    assert (served.status_code, served["Content-Type"]) == (200, "application/pdf")
    assert b"".join(served.streaming_content) == b"%PDF-1.4\n%%EOF\n"
    assert (refused.status_code, wrong_ticket.status_code) == (403, 404)
    assert not attachment.file.name.endswith(".pdf")  # stored under a random name


def test_bulk_assign_and_close(agent, buyer, clerk, team):
    tickets = [open_for(buyer, clerk) for _ in range(2)]
    client = signed_in(agent)
    selected = [str(ticket.pk) for ticket in tickets]

    client.post(
        TICKETS,
        {
            "action": "assign_selected",
            "_selected_action": selected,
            "apply": "1",
            "team": team.pk,
            "assignee": agent.pk,
        },
    )
    assigned = list(Ticket.objects.order_by("pk").values_list("team_id", "assignee_id"))
    client.post(TICKETS, {"action": "close_selected", "_selected_action": selected})

    assert assigned == [(team.pk, agent.pk), (team.pk, agent.pk)]
    assert list(Ticket.objects.values_list("status", flat=True)) == [TicketStatus.CLOSED, TicketStatus.CLOSED]


def test_dispute_an_invoice_from_the_ticket_page(agent, buyer, stranger, clerk):
    ours = manual_invoice(buyer, clerk, ("1", "100", "19"))
    theirs = manual_invoice(stranger, clerk, ("1", "100", "19"))
    ticket = open_for(buyer, clerk, subject="Widgets missing")
    client = signed_in(agent)
    url = f"{TICKETS}{ticket.pk}/dispute/"

    client.post(url, {"invoice_number": theirs.number, "reason": "missing", "description": "Two missing"})
    client.post(url, {"invoice_number": ours.number, "reason": "missing", "description": "Two missing"})

    assert list(Dispute.objects.values_list("invoice_id", "ticket_id", "status")) == [(ours.pk, ticket.pk, "open")]
    assert list(ticket.invoices.all()) == [ours]
