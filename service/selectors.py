"""Read side of the service desk: tickets and disputes with what their lists show, at a constant query
cost; ticket search and SLA standing."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.postgres.search import SearchQuery
from django.db.models import Count, Q, QuerySet

from service.models import (
    CUSTOMER_VISIBLE,
    Dispute,
    DisputeStatus,
    Intent,
    Ticket,
    TicketMessage,
    TicketRecognition,
    TicketStatus,
)


def dispute_list() -> QuerySet[Dispute]:
    return Dispute.objects.select_related(
        "customer", "invoice", "credit_note", "opened_by", "resolved_by", "ticket"
    ).order_by("-opened_at", "-pk")


def open_disputes() -> QuerySet[Dispute]:
    return dispute_list().filter(status=DisputeStatus.OPEN)


def breach_soon_horizon(now: datetime) -> datetime:
    """Targets due before this count as breaching soon."""
    return now + timedelta(minutes=settings.OTC_SLA_BREACH_SOON_MINUTES)


def ticket_list() -> QuerySet[Ticket]:
    """Tickets with what lists and the API show, at a constant number of queries per page."""
    return Ticket.objects.select_related("customer", "contact", "team", "assignee").prefetch_related(
        "orders", "shipments", "invoices", "payments", "bank_lines"
    )


def customer_visible_messages(ticket: Ticket) -> QuerySet[TicketMessage]:
    """The conversation as the customer sees it: no internal notes."""
    return (
        ticket.messages.filter(kind__in=CUSTOMER_VISIBLE)
        .select_related("author", "contact")
        .prefetch_related("attachments")
        .order_by("created_at", "pk")
    )


def conversation(ticket: Ticket) -> QuerySet[TicketMessage]:
    """Every message, internal notes included, for staff."""
    return (
        ticket.messages.select_related("author", "contact").prefetch_related("attachments").order_by("created_at", "pk")
    )


def ticket_search(queryset: QuerySet[Ticket], text: str) -> QuerySet[Ticket]:
    """By ticket number (exact), customer number (exact), or words in the subject and messages
    (PostgreSQL full-text search over the GIN-indexed vector)."""
    text = text.strip()
    if not text:
        return queryset
    return queryset.filter(
        Q(number=text.upper())
        | Q(customer__number=text.upper())
        | Q(search_vector=SearchQuery(text, config="simple", search_type="websearch"))
    )


def breaching_soon(queryset: QuerySet[Ticket], *, now: datetime) -> QuerySet[Ticket]:
    """Tickets whose next SLA target is missed or due within the breach-soon window."""
    return queryset.filter(sla_due_at__lte=breach_soon_horizon(now))


def sla_state(ticket: Ticket, *, now: datetime) -> str:
    """How the ticket stands against its SLA, for lists: breached, soon, on track, paused, met, none."""
    if ticket.status in (TicketStatus.SOLVED, TicketStatus.CLOSED):
        return "met" if ticket.sla_policy_id and not _missed(ticket) else ("missed" if ticket.sla_policy_id else "none")
    if ticket.status == TicketStatus.WAITING_ON_CUSTOMER:
        return "paused" if ticket.sla_policy_id else "none"
    if ticket.sla_due_at is None:
        return "none"
    if ticket.sla_due_at <= now:
        return "breached"
    return "soon" if ticket.sla_due_at <= breach_soon_horizon(now) else "on track"


def _missed(ticket: Ticket) -> bool:
    late_response = (
        ticket.first_response_due_at is not None
        and (ticket.first_response_at or ticket.solved_at) > ticket.first_response_due_at
    )
    late_resolution = ticket.resolution_due_at is not None and ticket.solved_at > ticket.resolution_due_at
    return late_response or late_resolution


@dataclass(frozen=True)
class AnswerShare:
    """How the automated answers did for one intent (or all: intent "")."""

    intent: str
    label: str
    recognised: int
    answered: int
    helpful: int
    not_helpful: int
    handed_over_after: int

    @property
    def share(self) -> float:
        return self.answered / self.recognised if self.recognised else 0.0

    @property
    def helpfulness(self) -> float | None:
        rated = self.helpful + self.not_helpful
        return self.helpful / rated if rated else None


def automated_answer_summary(*, since: datetime | None = None) -> list[AnswerShare]:
    """Per intent and overall, in one grouped query: tickets recognised, answered automatically, the
    customers' yes and no, and answered tickets a person had to take over."""
    rows = TicketRecognition.objects.all()
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    answered = Q(answer__isnull=False)
    grouped = {
        row["intent"]: row
        for row in rows.values("intent").annotate(
            n_recognised=Count("pk"),
            n_answered=Count("pk", filter=answered),
            n_helpful=Count("pk", filter=Q(helpful=True)),
            n_not_helpful=Count("pk", filter=Q(helpful=False)),
            n_handed_over_after=Count("pk", filter=answered & ~Q(handed_over="")),
        )
    }
    figures = ("recognised", "answered", "helpful", "not_helpful", "handed_over_after")
    shares = [
        AnswerShare(intent, label, *(grouped.get(intent, {}).get(f"n_{name}", 0) for name in figures))
        for intent, label in Intent.choices
    ]
    total = AnswerShare("", "All", *(sum(getattr(share, name) for share in shares) for name in figures))
    return [*shares, total]
