"""The email channel: one raw RFC 822 message in, whether a mail provider posted it or `fetch_mail`
read it from the mailbox, and what became of it recorded as an `InboundMail`.

A reply threads into its ticket by the ticket's token in the subject ("[TKT-2026-000123]") or by
In-Reply-To/References naming a Message-ID the desk stored; anything else from a known contact opens
a ticket for the contact's customer. Auto-replies and bounces never open a ticket nor get an answer,
so two robots cannot mail each other forever. The same Message-ID twice is processed once.
"""

import hashlib
import imaplib
import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr

import structlog
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.html import strip_tags

from customers.models import Contact, Customer
from otc.errors import InvalidInput
from otc.services import automation_user
from service.attachments import check_customer_quota, checked_attachment
from service.errors import AttachmentRefused, TicketClosed
from service.models import (
    InboundMail,
    InboundOutcome,
    InboundSource,
    MessageKind,
    Ticket,
    TicketChannel,
    TicketMessage,
)
from service.services.answers import answer_automatically, hand_over
from service.services.tickets import Upload, add_message, open_ticket

TICKET_TOKEN = re.compile(r"\[(TKT-\d{4}-\d{6})\]", re.IGNORECASE)
ROBOT_SENDERS = ("mailer-daemon", "postmaster")
BULK_PRECEDENCE = frozenset({"bulk", "junk", "list"})
AUTO_REPLY_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Auto-Reply")

logger = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Sender:
    """Who wrote: the address, and the contact and customer it belongs to (None when unknown or when
    the address is a contact of more than one customer, so no one's data is guessed at)."""

    email: str
    contact: Contact | None
    customer: Customer | None


def parse_mail(raw: bytes) -> EmailMessage:
    """The message as the standard library reads it with the modern policy (decoded headers)."""
    return BytesParser(policy=policy.default).parsebytes(raw)


def _message_id(message: EmailMessage, raw: bytes) -> str:
    stated = str(message.get("Message-ID", "") or "").strip()
    return stated[:255] if stated else f"<sha256-{hashlib.sha256(raw).hexdigest()}@no-message-id>"


def automated_reason(message: EmailMessage, sender: str) -> str:
    """Why the message was sent by a machine (RFC 3834 and common practice), or "" when a person wrote it."""
    auto_submitted = str(message.get("Auto-Submitted", "") or "").strip().lower()
    if auto_submitted and auto_submitted != "no":
        return f"Auto-Submitted: {auto_submitted}"
    precedence = str(message.get("Precedence", "") or "").strip().lower()
    if precedence in BULK_PRECEDENCE:
        return f"Precedence: {precedence}"
    for header in AUTO_REPLY_HEADERS:
        if message.get(header) is not None:
            return f"{header} header"
    if message.get_content_type() == "multipart/report":
        return "delivery status report (multipart/report)"
    local_part = sender.partition("@")[0].lower()
    if not sender or local_part in ROBOT_SENDERS:
        return f"sent by {sender or 'an empty sender'}"
    if sender.lower() == parseaddr(settings.DEFAULT_FROM_EMAIL)[1].lower():
        return "sent from the desk's own address"
    return ""


def find_sender(email: str) -> Sender:
    """The active contact with this address (case-insensitive) and their customer."""
    contacts = list(Contact.objects.select_related("customer").filter(email__iexact=email, is_active=True)[:2])
    if len({contact.customer_id for contact in contacts}) != 1:
        return Sender(email, None, None)
    return Sender(email, contacts[0], contacts[0].customer)


def _referenced_ids(message: EmailMessage) -> list[str]:
    text = " ".join(str(message.get(header, "") or "") for header in ("In-Reply-To", "References"))
    return re.findall(r"<[^<>\s]+>", text)


def _may_write_to(ticket: Ticket, sender: Sender) -> bool:
    """Only the ticket's customer's contacts, or whoever the ticket's replies go to, add to it."""
    if ticket.customer_id is not None and sender.customer is not None:
        return ticket.customer_id == sender.customer.pk
    return sender.email.lower() in {ticket.sender_email.lower(), (ticket.recipient or "").lower()}


def thread_of(message: EmailMessage, sender: Sender) -> Ticket | None:
    """The ticket a reply belongs to: the token in the subject, else a stored Message-ID it answers."""
    token = TICKET_TOKEN.search(str(message.get("Subject", "") or ""))
    ticket = Ticket.objects.filter(number=token[1].upper()).first() if token else None
    if ticket is None and (referenced := _referenced_ids(message)):
        ticket = Ticket.objects.filter(messages__email_message_id__in=referenced).order_by("-messages__pk").first()
    return ticket if ticket is not None and _may_write_to(ticket, sender) else None


def _text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = part.get_content()
    return strip_tags(content) if part.get_content_type() == "text/html" else content


def _attachments(message: EmailMessage) -> tuple[list[Upload], list[str]]:
    """The files that pass the desk's checks, and a line for each that did not."""
    accepted, refused = [], []
    for part in message.iter_attachments():
        filename = part.get_filename() or "attachment"
        content = part.get_payload(decode=True) or b""
        try:
            checked_attachment(filename=filename, content=content)
        except AttachmentRefused as error:
            refused.append(str(error))
        else:
            accepted.append(Upload(filename, content))
    return accepted, refused


def _within_quota(
    customer: Customer | None, uploads: list[Upload], refused: list[str]
) -> tuple[list[Upload], list[str]]:
    """A sender over the customer's storage quota still gets the message through, without the files."""
    try:
        check_customer_quota(
            customer_id=customer.pk if customer else None, new_bytes=sum(len(upload.content) for upload in uploads)
        )
    except AttachmentRefused as error:
        return [], [*refused, str(error)]
    return uploads, refused


def _record(**fields) -> InboundMail:
    return InboundMail.objects.create(**fields)


def receive_mail(*, raw: bytes, source: str) -> InboundMail:
    """Take one raw email into the desk and record the outcome. Idempotent on the Message-ID: a
    message seen before returns its first record and changes nothing."""
    message = parse_mail(raw)
    message_id = _message_id(message, raw)
    seen = InboundMail.objects.filter(message_id=message_id).first()
    if seen is not None:
        return seen
    try:
        with transaction.atomic():
            return _take(message, message_id=message_id, raw=raw, source=source)
    except IntegrityError:
        seen = InboundMail.objects.filter(message_id=message_id).first()
        if seen is None:
            raise
        return seen


def _take(message: EmailMessage, *, message_id: str, raw: bytes, source: str) -> InboundMail:
    addresses = getaddresses([str(message.get("From", "") or "")])
    email = addresses[0][1].strip() if addresses else ""
    subject = " ".join(str(message.get("Subject", "") or "").split())[:300]
    record = {"message_id": message_id, "source": source, "sender": email[:254], "subject": subject, "size": len(raw)}
    if reason := automated_reason(message, email):
        return _record(**record, outcome=InboundOutcome.AUTOMATED, detail=reason)
    sender = find_sender(email)
    record.update(customer=sender.customer, contact=sender.contact)
    uploads, refused = _within_quota(sender.customer, *_attachments(message))
    body = _text(message).strip()
    if refused:
        body = "\n".join([body, "", *(f"[Attachment not accepted: {line}]" for line in refused)]).strip()
    if not body:
        body = "(no text)" if uploads else ""
    if not body:
        return _record(**record, outcome=InboundOutcome.REJECTED, detail="No text and no attachment.")
    detail = "; ".join(refused)
    actor = automation_user()
    ticket = thread_of(message, sender)
    if ticket is not None:
        try:
            add_message(
                ticket=ticket,
                kind=MessageKind.CUSTOMER_MESSAGE,
                body=body,
                actor=actor,
                contact=sender.contact if sender.customer and sender.customer.pk == ticket.customer_id else None,
                sender_email=email,
                attachments=uploads,
                email_message_id=message_id,
            )
        except TicketClosed:
            ticket = None
        else:
            hand_over(ticket=ticket, reason="The customer wrote again.")
            return _record(**record, outcome=InboundOutcome.THREADED, ticket=ticket, detail=detail)
    if sender.customer is None and not settings.OTC_INBOUND_MAIL_OPEN_FOR_UNKNOWN_SENDERS:
        return _record(
            **record,
            outcome=InboundOutcome.UNKNOWN_SENDER,
            detail="No single customer has a contact with this address.",
        )
    ticket = open_ticket(
        customer=sender.customer,
        contact=sender.contact,
        subject=subject or "(no subject)",
        body=body,
        channel=TicketChannel.EMAIL,
        actor=actor,
        sender_email=email,
        attachments=uploads,
        email_message_id=message_id,
    )
    mail = _record(**record, outcome=InboundOutcome.TICKET_OPENED, ticket=ticket, detail=detail)
    answer_automatically(ticket=ticket, message=TicketMessage.objects.filter(ticket=ticket).earliest("pk"))
    return mail


@dataclass(frozen=True)
class MailboxRun:
    """What one `fetch_mail` run did: messages read, and the records of those taken in."""

    fetched: int
    records: list[InboundMail]
    failed: list[str]


def imap_mailbox() -> imaplib.IMAP4:
    """The configured mailbox, signed in (IMAP over TLS)."""
    mailbox = imaplib.IMAP4_SSL(settings.OTC_IMAP_HOST, settings.OTC_IMAP_PORT)
    mailbox.login(settings.OTC_IMAP_USER, settings.OTC_IMAP_PASSWORD)
    return mailbox


def fetch_mailbox(*, mailbox: imaplib.IMAP4, folder: str, limit: int = 200) -> MailboxRun:
    """Take in the folder's unread messages, oldest first, and mark each read once it is recorded. A
    message that fails stays unread for the next run; the Message-ID keeps a retried one from counting
    twice. Each message is its own transaction; nothing waits on the mail server inside one."""
    status, _ = mailbox.select(folder)
    if status != "OK":
        raise InvalidInput(f"The mailbox has no folder {folder!r}.", fields={"folder": ["No such folder."]})
    status, data = mailbox.uid("SEARCH", None, "UNSEEN")
    uids = (data[0] or b"").split()[:limit] if status == "OK" else []
    records, failed = [], []
    for uid in uids:
        status, parts = mailbox.uid("FETCH", uid, "(BODY.PEEK[])")
        raw = next((part[1] for part in parts if isinstance(part, tuple)), None) if status == "OK" else None
        if raw is None:
            failed.append(f"{uid.decode()}: not fetched")
            continue
        try:
            records.append(receive_mail(raw=raw, source=InboundSource.IMAP))
        except Exception as error:  # one broken message must not stop the mailbox
            logger.warning("inbound_mail.failed", uid=uid.decode(), error=str(error))
            failed.append(f"{uid.decode()}: {type(error).__name__}: {error}")
            continue
        mailbox.uid("STORE", uid, "+FLAGS", "(\\Seen)")
    return MailboxRun(len(uids), records, failed)
