"""Write side of the service desk's tickets. `open_ticket` and `add_message` are the one way in for
every channel (portal, email, API, staff): each validates everything before it writes anything,
numbers the ticket gaplessly per year, keeps the SLA clocks and the full-text index current, and
announces customer-visible replies so workflows emails them through the outbox.

Lock order: the ticket row (SELECT FOR UPDATE), then the year's number series row.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection, models, transaction
from django.utils import timezone

from customers.models import Contact, Customer
from invoicing.models import Invoice
from orders.models import Order, Shipment
from otc.errors import InvalidInput
from otc.events import publish
from otc.models import User
from otc.numbering import take_gapless_numbers
from payments.models import BankStatementLine, Payment
from service.attachments import check_customer_quota, checked_attachment
from service.canned import render_canned_reply
from service.errors import DocumentOfAnotherCustomer, TicketClosed, TicketTransitionRefused
from service.events import TicketOpened, TicketReplyPosted, TicketSolved
from service.models import (
    CLOCK_STOPPED,
    ON_CUSTOMER_MESSAGE,
    TRANSITIONS,
    CannedReply,
    MessageKind,
    Team,
    Ticket,
    TicketAttachment,
    TicketCategory,
    TicketChannel,
    TicketMessage,
    TicketNumberSeries,
    TicketPriority,
    TicketStatus,
)
from service.services import sla

NUMBER_CODE = "TKT"
# The ticket's relation for each kind of document it may link.
LINKS: dict[type[models.Model], str] = {
    Order: "orders",
    Shipment: "shipments",
    Invoice: "invoices",
    Payment: "payments",
    BankStatementLine: "bank_lines",
}


@dataclass(frozen=True)
class Upload:
    """A file as it arrived (portal form, email part, API body): its name and its bytes."""

    filename: str
    content: bytes


def _checked_uploads(uploads: Iterable[Upload], *, customer_id: int | None) -> list[tuple[Upload, str]]:
    """Each upload with its content type; `customer_id` when the customer sent them (quota applies)."""
    checked = [(upload, checked_attachment(filename=upload.filename, content=upload.content)) for upload in uploads]
    check_customer_quota(customer_id=customer_id, new_bytes=sum(len(upload.content) for upload, _ in checked))
    return checked


def _store_attachments(message: TicketMessage, checked: list[tuple[Upload, str]]) -> None:
    for upload, content_type in checked:
        attachment = TicketAttachment(
            message=message, filename=upload.filename[:255], content_type=content_type, size=len(upload.content)
        )
        attachment.file.save(upload.filename, ContentFile(upload.content), save=False)
        attachment.save()


def document_customer_id(document: models.Model) -> int | None:
    """Whose document it is. A bank line is its payment's customer's; an unmatched line is no one's yet."""
    if isinstance(document, BankStatementLine):
        return document.payment.customer_id if document.payment_id else None
    if isinstance(document, Shipment):
        return document.order.customer_id
    return document.customer_id


def _check_links(customer_id: int | None, documents: Iterable[models.Model]) -> list[models.Model]:
    documents = list(documents)
    for document in documents:
        if type(document) not in LINKS:
            raise InvalidInput(
                f"{document} is not a document a ticket links.", fields={"links": [f"Cannot link {document}."]}
            )
        owner = document_customer_id(document)
        if owner is not None and owner != customer_id:
            raise DocumentOfAnotherCustomer(
                f"{document} belongs to another customer.", fields={"links": [f"{document}: another customer's."]}
            )
    return documents


def _add_links(ticket: Ticket, documents: list[models.Model]) -> None:
    for document in documents:
        getattr(ticket, LINKS[type(document)]).add(document)


def _choice(field: str, value: str, choices: type[models.TextChoices]) -> str:
    if value not in choices.values:
        raise InvalidInput(f"No {field} {value!r}.", fields={field: [f"One of {', '.join(choices.values)}."]})
    return value


def _required_text(field: str, value: str, *, max_length: int | None = None) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(f"The {field} is required.", fields={field: ["This field is required."]})
    if max_length and len(value) > max_length:
        raise InvalidInput(f"The {field} is too long.", fields={field: [f"At most {max_length} characters."]})
    return value


def _check_contact(customer_id: int | None, contact: Contact | None) -> None:
    if contact is not None and contact.customer_id != customer_id:
        raise InvalidInput("The contact is not the customer's.", fields={"contact": ["Another customer's contact."]})


def _index(ticket_id: int, text: str, weight: str) -> None:
    """Add text to the ticket's full-text vector ('simple' configuration: no stemming, so English and
    German words alike are found as written)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE service_ticket SET search_vector = coalesce(search_vector, ''::tsvector) "
            "|| setweight(to_tsvector('simple', %s), %s) WHERE id = %s",
            [text, weight, ticket_id],
        )


def outgoing_message_id(ticket: Ticket, message: TicketMessage) -> str:
    """<tkt-2026-000123.m<message pk>@<domain of DEFAULT_FROM_EMAIL>>: replies to it thread back."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"
    return f"<{ticket.number.lower()}.m{message.pk}@{domain}>"


@transaction.atomic
def open_ticket(
    *,
    customer: Customer | None,
    subject: str,
    body: str,
    channel: str,
    actor: User,
    contact: Contact | None = None,
    sender_email: str = "",
    category: str = TicketCategory.OTHER,
    priority: str = TicketPriority.NORMAL,
    links: Iterable[models.Model] = (),
    attachments: Iterable[Upload] = (),
    team: Team | None = None,
    assignee: User | None = None,
    tags: Iterable[str] = (),
    email_message_id: str = "",
) -> Ticket:
    """Open a ticket with the customer's first message, from any channel. Nothing is written unless
    everything is valid: the contact and every linked document are the customer's, every attachment
    is an accepted type within the size limit. Only an email from an unknown sender comes without a
    customer (when settings allow it); such a ticket links no customer's documents."""
    subject = _required_text("subject", subject, max_length=300)
    body = _required_text("body", body)
    _choice("channel", channel, TicketChannel)
    _choice("category", category, TicketCategory)
    _choice("priority", priority, TicketPriority)
    customer_id = customer.pk if customer is not None else None
    _check_contact(customer_id, contact)
    _check_assignee(team, assignee)
    documents = _check_links(customer_id, links)
    checked = _checked_uploads(attachments, customer_id=customer_id)
    now = timezone.now()
    ticket = Ticket(
        number=take_gapless_numbers(series=TicketNumberSeries, code=NUMBER_CODE, year=timezone.localdate().year)[0],
        customer=customer,
        contact=contact,
        sender_email=sender_email,
        subject=subject,
        category=category,
        priority=priority,
        channel=channel,
        team=team,
        assignee=assignee,
        tags=sorted({tag.strip().lower() for tag in tags if tag.strip()}),
        created_by=actor,
    )
    sla.start_clocks(ticket, now=now)
    ticket.save()
    message = TicketMessage.objects.create(
        ticket=ticket,
        kind=MessageKind.CUSTOMER_MESSAGE,
        body=body,
        author=actor,
        contact=contact,
        sender_email=sender_email,
        email_message_id=email_message_id,
    )
    _store_attachments(message, checked)
    _add_links(ticket, documents)
    _index(ticket.pk, f"{ticket.number} {subject}", "A")
    _index(ticket.pk, body, "B")
    publish(
        TicketOpened(
            ticket_id=ticket.pk,
            ticket_number=ticket.number,
            customer_id=customer_id,
            customer_number=customer.number if customer is not None else None,
            channel=channel,
            actor_id=actor.pk,
        )
    )
    return ticket


def _locked(ticket: Ticket) -> Ticket:
    return (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("sla_policy__calendar", "customer")
        .get(pk=ticket.pk)
    )


def _move(ticket: Ticket, target: str, *, now: datetime) -> None:
    """Change status along the table, pausing or resuming the SLA clock. Call holding the ticket's lock."""
    allowed = TRANSITIONS[ticket.status]
    if target not in allowed:
        names = ", ".join(sorted(allowed)) or "none (closed is final)"
        raise TicketTransitionRefused(
            f"{ticket} cannot go from {ticket.status} to {target}; allowed: {names}.",
            fields={"status": [f"Allowed from {ticket.status}: {names}."]},
        )
    was_stopped = ticket.status in CLOCK_STOPPED
    ticket.status = target
    if target == TicketStatus.WAITING_ON_CUSTOMER:
        sla.pause_clock(ticket, now=now)
    elif was_stopped and target not in CLOCK_STOPPED:
        sla.resume_clock(ticket, now=now)
        ticket.solved_at = None
    if target == TicketStatus.SOLVED:
        ticket.solved_at = now
    if target == TicketStatus.CLOSED:
        ticket.closed_at, ticket.solved_at = now, ticket.solved_at or now
    sla.refresh_due(ticket)


STATUS_FIELDS = ["status", "solved_at", "closed_at", "first_response_at", *sla.SLA_FIELDS, "updated_at"]


@transaction.atomic
def add_message(
    *,
    ticket: Ticket,
    kind: str,
    body: str,
    actor: User,
    contact: Contact | None = None,
    sender_email: str = "",
    attachments: Iterable[Upload] = (),
    email_message_id: str = "",
    status: str | None = None,
) -> TicketMessage:
    """Add to the conversation, from any channel.

    A reply is emailed to the customer (and is the first response, if none was given yet; a new ticket
    becomes open); an internal note stays with staff; a customer message on a ticket that waited on
    the customer, or was solved, moves it back to the agents. `status` then moves it along the table.
    A closed ticket takes no replies or customer messages."""
    _choice("kind", kind, MessageKind)
    body = _required_text("body", body)
    ticket = _locked(ticket)
    sent_by_customer = kind == MessageKind.CUSTOMER_MESSAGE
    checked = _checked_uploads(attachments, customer_id=ticket.customer_id if sent_by_customer else None)
    _check_contact(ticket.customer_id, contact)
    if ticket.status == TicketStatus.CLOSED and kind != MessageKind.INTERNAL_NOTE:
        raise TicketClosed(f"{ticket} is closed; a new message opens a new ticket.")
    now, before = timezone.now(), ticket.status
    message = TicketMessage.objects.create(
        ticket=ticket,
        kind=kind,
        body=body,
        author=actor,
        contact=contact,
        sender_email=sender_email,
        email_message_id=email_message_id,
    )
    _store_attachments(message, checked)
    if kind == MessageKind.REPLY:
        message.email_message_id = email_message_id or outgoing_message_id(ticket, message)
        message.save(update_fields=["email_message_id"])
        ticket.first_response_at = ticket.first_response_at or message.created_at
        if ticket.status == TicketStatus.NEW and status is None:
            _move(ticket, TicketStatus.OPEN, now=now)
    elif kind == MessageKind.CUSTOMER_MESSAGE and ticket.status in ON_CUSTOMER_MESSAGE:
        _move(ticket, ON_CUSTOMER_MESSAGE[ticket.status], now=now)
    if status is not None and status != ticket.status:
        _move(ticket, status, now=now)
    sla.refresh_due(ticket)
    ticket.save(update_fields=STATUS_FIELDS)
    _announce_if_solved(ticket, before=before, actor=actor)
    _index(ticket.pk, body, "B")
    if kind == MessageKind.REPLY:
        publish(
            TicketReplyPosted(
                ticket_id=ticket.pk, ticket_number=ticket.number, message_id=message.pk, actor_id=actor.pk
            )
        )
    return message


@transaction.atomic
def change_status(*, ticket: Ticket, status: str, actor: User) -> Ticket:
    """Move the ticket along the transition table; a refused move names the allowed targets."""
    _choice("status", status, TicketStatus)
    ticket = _locked(ticket)
    before = ticket.status
    _move(ticket, status, now=timezone.now())
    ticket.save(update_fields=STATUS_FIELDS)
    _announce_if_solved(ticket, before=before, actor=actor)
    return ticket


def _announce_if_solved(ticket: Ticket, *, before: str, actor: User) -> None:
    """A ticket that just became solved is announced once per solving (a survey may follow)."""
    if ticket.status == TicketStatus.SOLVED and before != TicketStatus.SOLVED:
        publish(
            TicketSolved(
                ticket_id=ticket.pk,
                ticket_number=ticket.number,
                customer_id=ticket.customer_id,
                customer_number=ticket.customer.number,
                actor_id=actor.pk,
            )
        )


@transaction.atomic
def change_priority(*, ticket: Ticket, priority: str, actor: User) -> Ticket:
    """A new priority restarts the SLA clocks from now under the matching policy."""
    _choice("priority", priority, TicketPriority)
    ticket = _locked(ticket)
    if ticket.priority != priority:
        ticket.priority = priority
        sla.start_clocks(ticket, now=timezone.now())
        ticket.save(update_fields=["priority", *sla.SLA_FIELDS, "updated_at"])
    return ticket


def _check_assignee(team: Team | None, assignee: User | None) -> None:
    if assignee is None:
        return
    if not (assignee.is_active and assignee.is_staff):
        raise InvalidInput(f"{assignee} is not an active agent.", fields={"assignee": ["Not an active agent."]})
    if team is not None and not team.members.filter(pk=assignee.pk).exists():
        raise InvalidInput(f"{assignee} is not in {team}.", fields={"assignee": [f"Not a member of {team}."]})


@transaction.atomic
def assign(*, ticket: Ticket, team: Team | None, assignee: User | None, actor: User) -> Ticket:
    """Give the ticket to a team and/or an agent of it (None leaves it unassigned)."""
    _check_assignee(team, assignee)
    ticket = _locked(ticket)
    ticket.team, ticket.assignee = team, assignee
    ticket.save(update_fields=["team", "assignee", "updated_at"])
    return ticket


def _locked_many(tickets: Iterable[Ticket]) -> list[Ticket]:
    ids = sorted({ticket.pk for ticket in tickets})
    return list(
        Ticket.objects.select_for_update(of=("self",))
        .select_related("sla_policy__calendar")
        .filter(pk__in=ids)
        .order_by("pk")
    )


@transaction.atomic
def bulk_assign(*, tickets: Iterable[Ticket], team: Team | None, assignee: User | None, actor: User) -> int:
    """Assign many tickets at once, all or none; returns how many."""
    _check_assignee(team, assignee)
    locked = _locked_many(tickets)
    Ticket.objects.filter(pk__in=[ticket.pk for ticket in locked]).update(
        team=team, assignee=assignee, updated_at=timezone.now()
    )
    return len(locked)


@transaction.atomic
def bulk_close(*, tickets: Iterable[Ticket], actor: User) -> int:
    """Close many tickets at once, all or none (a closed one among them is refused); returns how many."""
    now = timezone.now()
    locked = _locked_many(tickets)
    for ticket in locked:
        _move(ticket, TicketStatus.CLOSED, now=now)
        ticket.updated_at = now
    Ticket.objects.bulk_update(locked, ["status", "solved_at", "closed_at", *sla.SLA_FIELDS, "updated_at"])
    return len(locked)


@transaction.atomic
def apply_canned_reply(
    *, ticket: Ticket, canned_reply: CannedReply, actor: User, status: str | None = None
) -> TicketMessage:
    """Reply with a macro, its placeholders filled from the ticket, its customer and documents."""
    body = render_canned_reply(body=canned_reply.body, ticket=ticket, agent=actor)
    return add_message(ticket=ticket, kind=MessageKind.REPLY, body=body, actor=actor, status=status)


@transaction.atomic
def link_documents(*, ticket: Ticket, documents: Iterable[models.Model], actor: User) -> Ticket:
    """Link orders, shipments, invoices or credit notes, payments and bank lines of the ticket's customer."""
    ticket = _locked(ticket)
    _add_links(ticket, _check_links(ticket.customer_id, documents))
    return ticket


@transaction.atomic
def unlink_documents(*, ticket: Ticket, documents: Iterable[models.Model], actor: User) -> Ticket:
    ticket = _locked(ticket)
    for document in _check_links(ticket.customer_id, documents):
        getattr(ticket, LINKS[type(document)]).remove(document)
    return ticket
