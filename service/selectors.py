"""Read side of the service desk: tickets and disputes with what their lists show, at a constant query
cost; ticket search and SLA standing; key accounts and who hears of their events; survey results."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.search import SearchQuery
from django.db.models import Avg, Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from customers.models import Customer
from invoicing.models import DocumentKind, Invoice
from invoicing.selectors import overdue_condition
from orders.models import OPEN_STATUSES, Order, OrderStatus
from orders.selectors import Exposure, customer_exposure
from payments.models import Payment, PromiseStatus, PromiseToPay
from payments.money.selectors import CurrencyBalance, customer_balances
from service.models import (
    CUSTOMER_VISIBLE,
    LOW_CSAT,
    LOW_NPS,
    Dispute,
    DisputeStatus,
    Intent,
    KeyAccount,
    Survey,
    Team,
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


def key_account(customer: Customer) -> KeyAccount | None:
    """The customer's key-account record: its own, else its group's; None when it is no key account."""
    return (
        KeyAccount.objects.select_related("team__lead")
        .filter(Q(customer=customer) | Q(group_id=customer.group_id, group__isnull=False))
        .order_by(F("group_id").asc(nulls_first=True))  # the customer's own record first
        .first()
    )


def account_recipients(customer: Customer, *, team: Team | None = None) -> list[str]:
    """Who hears of an account's events: its sales rep and the team (the one given, such as the
    ticket's, else the key account's team), lead and members, active staff only."""
    team = team or getattr(key_account(customer), "team", None)
    people = [customer.sales_rep]
    if team is not None:
        people += [team.lead, *team.members.filter(is_active=True)]
    return sorted({person.email for person in people if person is not None and person.is_active and person.email})


# What survey results are grouped by, and the field that names each group.
SURVEY_DIMENSIONS = {
    "agent": "agent__email",
    "team": "team__name",
    "category": "category",
    "customer": "customer__number",
    "month": "month",
}


@dataclass(frozen=True)
class SurveyResult:
    """One group's results. CSAT is the share of answers scoring 4 or 5; NPS is promoters (9-10)
    less detractors (0-6) in percent of NPS answers; both None without answers."""

    group: str
    sent: int
    answered: int
    average_csat: Decimal | None
    csat_percent: Decimal | None
    nps: Decimal | None
    low_scores: int

    @property
    def response_percent(self) -> Decimal | None:
        return _percent(self.answered, self.sent)


def _percent(part: int, whole: int) -> Decimal | None:
    return (Decimal(100) * part / whole).quantize(Decimal("0.1")) if whole else None


def survey_list() -> QuerySet[Survey]:
    return Survey.objects.select_related("customer", "contact", "ticket", "shipment", "agent", "team")


def pending_surveys(*, now: datetime) -> QuerySet[Survey]:
    """Surveys still to answer whose link has not expired."""
    return survey_list().filter(answered_at__isnull=True, expires_at__gt=now).order_by("-sent_at", "-pk")


def survey_results(*, by: str, start: date, end: date, customer: Customer | None = None) -> list[SurveyResult]:
    """Surveys sent from `start` to `end` (inclusive), grouped by agent, team, category, customer or
    month, in one grouped query."""
    if by not in SURVEY_DIMENSIONS:
        raise ValueError(f"Survey results are grouped by one of {', '.join(SURVEY_DIMENSIONS)}.")
    field = SURVEY_DIMENSIONS[by]
    surveys = Survey.objects.filter(sent_at__date__gte=start, sent_at__date__lte=end)
    if customer is not None:
        surveys = surveys.filter(customer=customer)
    rows = (
        surveys.annotate(month=TruncMonth("sent_at"))
        .values(field)
        .annotate(
            sent=Count("pk"),
            answered=Count("answered_at"),
            average_csat=Avg("csat"),
            satisfied=Count("pk", filter=Q(csat__gte=4)),
            nps_answers=Count("nps"),
            promoters=Count("pk", filter=Q(nps__gte=9)),
            detractors=Count("pk", filter=Q(nps__lte=6)),
            low_scores=Count("pk", filter=Q(csat__lte=LOW_CSAT) | Q(nps__lte=LOW_NPS)),
        )
        .order_by(field)
    )
    return [
        SurveyResult(
            group=_group_name(row[field]),
            sent=row["sent"],
            answered=row["answered"],
            average_csat=Decimal(row["average_csat"]).quantize(Decimal("0.01")) if row["answered"] else None,
            csat_percent=_percent(row["satisfied"], row["answered"]),
            nps=_percent(row["promoters"] - row["detractors"], row["nps_answers"]),
            low_scores=row["low_scores"],
        )
        for row in rows
    ]


def _group_name(value) -> str:
    if value is None or value == "":
        return "(none)"
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m")
    return str(value)


def customer_survey_scores(customer: Customer) -> SurveyResult | None:
    """The customer's results over all time, for the customer 360."""
    results = survey_results(by="customer", start=date.min, end=date.max, customer=customer)
    return results[0] if results else None


OPEN_TICKET_STATUSES = [
    TicketStatus.NEW,
    TicketStatus.OPEN,
    TicketStatus.WAITING_ON_US,
    TicketStatus.WAITING_ON_CUSTOMER,
]
CUSTOMER_360_ROWS = 10  # rows shown per list; the counts are the full figures


@dataclass(frozen=True)
class Customer360:
    """Everything an agent needs about a customer on one screen."""

    balances: list[CurrencyBalance]
    overdue: dict[str, Decimal]
    open_orders: list[Order]
    open_order_count: int
    open_invoices: list[Invoice]
    open_invoice_count: int
    open_tickets: list[Ticket]
    open_ticket_count: int
    recent_tickets: list[Ticket]
    open_disputes: list[Dispute]
    surveys: SurveyResult | None
    exposure: Exposure
    held_orders: list[Order]
    last_payments: list[Payment]
    open_promises: list[PromiseToPay]


def customer_360(customer: Customer) -> Customer360:
    """The customer's money (balance, overdue, exposure against the credit limit, last payments, open
    promises), orders (open and held), invoices, tickets, disputes and survey scores in a fixed number
    of queries, however many rows there are."""
    orders = Order.objects.filter(customer=customer, status__in=OPEN_STATUSES).order_by("-pk")
    invoices = Invoice.objects.filter(customer=customer, kind=DocumentKind.INVOICE, open_amount__gt=0)
    tickets = Ticket.objects.filter(customer=customer).select_related("assignee", "team")
    open_tickets = tickets.filter(status__in=OPEN_TICKET_STATUSES)
    overdue = invoices.filter(overdue_condition()).values_list("currency").annotate(total=Sum("open_amount"))
    return Customer360(
        balances=customer_balances(customer),
        overdue=dict(overdue.order_by("currency")),
        open_orders=list(orders[:CUSTOMER_360_ROWS]),
        open_order_count=orders.count(),
        open_invoices=list(invoices.order_by("due_date", "pk")[:CUSTOMER_360_ROWS]),
        open_invoice_count=invoices.count(),
        open_tickets=list(open_tickets.order_by("-pk")[:CUSTOMER_360_ROWS]),
        open_ticket_count=open_tickets.count(),
        recent_tickets=list(tickets.exclude(status__in=OPEN_TICKET_STATUSES).order_by("-pk")[:5]),
        open_disputes=list(open_disputes().filter(customer=customer)),
        surveys=customer_survey_scores(customer),
        exposure=customer_exposure(customer=customer),
        held_orders=list(
            Order.objects.filter(customer=customer, status=OrderStatus.ON_CREDIT_HOLD).order_by("-pk")[
                :CUSTOMER_360_ROWS
            ]
        ),
        last_payments=list(Payment.objects.filter(customer=customer).order_by("-received_on", "-pk")[:5]),
        open_promises=list(
            PromiseToPay.objects.filter(customer=customer, status=PromiseStatus.OPEN).order_by("promised_date")[:5]
        ),
    )


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


def automated_answer_summary(*, since: datetime | None = None, until: datetime | None = None) -> list[AnswerShare]:
    """Per intent and overall, in one grouped query: tickets recognised (from `since`, up to `until`),
    answered automatically, the customers' yes and no, and answered tickets a person had to take over."""
    rows = TicketRecognition.objects.all()
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    if until is not None:
        rows = rows.filter(created_at__lte=until)
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
