"""Domain events of the service desk, published inside the changing transaction (see `otc.events`)."""

from dataclasses import dataclass
from datetime import datetime

from otc.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class TicketOpened(DomainEvent):
    """A customer's ticket was opened (by email, portal, phone or an agent)."""

    type = "ticket.opened"
    ticket_id: int
    ticket_number: str
    customer_id: int
    customer_number: str
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
