import time
from email.message import EmailMessage

import pytest
from django.core.management import call_command

from payments.money.webhooks import sign
from service import services
from service.models import (
    InboundMail,
    InboundOutcome,
    InboundSource,
    MessageKind,
    Ticket,
    TicketAttachment,
    TicketChannel,
    TicketMessage,
)
from service.services import inbound_mail
from workflows.models import Delivery

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
SECRET = "inbound-test-secret"


def mail(
    *,
    sender="Paula Purchasing <Paula@Nordwind.example>",
    subject="Delivery question",
    body="Hello, the pallets have not arrived yet.",
    message_id="<first@nordwind.example>",
    headers=None,
    attachments=(),
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "service@otc.example"
    message["Subject"] = subject
    if message_id:
        message["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    for filename, content, maintype, subtype in attachments:
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


def receive(raw: bytes) -> InboundMail:
    return services.receive_mail(raw=raw, source=InboundSource.WEBHOOK)


@pytest.fixture(autouse=True)
def desk(settings, media_root):
    settings.DEFAULT_FROM_EMAIL = "Service <service@otc.example>"
    settings.OTC_INBOUND_MAIL_SECRET = SECRET
    settings.OTC_INBOUND_MAIL_OPEN_FOR_UNKNOWN_SENDERS = False


def test_an_email_with_attachments_opens_a_ticket_for_the_contacts_customer(buyer, paula):
    raw = mail(
        attachments=[
            ("delivery-note.pdf", PDF, "application", "pdf"),
            ("photo.png", PNG, "image", "png"),
            ("invoice.pdf", b"MZ\x90\x00 a program", "application", "pdf"),
        ]
    )

    record = receive(raw)

    ticket = Ticket.objects.get()
    assert (record.outcome, record.ticket, record.customer, record.contact) == (
        InboundOutcome.TICKET_OPENED,
        ticket,
        buyer,
        paula,
    )
    assert (ticket.customer, ticket.contact, ticket.channel, ticket.subject) == (
        buyer,
        paula,
        TicketChannel.EMAIL,
        "Delivery question",
    )
    [message] = ticket.messages.all()
    assert message.email_message_id == "<first@nordwind.example>"
    assert message.body.startswith("Hello, the pallets have not arrived yet.")
    assert "[Attachment not accepted: invoice.pdf is not a PDF" in message.body
    assert sorted(TicketAttachment.objects.values_list("filename", "content_type", "size")) == [
        ("delivery-note.pdf", "application/pdf", len(PDF)),
        ("photo.png", "image/png", len(PNG)),
    ]
    assert "invoice.pdf" in record.detail


def test_replies_thread_into_the_ticket_by_token_and_by_in_reply_to(buyer, paula, clerk):
    receive(mail())
    ticket = Ticket.objects.get()
    reply = services.add_message(ticket=ticket, kind=MessageKind.REPLY, body="We are checking.", actor=clerk)

    by_token = receive(mail(subject=f"Re: [{ticket.number}] Delivery question", message_id="<second@nordwind.example>"))
    by_header = receive(
        mail(
            subject="Re: your answer",
            message_id="<third@nordwind.example>",
            headers={"In-Reply-To": reply.email_message_id, "References": "<first@nordwind.example>"},
        )
    )

    assert Ticket.objects.count() == 1
    assert (by_token.outcome, by_token.ticket, by_header.outcome, by_header.ticket) == (
        InboundOutcome.THREADED,
        ticket,
        InboundOutcome.THREADED,
        ticket,
    )
    assert list(
        ticket.messages.filter(kind=MessageKind.CUSTOMER_MESSAGE).values_list("email_message_id", flat=True)
    ) == [
        "<first@nordwind.example>",
        "<second@nordwind.example>",
        "<third@nordwind.example>",
    ]


def test_another_customers_contact_cannot_write_into_a_ticket_by_its_token(buyer, paula, stranger):
    receive(mail())
    ticket = Ticket.objects.get()
    stranger.contacts.create(name="Sven", email="sven@suedwind.example")

    record = receive(
        mail(sender="sven@suedwind.example", subject=f"[{ticket.number}] hello", message_id="<sven@suedwind>")
    )

    assert record.outcome == InboundOutcome.TICKET_OPENED
    assert record.ticket != ticket
    assert record.ticket.customer == stranger
    assert ticket.messages.count() == 1


@pytest.mark.parametrize(
    ("sender", "headers", "reason"),
    [
        ("paula@nordwind.example", {"Auto-Submitted": "auto-replied"}, "Auto-Submitted: auto-replied"),
        ("paula@nordwind.example", {"Precedence": "bulk"}, "Precedence: bulk"),
        ("paula@nordwind.example", {"X-Autoreply": "yes"}, "X-Autoreply header"),
        ("MAILER-DAEMON@mx.nordwind.example", {}, "sent by MAILER-DAEMON@mx.nordwind.example"),
        ("postmaster@nordwind.example", {}, "sent by postmaster@nordwind.example"),
    ],
)
def test_auto_replies_and_bounces_open_nothing_and_are_not_answered(
    buyer, paula, sender, headers, reason, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        record = receive(mail(sender=sender, headers=headers, subject="Out of office"))

    assert (record.outcome, record.detail, record.ticket) == (InboundOutcome.AUTOMATED, reason, None)
    assert not Ticket.objects.exists()
    assert not Delivery.objects.exists()


def test_a_delivery_status_report_opens_nothing(buyer, paula):
    raw = (
        b"From: paula@nordwind.example\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        b"Message-ID: <dsn@mx.example>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\n--b--\r\n"
    )

    record = receive(raw)

    assert (record.outcome, record.detail) == (InboundOutcome.AUTOMATED, "delivery status report (multipart/report)")
    assert not Ticket.objects.exists()


def test_an_auto_submitted_no_is_a_person(buyer, paula):
    record = receive(mail(headers={"Auto-Submitted": "no"}))

    assert record.outcome == InboundOutcome.TICKET_OPENED


def test_the_same_message_id_twice_opens_one_ticket(buyer, paula):
    first = receive(mail())
    second = receive(mail(body="A resent copy."))

    assert first.pk == second.pk
    assert Ticket.objects.count() == 1
    assert InboundMail.objects.count() == 1
    assert TicketMessage.objects.count() == 1


def test_an_unknown_sender_is_recorded_and_dropped_without_a_reply(buyer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        record = receive(mail(sender="someone@unknown.example"))

    assert (record.outcome, record.customer, record.ticket) == (InboundOutcome.UNKNOWN_SENDER, None, None)
    assert not Ticket.objects.exists()
    assert not Delivery.objects.exists()


def test_an_unknown_sender_opens_a_ticket_without_customer_when_settings_allow(
    buyer, settings, client, agent, django_capture_on_commit_callbacks
):
    settings.OTC_INBOUND_MAIL_OPEN_FOR_UNKNOWN_SENDERS = True

    record = receive(mail(sender="someone@unknown.example"))

    ticket = record.ticket
    assert (record.outcome, ticket.customer, ticket.contact, ticket.sender_email) == (
        InboundOutcome.TICKET_OPENED,
        None,
        None,
        "someone@unknown.example",
    )
    assert ticket.recognition.handed_over == "unknown sender"
    assert ticket.recognition.answer is None
    client.force_login(agent)
    assert client.get("/admin/service/ticket/").status_code == 200
    assert client.get(f"/admin/service/ticket/{ticket.pk}/change/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        services.add_message(ticket=ticket, kind=MessageKind.REPLY, body="Who are you?", actor=agent)
    assert Delivery.objects.get().recipient == "someone@unknown.example"


def test_a_message_without_text_or_attachment_is_rejected(buyer, paula):
    record = receive(mail(body=""))

    assert record.outcome == InboundOutcome.REJECTED
    assert not Ticket.objects.exists()


def post_signed(client, raw: bytes, *, secret=SECRET, timestamp=None):
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    return client.post(
        "/api/v1/webhooks/inbound-mail/",
        data=raw,
        content_type="message/rfc822",
        HTTP_X_OTC_TIMESTAMP=timestamp,
        HTTP_X_OTC_SIGNATURE=sign(secret=secret, timestamp=timestamp, body=raw),
    )


def test_the_inbound_endpoint_takes_a_signed_message(client, buyer, paula):
    response = post_signed(client, mail())

    assert response.status_code == 200
    ticket = Ticket.objects.get()
    assert response.json() == {
        "id": InboundMail.objects.get().pk,
        "outcome": "ticket_opened",
        "ticket": ticket.number,
    }


@pytest.mark.parametrize(
    ("secret", "age"),
    [("not-the-secret", 0), (SECRET, 301), (SECRET, -301)],
    ids=["wrong secret", "too old", "from the future"],
)
def test_the_inbound_endpoint_refuses_a_bad_signature_and_stores_nothing(client, buyer, paula, secret, age):
    response = post_signed(client, mail(), secret=secret, timestamp=int(time.time()) - age)

    assert response.status_code == 403
    assert response.json()["code"] == "invalid_signature"
    assert not InboundMail.objects.exists()
    assert not Ticket.objects.exists()


def test_the_inbound_endpoint_refuses_an_unsigned_request(client, buyer, paula):
    response = client.post("/api/v1/webhooks/inbound-mail/", data=mail(), content_type="message/rfc822")

    assert response.status_code == 403
    assert not InboundMail.objects.exists()


class FakeImap:
    """An IMAP mailbox in memory, answering the calls fetch_mailbox makes the way imaplib does."""

    def __init__(self, messages: dict[bytes, bytes]):
        self.messages = messages
        self.seen: set[bytes] = set()
        self.logged_out = False

    def select(self, folder):
        return ("OK", [str(len(self.messages)).encode()]) if folder == "INBOX" else ("NO", [b"no such folder"])

    def uid(self, command, *args):
        if command == "SEARCH":
            return "OK", [b" ".join(uid for uid in self.messages if uid not in self.seen)]
        if command == "FETCH":
            uid = args[0]
            return "OK", [(uid + b" (UID " + uid + b" BODY[] {n}", self.messages[uid]), b")"]
        if command == "STORE":
            self.seen.add(args[0])
            return "OK", [b""]
        raise AssertionError(command)

    def login(self, user, password):
        return "OK", [b"logged in"]

    def logout(self):
        self.logged_out = True
        return "BYE", [b""]


def test_fetch_mail_takes_unread_messages_and_marks_them_read(buyer, paula, settings, monkeypatch, capsys):
    settings.OTC_IMAP_HOST, settings.OTC_IMAP_FOLDER = "imap.otc.example", "INBOX"
    mailbox = FakeImap(
        {
            b"7": mail(),
            b"8": mail(sender="MAILER-DAEMON@mx.example", message_id="<bounce@mx.example>"),
        }
    )
    monkeypatch.setattr(inbound_mail.imaplib, "IMAP4_SSL", lambda host, port: mailbox)

    call_command("fetch_mail")
    call_command("fetch_mail")

    assert mailbox.seen == {b"7", b"8"}
    assert mailbox.logged_out
    assert sorted(InboundMail.objects.values_list("source", "outcome")) == [
        ("imap", "automated"),
        ("imap", "ticket_opened"),
    ]
    assert Ticket.objects.count() == 1
    output = capsys.readouterr().out
    assert "2 fetched: 1 automated, 1 ticket_opened." in output
    assert "0 fetched: nothing new." in output


def test_a_message_that_fails_stays_unread_for_the_next_run(buyer, paula, monkeypatch):
    mailbox = FakeImap({b"1": mail(), b"2": mail(message_id="<two@nordwind.example>")})
    real = inbound_mail.receive_mail

    def flaky(*, raw, source):
        if b"<two@" in raw:
            raise RuntimeError("database went away")
        return real(raw=raw, source=source)

    monkeypatch.setattr(inbound_mail, "receive_mail", flaky)

    run = inbound_mail.fetch_mailbox(mailbox=mailbox, folder="INBOX")

    assert (run.fetched, len(run.records), mailbox.seen) == (2, 1, {b"1"})
    assert run.failed == ["2: RuntimeError: database went away"]


def test_an_email_over_the_customers_storage_quota_gets_through_without_its_files(buyer, paula, settings):
    settings.OTC_CUSTOMER_ATTACHMENT_QUOTA_BYTES = len(PDF) + len(PNG) - 1

    record = receive(mail(attachments=[("note.pdf", PDF, "application", "pdf"), ("photo.png", PNG, "image", "png")]))

    [message] = Ticket.objects.get().messages.all()
    assert record.outcome == InboundOutcome.TICKET_OPENED
    assert "[Attachment not accepted: The files kept with this customer's tickets would pass" in message.body
    assert "storage limit" in record.detail
    assert TicketAttachment.objects.count() == 0
