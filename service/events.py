"""Domain events of the service desk, published inside the changing transaction (see `otc.events`)."""

from dataclasses import dataclass
from datetime import datetime

from otc.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class TicketOpened(DomainEvent):
    """A ticket was opened (by email, portal, phone or an agent); an unknown sender's has no customer."""

    type = "ticket.opened"
    ticket_id: int
    ticket_number: str
    customer_id: int | None
    customer_number: str | None
    channel: str
    actor_id: int


@dataclass(frozen=True, kw_only=True)
class TicketReplyPosted(DomainEvent):
    """An agent posted a reply the customer is emailed."""

    type = "ticket.reply_posted"
    ticket_id: int
    ticket_number: str
    message_id: int
    actor_id: int


@dataclass(frozen=True, kw_only=True)
class TicketSlaAlertRaised(DomainEvent):
    """A ticket's SLA target is due soon or was missed (once per ticket and kind)."""

    type = "ticket.sla_alert_raised"
    ticket_id: int
    ticket_number: str
    alert_id: int
    kind: str
    due_at: datetime


@dataclass(frozen=True, kw_only=True)
class TicketSolved(DomainEvent):
    """A ticket moved to solved (once per solving; a survey may follow)."""

    type = "ticket.solved"
    ticket_id: int
    ticket_number: str
    customer_id: int
    customer_number: str
    actor_id: int


@dataclass(frozen=True, kw_only=True)
class SurveyScoredLow(DomainEvent):
    """A survey answer at or below the low CSAT or NPS mark (nothing reopens by itself)."""

    type = "survey.scored_low"
    survey_id: int
    customer_id: int
    customer_number: str
    ticket_id: int | None
    csat: int
    nps: int | None


@dataclass(frozen=True, kw_only=True)
class DisputeOpened(DomainEvent):
    """An invoice (or some of its lines) was disputed; dunning pauses while the dispute is open."""

    type = "dispute.opened"
    dispute_id: int
    invoice_id: int
    invoice_number: str
    customer_id: int
    customer_number: str
    ticket_id: int | None
    actor_id: int
