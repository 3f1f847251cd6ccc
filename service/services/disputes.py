"""Write side of the service desk: disputes. Opening a dispute places a dispute hold on the invoice and
resolving it (by a credit note, rejected with a reason, withdrawn) or its expiry releases that hold,
both through invoicing's services, in the dispute's transaction. A dispute raised on a ticket links the
invoice to it; its resolution is told to the customer there, in their language, and solves the ticket.

Lock order: the dispute row, then (inside invoicing's services) the invoice or its hold.
"""

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from invoicing.models import DocumentKind, HoldKind, Invoice, InvoiceLine, InvoiceStatus
from invoicing.selectors import active_hold
from invoicing.services import place_hold, release_hold
from otc.audit import acting
from otc.errors import InvalidInput
from otc.events import publish
from otc.models import User
from otc.money import quantize
from service.errors import AlreadyDisputed, CreditNoteMismatch, DocumentOfAnotherCustomer, NotDisputable, NotInDispute
from service.events import DisputeOpened
from service.models import (
    Dispute,
    DisputeReason,
    DisputeResolution,
    DisputeStatus,
    MessageKind,
    Ticket,
    TicketCategory,
    TicketChannel,
    TicketStatus,
)
from service.services.tickets import add_message, change_status, open_ticket

DISPUTE_DAYS = 60  # how long a dispute holds its invoice unless resolved earlier


@transaction.atomic
def open_dispute(
    *,
    invoice: Invoice,
    reason: str,
    description: str,
    actor: User,
    amount: Decimal | None = None,
    lines: Iterable[InvoiceLine] = (),
    expires_on: date | None = None,
    ticket: Ticket | None = None,
) -> Dispute:
    """Record the customer's dispute and hold the invoice: dunning and reminders leave it alone until
    the dispute is resolved or expires. Raised on a `ticket` (of the invoice's customer), the invoice
    is linked to it and the resolution is told there."""
    if reason not in DisputeReason.values:
        raise InvalidInput(
            f"No dispute reason {reason!r}.", fields={"reason": [f"One of {', '.join(DisputeReason.values)}."]}
        )
    if not description.strip():
        raise InvalidInput("Say what the customer disputes.", fields={"description": ["This field is required."]})
    if invoice.kind != DocumentKind.INVOICE:
        raise NotDisputable(f"{invoice} is a credit note; only invoices are disputed.")
    if amount is not None and (
        amount <= 0 or amount > invoice.gross_total or quantize(amount, invoice.currency) != amount
    ):
        raise InvalidInput(
            f"The disputed amount is above zero and at most {invoice.gross_total} {invoice.currency}.",
            fields={"amount": [f"At most {invoice.gross_total}, in {invoice.currency} minor units."]},
        )
    lines = list(lines)
    if any(line.invoice_id != invoice.pk for line in lines):
        raise InvalidInput("Dispute lines of this invoice only.", fields={"lines": ["Not a line of the invoice."]})
    today = timezone.localdate()
    expires_on = expires_on or today + timedelta(days=DISPUTE_DAYS)
    if expires_on <= today:
        raise InvalidInput("A dispute expires after today.", fields={"expires_on": ["After today."]})
    if ticket is not None and ticket.customer_id != invoice.customer_id:
        raise DocumentOfAnotherCustomer(
            f"{invoice} is another customer's than {ticket}'s.", fields={"invoice": ["Another customer's invoice."]}
        )
    if Dispute.objects.filter(invoice=invoice, status=DisputeStatus.OPEN).exists():
        raise AlreadyDisputed(f"{invoice} has an open dispute already.")
    with acting(actor, f"dispute opened: {description.strip()}"[:300]):
        dispute = Dispute.objects.create(
            customer_id=invoice.customer_id,
            invoice=invoice,
            reason=reason,
            description=description.strip(),
            currency=invoice.currency,
            disputed_amount=amount,
            expires_on=expires_on,
            opened_by=actor,
            opened_at=timezone.now(),
            ticket=ticket,
        )
        dispute.disputed_lines.set(lines)
        if ticket is not None:
            ticket.invoices.add(invoice)
        place_hold(
            invoice=invoice,
            kind=HoldKind.DISPUTE,
            reason_code=reason,
            text=description,
            source=dispute.source,
            actor=actor,
        )
    publish(
        DisputeOpened(
            dispute_id=dispute.pk,
            invoice_id=invoice.pk,
            invoice_number=invoice.number,
            customer_id=invoice.customer_id,
            customer_number=invoice.customer.number,
            ticket_id=ticket.pk if ticket else None,
            actor_id=actor.pk,
        )
    )
    return dispute


@transaction.atomic
def dispute_from_portal(
    *, invoice: Invoice, reason: str, description: str, actor: User, lines: Iterable[InvoiceLine] = ()
) -> Dispute:
    """The customer disputes an invoice (or some of its lines) in the portal: a ticket opens with
    their words, linked to the invoice, and the dispute is raised on it, so the conversation and the
    resolution happen there. Both or neither."""
    labels = dict(DisputeReason.choices)
    ticket = open_ticket(
        customer=invoice.customer,
        subject=f"Dispute of invoice {invoice.number}",
        body=f"{labels.get(reason, reason)}: {description.strip()}" if description.strip() else "",
        channel=TicketChannel.PORTAL,
        category=TicketCategory.BILLING,
        actor=actor,
        sender_email=actor.email,
        links=[invoice],
    )
    return open_dispute(
        invoice=invoice, reason=reason, description=description, actor=actor, lines=lines, ticket=ticket
    )


@transaction.atomic
def resolve_dispute(
    *, dispute: Dispute, resolution: str, actor: User, credit_note: Invoice | None = None, note: str = ""
) -> Dispute:
    """Close the dispute and release its hold: settled by a credit note against the invoice, rejected
    (say why), or withdrawn by the customer. Dunning picks the invoice up at its next run."""
    if resolution not in {DisputeResolution.CREDIT_NOTE, DisputeResolution.REJECTED, DisputeResolution.WITHDRAWN}:
        raise InvalidInput(
            f"No resolution {resolution!r}.", fields={"resolution": ["credit_note, rejected or withdrawn."]}
        )
    dispute = Dispute.objects.select_for_update().get(pk=dispute.pk)
    if resolution == DisputeResolution.REJECTED and not note.strip():
        raise InvalidInput("Say why the dispute is rejected.", fields={"note": ["This field is required."]})
    if resolution == DisputeResolution.CREDIT_NOTE:
        if credit_note is None:
            raise InvalidInput("Name the credit note.", fields={"credit_note": ["This field is required."]})
        if not (
            credit_note.kind == DocumentKind.CREDIT_NOTE
            and credit_note.credited_invoice_id == dispute.invoice_id
            and credit_note.status != InvoiceStatus.DRAFT
        ):
            raise CreditNoteMismatch(f"{credit_note} is not an issued credit note of {dispute.invoice}.")
    elif credit_note is not None:
        raise InvalidInput(
            "Only a credit note resolution names a credit note.", fields={"credit_note": ["Leave empty."]}
        )
    return _close(dispute, resolution=resolution, actor=actor, credit_note=credit_note, note=note)


@transaction.atomic
def expire_disputes(*, today: date, actor: User) -> int:
    """Close the open disputes whose expiry date passed and release their holds; returns how many."""
    expired = Dispute.objects.select_for_update(skip_locked=True).filter(
        status=DisputeStatus.OPEN, expires_on__lt=today
    )
    closed = 0
    for dispute in expired.order_by("pk"):
        _close(dispute, resolution=DisputeResolution.EXPIRED, actor=actor, credit_note=None, note="")
        closed += 1
    return closed


def _close(dispute: Dispute, *, resolution: str, actor: User, credit_note: Invoice | None, note: str) -> Dispute:
    """Call while holding SELECT FOR UPDATE on the dispute."""
    if dispute.status != DisputeStatus.OPEN:
        raise NotInDispute(f"{dispute} is resolved already.")
    with acting(actor, f"dispute {resolution}: {note.strip()}"[:300]):
        dispute.status, dispute.resolution = DisputeStatus.RESOLVED, resolution
        dispute.credit_note, dispute.resolution_note = credit_note, note.strip()[:300]
        dispute.resolved_by, dispute.resolved_at = actor, timezone.now()
        dispute.save(
            update_fields=["status", "resolution", "credit_note", "resolution_note", "resolved_by", "resolved_at"]
        )
        hold = active_hold(source=dispute.source)
        if hold is not None:
            release_hold(hold=hold, actor=actor, note=f"Dispute {dispute.get_resolution_display().lower()}")
    if dispute.ticket_id is not None:
        _tell_on_ticket(dispute, actor=actor)
    return dispute


def _resolution_text(dispute: Dispute) -> str:
    number = dispute.invoice.number
    if dispute.resolution == DisputeResolution.CREDIT_NOTE:
        return gettext(
            "We have issued credit note %(credit_note)s for invoice %(invoice)s; your dispute is settled."
        ) % {
            "credit_note": dispute.credit_note.number,
            "invoice": number,
        }
    if dispute.resolution == DisputeResolution.REJECTED:
        return gettext("We have reviewed your dispute of invoice %(invoice)s and cannot accept it: %(reason)s") % {
            "invoice": number,
            "reason": dispute.resolution_note,
        }
    if dispute.resolution == DisputeResolution.WITHDRAWN:
        return gettext("As you asked, your dispute of invoice %(invoice)s is withdrawn.") % {"invoice": number}
    return gettext("Your dispute of invoice %(invoice)s has expired; the invoice is due again.") % {"invoice": number}


def _tell_on_ticket(dispute: Dispute, *, actor: User) -> None:
    """A reply on the dispute's ticket in the customer's language, then the ticket is solved (a closed
    ticket only gets an internal note)."""
    ticket = dispute.ticket
    with translation.override(dispute.customer.language):
        text = _resolution_text(dispute)
    if ticket.status == TicketStatus.CLOSED:
        add_message(ticket=ticket, kind=MessageKind.INTERNAL_NOTE, body=text, actor=actor)
        return
    add_message(ticket=ticket, kind=MessageKind.REPLY, body=text, actor=actor)
    ticket.refresh_from_db(fields=["status"])
    if ticket.status != TicketStatus.SOLVED:
        change_status(ticket=ticket, status=TicketStatus.SOLVED, actor=actor)
