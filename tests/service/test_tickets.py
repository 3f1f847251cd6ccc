"""Tickets through their services: numbering, the transition table, attachments judged by their
bytes, canned replies, links to the customer's own documents only, the reply emailed once with the
ticket's token and Message-ID, and disputes raised on a ticket told back there."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from otc.errors import InvalidInput
from service import services
from service.errors import (
    AttachmentRefused,
    CannedReplyInvalid,
    DocumentOfAnotherCustomer,
    TicketClosed,
    TicketTransitionRefused,
)
from service.models import (
    TRANSITIONS,
    CannedReply,
    DisputeReason,
    DisputeResolution,
    MessageKind,
    Ticket,
    TicketAttachment,
    TicketMessage,
    TicketStatus,
)
from tests.factories import manual_invoice, open_for
from tests.support.races import race
from workflows import handlers
from workflows.models import Delivery, OutboxEvent
from workflows.services import dispatch_event

pytestmark = pytest.mark.django_db
S = TicketStatus
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


def test_ticket_numbers_run_per_year_without_gaps(buyer, clerk):
    year = timezone.localdate().year
    first, second = open_for(buyer, clerk), open_for(buyer, clerk)
    with pytest.raises(InvalidInput):
        open_for(buyer, clerk, subject="  ")  # refused before a number is taken
    third = open_for(buyer, clerk)

    assert [first.number, second.number, third.number] == [f"TKT-{year}-{n:06d}" for n in (1, 2, 3)]
    assert (first.status, first.channel, first.messages.get().kind) == (S.NEW, "staff", MessageKind.CUSTOMER_MESSAGE)


@pytest.mark.django_db(transaction=True)
def test_ticket_numbers_stay_gapless_when_opened_concurrently(buyer, clerk):
    tickets = race(*[lambda: open_for(buyer, clerk)] * 8)

    year = timezone.localdate().year
    assert [ticket for ticket in tickets if isinstance(ticket, Exception)] == []
    assert sorted(ticket.number for ticket in tickets) == [f"TKT-{year}-{n:06d}" for n in range(1, 9)]


ALLOWED = sorted((source, target) for source, targets in TRANSITIONS.items() for target in targets)
REFUSED = sorted(
    (source, target)
    for source in S.values
    for target in S.values
    if target != source and target not in TRANSITIONS[source]
)


def ticket_in(status: str, buyer, clerk) -> Ticket:
    """A ticket brought to `status` through the services."""
    ticket = open_for(buyer, clerk)
    path = {S.NEW: [], S.CLOSED: [S.CLOSED], S.SOLVED: [S.SOLVED]}.get(status, [status])
    for step in path:
        ticket = services.change_status(ticket=ticket, status=step, actor=clerk)
    return ticket


@pytest.mark.parametrize(("source", "target"), ALLOWED)
def test_each_allowed_transition_is_taken(source, target, buyer, clerk):
    ticket = ticket_in(source, buyer, clerk)

    moved = services.change_status(ticket=ticket, status=target, actor=clerk)

    assert Ticket.objects.get(pk=moved.pk).status == target


@pytest.mark.parametrize(("source", "target"), REFUSED)
def test_each_other_transition_is_refused_naming_the_allowed_ones(source, target, buyer, clerk):
    ticket = ticket_in(source, buyer, clerk)

    with pytest.raises(TicketTransitionRefused) as refused:
        services.change_status(ticket=ticket, status=target, actor=clerk)

    allowed = ", ".join(sorted(TRANSITIONS[source])) or "none (closed is final)"
    assert refused.value.fields == {"status": [f"Allowed from {source}: {allowed}."]}
    assert Ticket.objects.get(pk=ticket.pk).status == source


def test_the_table_refuses_exactly_what_it_should():
    assert len(ALLOWED) == 19
    assert ("closed", "open") in REFUSED
    assert ("solved", "waiting_on_us") in REFUSED


def test_a_customer_message_brings_a_waiting_or_solved_ticket_back_and_a_closed_one_refuses_it(buyer, clerk, paula):
    waiting = ticket_in(S.WAITING_ON_CUSTOMER, buyer, clerk)
    solved = ticket_in(S.SOLVED, buyer, clerk)
    closed = ticket_in(S.CLOSED, buyer, clerk)

    for ticket in (waiting, solved):
        services.add_message(ticket=ticket, kind=MessageKind.CUSTOMER_MESSAGE, body="Any news?", actor=clerk)
    with pytest.raises(TicketClosed):
        services.add_message(ticket=closed, kind=MessageKind.CUSTOMER_MESSAGE, body="Hello?", actor=clerk)

    assert Ticket.objects.get(pk=waiting.pk).status == S.OPEN
    reopened = Ticket.objects.get(pk=solved.pk)
    assert (reopened.status, reopened.solved_at) == (S.OPEN, None)
    assert closed.messages.count() == 1


def test_reply_is_emailed_once_with_the_ticket_token_and_message_id(
    buyer, clerk, paula, settings, django_capture_on_commit_callbacks
):
    settings.DEFAULT_FROM_EMAIL = "Service <service@otc.example>"
    ticket = open_for(buyer, clerk, contact=paula, email_message_id="<abc123@nordwind.example>")

    with django_capture_on_commit_callbacks(execute=True):
        reply = services.add_message(ticket=ticket, kind=MessageKind.REPLY, body="It ships today.", actor=clerk)
        services.add_message(
            ticket=ticket, kind=MessageKind.INTERNAL_NOTE, body="Checked with the warehouse.", actor=clerk
        )
    event = OutboxEvent.objects.get(event_type="ticket.reply_posted")
    dispatch_event(event_id=event.pk, handlers=handlers.HANDLERS)  # a second delivery of the event
    handlers.send_ticket_reply(event)  # and the handler run again

    expected_id = f"<{ticket.number.lower()}.m{reply.pk}@otc.example>"
    assert reply.email_message_id == expected_id
    delivery = Delivery.objects.get()
    assert (delivery.recipient, delivery.subject) == (
        "paula@nordwind.example",
        f"[{ticket.number}] Where is my delivery?",
    )
    assert delivery.headers == {
        "Message-ID": expected_id,
        "In-Reply-To": "<abc123@nordwind.example>",
        "References": "<abc123@nordwind.example>",
    }
    [sent] = mail.outbox
    assert sent.extra_headers["Message-ID"] == expected_id
    assert sent.message()["Message-ID"] == expected_id
    assert "It ships today." in sent.body
    assert "warehouse" not in sent.body
    ticket.refresh_from_db()
    assert (ticket.status, ticket.first_response_at) == (S.OPEN, reply.created_at)


def test_a_reply_to_a_sender_without_a_contact_goes_to_the_sender(buyer, clerk, django_capture_on_commit_callbacks):
    ticket = open_for(buyer, clerk, sender_email="someone@nordwind.example")

    with django_capture_on_commit_callbacks(execute=True):
        services.add_message(ticket=ticket, kind=MessageKind.REPLY, body="Thanks, we look into it.", actor=clerk)

    assert [message.to for message in mail.outbox] == [["someone@nordwind.example"]]


def test_attachments_are_judged_by_their_bytes_and_a_disguised_program_writes_nothing(buyer, clerk, media_root):
    with pytest.raises(AttachmentRefused) as refused:
        open_for(
            buyer,
            clerk,
            attachments=[services.Upload("delivery-note.pdf", PDF), services.Upload("invoice.pdf", EXE)],
        )

    assert "invoice.pdf" in refused.value.message
    assert (Ticket.objects.count(), TicketMessage.objects.count(), TicketAttachment.objects.count()) == (0, 0, 0)
    assert [path for path in media_root.rglob("*") if path.is_file()] == []

    ticket = open_for(
        buyer,
        clerk,
        attachments=[
            services.Upload("scan", PDF),
            services.Upload("photo.jpg", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20),
            services.Upload("items.csv", b"sku;qty\nW-1;12\n"),
        ],
    )
    stored = list(
        TicketAttachment.objects.filter(message__ticket=ticket).values_list("filename", "content_type", "size")
    )
    assert stored == [
        ("scan", "application/pdf", len(PDF)),
        ("photo.jpg", "image/png", 28),
        ("items.csv", "text/csv", 15),
    ]


def test_an_attachment_over_the_size_limit_is_refused(buyer, clerk, settings, media_root):
    settings.OTC_TICKET_ATTACHMENT_MAX_BYTES = 100
    ticket = open_for(buyer, clerk)

    with pytest.raises(AttachmentRefused, match="at most 100"):
        services.add_message(
            ticket=ticket,
            kind=MessageKind.CUSTOMER_MESSAGE,
            body="Photo attached",
            actor=clerk,
            attachments=[services.Upload("big.pdf", PDF + b"0" * 100)],
        )

    assert ticket.messages.count() == 1


def test_another_customers_invoice_cannot_be_linked(buyer, stranger, clerk):
    theirs = manual_invoice(stranger, clerk, ("1", "100", "19"))
    ours = manual_invoice(buyer, clerk, ("1", "50", "19"))

    with pytest.raises(DocumentOfAnotherCustomer):
        open_for(buyer, clerk, links=[ours, theirs])
    ticket = open_for(buyer, clerk, links=[ours])
    with pytest.raises(DocumentOfAnotherCustomer):
        services.link_documents(ticket=ticket, documents=[theirs], actor=clerk)

    assert Ticket.objects.count() == 1
    assert list(ticket.invoices.all()) == [ours]


def test_canned_reply_fills_placeholders_from_the_ticket(buyer, clerk, paula):
    invoice = manual_invoice(buyer, clerk, ("2", "100", "19"))
    ticket = open_for(buyer, clerk, contact=paula, links=[invoice])
    macro = CannedReply.objects.create(
        title="Invoice copy",
        body=(
            "Dear {{ customer.display_name }},\nattached is invoice {{ invoice.number }} over "
            "{{ invoice.gross_total }} {{ invoice.currency }}.{{ order.number }}\n{{ agent.first_name }}"
        ),
    )

    reply = services.apply_canned_reply(ticket=ticket, canned_reply=macro, actor=clerk)

    assert reply.body == (f"Dear Nordwind Handel GmbH,\nattached is invoice {invoice.number} over 238.00 EUR.\nClara")
    assert reply.kind == MessageKind.REPLY


@pytest.mark.parametrize(
    "body",
    [
        "{% load static %}{% static 'x' %}",
        "{% include 'emails/base.html' %}",
        "{% debug %}",
        "{% if customer.number %}never closed",
    ],
)
def test_canned_reply_sandbox_refuses_tags_beyond_the_basics(buyer, clerk, body):
    ticket = open_for(buyer, clerk)
    macro = CannedReply.objects.create(title="Bad", body=body)

    with pytest.raises(CannedReplyInvalid):
        services.apply_canned_reply(ticket=ticket, canned_reply=macro, actor=clerk)

    assert ticket.messages.count() == 1


def test_canned_reply_sees_values_not_objects(buyer, clerk):
    ticket = open_for(buyer, clerk)
    macro = CannedReply.objects.create(
        title="Probe", body="[{{ customer.delete }}{{ customer.pk }}{{ ticket.customer }}]"
    )

    reply = services.apply_canned_reply(ticket=ticket, canned_reply=macro, actor=clerk)

    assert reply.body == "[]"


def test_assign_and_bulk_close(buyer, clerk, agent, team, stranger):
    tickets = [open_for(buyer, clerk) for _ in range(3)]

    assert services.bulk_assign(tickets=tickets[:2], team=team, assignee=agent, actor=clerk) == 2
    with pytest.raises(InvalidInput):
        services.assign(ticket=tickets[2], team=team, assignee=clerk, actor=clerk)  # not in the team
    closed_one = services.change_status(ticket=tickets[2], status=S.CLOSED, actor=clerk)
    with pytest.raises(TicketTransitionRefused):
        services.bulk_close(tickets=tickets, actor=clerk)  # one is closed already: none is closed now
    assert services.bulk_close(tickets=tickets[:2], actor=clerk) == 2

    rows = list(Ticket.objects.order_by("pk").values_list("status", "team_id", "assignee_id"))
    assert rows == [(S.CLOSED, team.pk, agent.pk), (S.CLOSED, team.pk, agent.pk), (S.CLOSED, None, None)]
    assert closed_one.closed_at is not None


def test_full_text_search_finds_subject_and_later_messages(buyer, clerk):
    from django.contrib.postgres.search import SearchQuery

    ticket = open_for(buyer, clerk, subject="Palette beschädigt")
    services.add_message(ticket=ticket, kind=MessageKind.INTERNAL_NOTE, body="Spedition informiert", actor=clerk)
    open_for(buyer, clerk, subject="Rechnungskopie")

    def found(text: str) -> list[int]:
        return list(
            Ticket.objects.filter(search_vector=SearchQuery(text, config="simple")).values_list("pk", flat=True)
        )

    assert found("beschädigt") == [ticket.pk]
    assert found("spedition") == [ticket.pk]
    assert found("lieferung") == []


def test_dispute_from_a_ticket_is_told_back_there_and_solves_it(
    buyer, stranger, clerk, paula, django_capture_on_commit_callbacks
):
    issued = timezone.localdate() - timedelta(days=10)
    invoice = manual_invoice(buyer, clerk, ("1", "100", "19"), issue_date=issued)
    theirs = manual_invoice(stranger, clerk, ("1", "100", "19"), issue_date=issued)
    ticket = open_for(buyer, clerk, contact=paula, subject="Two widgets missing")

    with pytest.raises(DocumentOfAnotherCustomer):
        services.open_dispute(
            invoice=theirs, reason=DisputeReason.MISSING, description="Missing", actor=clerk, ticket=ticket
        )
    dispute = services.open_dispute(
        invoice=invoice, reason=DisputeReason.MISSING, description="Missing", actor=clerk, ticket=ticket
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.resolve_dispute(
            dispute=dispute, resolution=DisputeResolution.REJECTED, note="Delivery note signed complete.", actor=clerk
        )

    ticket.refresh_from_db()
    assert list(ticket.invoices.all()) == [invoice]
    assert ticket.status == S.SOLVED
    last = ticket.messages.order_by("-pk").first()
    assert (last.kind, last.body) == (
        MessageKind.REPLY,
        f"We have reviewed your dispute of invoice {invoice.number} and cannot accept it: "
        "Delivery note signed complete.",
    )
    told = sorted(
        (message.to[0], "survey" if message.subject.startswith("How did we do") else "reply")
        for message in mail.outbox
        if ticket.number in message.subject
    )
    assert told == [("paula@nordwind.example", "reply"), ("paula@nordwind.example", "survey")]  # solved: surveyed


def test_a_customer_over_its_storage_quota_sends_no_more_files_but_staff_still_do(
    buyer, stranger, clerk, settings, media_root
):
    settings.OTC_CUSTOMER_ATTACHMENT_QUOTA_BYTES = 2 * len(PDF) + 10
    ticket = open_for(buyer, clerk, attachments=[services.Upload("first.pdf", PDF), services.Upload("second.pdf", PDF)])

    with pytest.raises(AttachmentRefused, match="storage limit") as refused:
        services.add_message(
            ticket=ticket,
            kind=MessageKind.CUSTOMER_MESSAGE,
            body="One more scan",
            actor=clerk,
            attachments=[services.Upload("third.pdf", PDF)],
        )
    with pytest.raises(AttachmentRefused, match="storage limit"):
        open_for(buyer, clerk, attachments=[services.Upload("third.pdf", PDF)])

    assert refused.value.fields == {"attachments": ["Storage limit of 0.0 MB reached."]}
    assert (Ticket.objects.count(), ticket.messages.count(), TicketAttachment.objects.count()) == (1, 1, 2)
    services.add_message(
        ticket=ticket,
        kind=MessageKind.REPLY,
        body="Here is the corrected delivery note.",
        actor=clerk,
        attachments=[services.Upload("note.pdf", PDF)],
    )
    open_for(stranger, clerk, attachments=[services.Upload("theirs.pdf", PDF), services.Upload("more.pdf", PDF)])
    assert TicketAttachment.objects.count() == 5
