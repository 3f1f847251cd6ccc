"""Service desk reports, read from service's tickets, surveys, recognitions and disputes: ticket volume
per week, first-response and resolution times against the SLA, the backlog by age, satisfaction
(service's own survey results), the automated answers and disputes with their amounts.

Days and weeks are in the project's time zone; weeks start on Monday. Times to first response and to
resolution are wall-clock hours from the ticket's creation; whether a target was met is judged
against the ticket's own due times, which service sets in business hours of the SLA's calendar.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from analytics.errors import UnknownGrouping
from analytics.selectors.receivables import HUNDRED, Period
from analytics.selectors.sql import fetch_all
from otc.exchange_rates import company_currency
from otc.money import quantize
from service.models import (
    DisputeReason,
    DisputeResolution,
    Ticket,
    TicketCategory,
    TicketChannel,
    TicketPriority,
    TicketStatus,
)
from service.selectors import OPEN_TICKET_STATUSES, AnswerShare, automated_answer_summary

# What ticket reports group by: the SQL of a group's key over the ticket `t`, and its labels (None:
# the team's name, joined as `tm`).
TICKET_GROUPINGS = {
    "channel": ("t.channel", dict(TicketChannel.choices)),
    "category": ("t.category", dict(TicketCategory.choices)),
    "priority": ("t.priority", dict(TicketPriority.choices)),
    "team": ("COALESCE(t.team_id::text, '')", None),
}
DISPUTE_GROUPINGS = {
    "reason": ("x.reason", "MIN(x.reason)"),
    "customer": ("x.customer_id::text", "MIN(c.number || ' ' || c.legal_name)"),
}
SURVEY_GROUPINGS = ("agent", "team", "category", "month")
NO_TEAM = "No team"

# Open tickets by how long ago they were opened: (name, lower bound in days, upper bound, exclusive).
BACKLOG_AGES = [
    ("under 1 day", 0, 1),
    ("1-3 days", 1, 3),
    ("3-7 days", 3, 7),
    ("7-14 days", 7, 14),
    ("14+ days", 14, None),
]


def _choose(by: str, groupings) -> None:
    if by not in groupings:
        raise UnknownGrouping(
            f"This report cannot group by {by!r}.", fields={"group_by": [f"One of {', '.join(groupings)}."]}
        )


def check_survey_grouping(by: str) -> None:
    """Survey results (service's) group by agent, team, category or month here."""
    _choose(by, SURVEY_GROUPINGS)


def _ticket_group(by: str) -> str:
    _choose(by, TICKET_GROUPINGS)
    return TICKET_GROUPINGS[by][0]


def ticket_group_label(by: str, key: str, team_name: str | None) -> str:
    labels = TICKET_GROUPINGS[by][1]
    if labels is None:
        return team_name or NO_TEAM
    return labels.get(key, key)


def _percent(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) / whole * HUNDRED).quantize(Decimal("0.1")) if whole else None


def _created_in(period: Period) -> str:
    return "(t.created_at AT TIME ZONE %(tz)s)::date BETWEEN %(start)s AND %(end)s"


def _period_params(period: Period) -> dict:
    return {"start": period.start, "end": period.end, "tz": settings.TIME_ZONE}


@dataclass(frozen=True)
class VolumeRow:
    week: date  # its Monday
    key: str
    group: str
    created: int
    solved: int


def ticket_volume(*, period: Period, by: str = "channel") -> list[VolumeRow]:
    """Per week and group: tickets opened, and tickets solved (by when they were solved, of any age)."""
    key = _ticket_group(by)
    rows = fetch_all(
        f"""
        WITH events AS (
            SELECT date_trunc('week', t.created_at AT TIME ZONE %(tz)s)::date AS week, {key} AS key, t.team_id,
                   1 AS created, 0 AS solved
              FROM service_ticket t WHERE {_created_in(period)}
            UNION ALL
            SELECT date_trunc('week', t.solved_at AT TIME ZONE %(tz)s)::date, {key}, t.team_id, 0, 1
              FROM service_ticket t
             WHERE (t.solved_at AT TIME ZONE %(tz)s)::date BETWEEN %(start)s AND %(end)s
        )
        SELECT e.week, e.key, MIN(tm.name) AS team_name, SUM(e.created)::int AS created, SUM(e.solved)::int AS solved
          FROM events e LEFT JOIN service_team tm ON tm.id = e.team_id
         GROUP BY e.week, e.key ORDER BY e.week, e.key
        """,
        _period_params(period),
    )
    return [
        VolumeRow(
            week=row["week"],
            key=row["key"],
            group=ticket_group_label(by, row["key"], row["team_name"]),
            created=row["created"],
            solved=row["solved"],
        )
        for row in rows
    ]


@dataclass(frozen=True)
class SlaRow:
    """Of the tickets opened in the period, per group. A target counts once decided: met or missed,
    or still unmet after its due time; tickets without an SLA policy have none."""

    key: str
    group: str
    tickets: int
    first_response_targets: int
    first_response_met: int
    first_response_median_hours: Decimal | None
    first_response_p90_hours: Decimal | None
    resolution_targets: int
    resolution_met: int
    resolution_median_hours: Decimal | None
    resolution_p90_hours: Decimal | None

    @property
    def first_response_met_percent(self) -> Decimal | None:
        return _percent(self.first_response_met, self.first_response_targets)

    @property
    def resolution_met_percent(self) -> Decimal | None:
        return _percent(self.resolution_met, self.resolution_targets)


# A ticket's first response is its first reply, or its solving when it was solved without one (as
# service judges the target). Resolution is met when solved by the due time, or solved while the clock
# was paused with time left (the due time is then empty and the time left kept).
_RESPONDED_AT = "COALESCE(t.first_response_at, t.solved_at)"
FIRST_RESPONSE_DECIDED = (
    f"t.first_response_due_at IS NOT NULL AND ({_RESPONDED_AT} IS NOT NULL OR t.first_response_due_at <= %(now)s)"
)
FIRST_RESPONSE_MET = f"{_RESPONDED_AT} <= t.first_response_due_at"
RESOLUTION_DECIDED = "t.sla_policy_id IS NOT NULL AND (t.solved_at IS NOT NULL OR t.resolution_due_at <= %(now)s)"
RESOLUTION_MET = (
    "t.solved_at IS NOT NULL AND (t.solved_at <= t.resolution_due_at"
    " OR (t.resolution_due_at IS NULL AND t.resolution_left IS NOT NULL))"
)


def _hours_percentile(fraction: str, moment: str, condition: str) -> str:
    return (
        f"ROUND((percentile_cont({fraction}) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM {moment} - t.created_at) / 3600)"
        f" FILTER (WHERE {condition}))::numeric, 1)"
    )


def sla_performance(*, period: Period, by: str = "team") -> list[SlaRow]:
    """First response and resolution of the tickets opened in the period against their SLA targets:
    how many targets were decided and met, and the median and 90th percentile of the hours taken."""
    key = _ticket_group(by)
    responded = f"{_RESPONDED_AT} IS NOT NULL"
    rows = fetch_all(
        f"""
        SELECT {key} AS key, MIN(tm.name) AS team_name, COUNT(*) AS tickets,
               COUNT(*) FILTER (WHERE {FIRST_RESPONSE_DECIDED}) AS first_response_targets,
               COUNT(*) FILTER (WHERE {FIRST_RESPONSE_DECIDED} AND {FIRST_RESPONSE_MET}) AS first_response_met,
               {_hours_percentile("0.5", _RESPONDED_AT, responded)} AS first_response_median_hours,
               {_hours_percentile("0.9", _RESPONDED_AT, responded)} AS first_response_p90_hours,
               COUNT(*) FILTER (WHERE {RESOLUTION_DECIDED}) AS resolution_targets,
               COUNT(*) FILTER (WHERE {RESOLUTION_DECIDED} AND {RESOLUTION_MET}) AS resolution_met,
               {_hours_percentile("0.5", "t.solved_at", "t.solved_at IS NOT NULL")} AS resolution_median_hours,
               {_hours_percentile("0.9", "t.solved_at", "t.solved_at IS NOT NULL")} AS resolution_p90_hours
          FROM service_ticket t LEFT JOIN service_team tm ON tm.id = t.team_id
         WHERE {_created_in(period)}
         GROUP BY 1 ORDER BY 1
        """,
        {**_period_params(period), "now": timezone.now()},
    )
    return [
        SlaRow(
            **{name: value for name, value in row.items() if name != "team_name"},
            group=ticket_group_label(by, row["key"], row["team_name"]),
        )
        for row in rows
    ]


@dataclass(frozen=True)
class BacklogRow:
    key: str
    group: str
    ages: dict[str, int]
    total: int
    waiting_on_customer: int
    past_due: int  # the next SLA target already missed


def backlog(*, by: str = "team", now: datetime | None = None) -> list[BacklogRow]:
    """The tickets open now (not solved or closed), per group, by how long ago they were opened."""
    key = _ticket_group(by)
    now = now or timezone.now()
    ages = ", ".join(
        f"COUNT(*) FILTER (WHERE t.created_at <= %(now)s - interval '{low} days'"
        + (f" AND t.created_at > %(now)s - interval '{high} days'" if high is not None else "")
        + f") AS age_{index}"
        for index, (_name, low, high) in enumerate(BACKLOG_AGES)
    )
    rows = fetch_all(
        f"""
        SELECT {key} AS key, MIN(tm.name) AS team_name, {ages}, COUNT(*) AS total,
               COUNT(*) FILTER (WHERE t.status = '{TicketStatus.WAITING_ON_CUSTOMER}') AS waiting_on_customer,
               COUNT(*) FILTER (WHERE t.sla_due_at <= %(now)s) AS past_due
          FROM service_ticket t LEFT JOIN service_team tm ON tm.id = t.team_id
         WHERE t.status = ANY(%(open)s)
         GROUP BY 1 ORDER BY COUNT(*) DESC, 1
        """,
        {"now": now, "open": [str(status) for status in OPEN_TICKET_STATUSES]},
    )
    return [
        BacklogRow(
            key=row["key"],
            group=ticket_group_label(by, row["key"], row["team_name"]),
            ages={name: row[f"age_{index}"] for index, (name, _low, _high) in enumerate(BACKLOG_AGES)},
            total=row["total"],
            waiting_on_customer=row["waiting_on_customer"],
            past_due=row["past_due"],
        )
        for row in rows
    ]


TICKET_STATES = {
    "opened": "",
    "backlog": "t.status = ANY(%(open)s)",
    "first_response_missed": f"{FIRST_RESPONSE_DECIDED} AND NOT {FIRST_RESPONSE_MET}",
    "resolution_missed": f"{RESOLUTION_DECIDED} AND NOT COALESCE({RESOLUTION_MET}, false)",
}


def tickets(*, period: Period | None, by: str, key: str | None, state: str = "opened") -> QuerySet[Ticket]:
    """The tickets behind a figure, newest first: opened in the period (none: any time), of one group
    (`key` of grouping `by`), and in a state (open now, or a missed SLA target)."""
    group = _ticket_group(by)
    conditions = [condition for condition in [TICKET_STATES[state]] if condition]
    if period is not None:
        conditions.append(_created_in(period))
    if key is not None:
        conditions.append(f"{group} = %(key)s")
    where = " AND ".join(conditions) or "true"
    rows = fetch_all(
        f"SELECT t.id FROM service_ticket t WHERE {where} ORDER BY t.id DESC",
        {
            **(_period_params(period) if period is not None else {}),
            "key": key,
            "now": timezone.now(),
            "open": [str(status) for status in OPEN_TICKET_STATUSES],
        },
    )
    ids = [row["id"] for row in rows]
    return Ticket.objects.filter(pk__in=ids).select_related("customer", "team", "assignee").order_by("-pk")


@dataclass(frozen=True)
class AnswerRow:
    intent: str
    recognised: int
    answered: int
    answered_percent: Decimal | None
    rated: int
    helpful: int
    helpful_percent: Decimal | None
    handed_over_after: int


def automated_answers(*, period: Period) -> list[AnswerRow]:
    """Of the tickets recognised in the period, per intent and in all: how many were answered
    automatically, and of the answers the customer rated, how many helped (service's own counts)."""
    zone = timezone.get_current_timezone()
    shares: list[AnswerShare] = automated_answer_summary(
        since=datetime.combine(period.start, datetime.min.time(), tzinfo=zone),
        until=datetime.combine(period.end, datetime.max.time(), tzinfo=zone),
    )
    return [
        AnswerRow(
            intent=share.label,
            recognised=share.recognised,
            answered=share.answered,
            answered_percent=_percent(share.answered, share.recognised),
            rated=share.helpful + share.not_helpful,
            helpful=share.helpful,
            helpful_percent=_percent(share.helpful, share.helpful + share.not_helpful),
            handed_over_after=share.handed_over_after,
        )
        for share in shares
    ]


@dataclass(frozen=True)
class DisputeRow:
    """Disputes opened and resolved in the period, in the company currency at the invoices' rates:
    a dispute's amount is what it names, or the whole invoice when it names none."""

    key: str
    group: str
    opened: int
    opened_amount: Decimal
    resolved: int
    credited: int
    rejected: int
    withdrawn: int
    expired: int
    resolved_amount: Decimal
    credit_note_amount: Decimal
    average_days_to_resolve: Decimal | None


def disputes(*, period: Period, by: str = "reason") -> list[DisputeRow]:
    _choose(by, DISPUTE_GROUPINGS)
    key, label = DISPUTE_GROUPINGS[by]
    opened = "(x.opened_at AT TIME ZONE %(tz)s)::date BETWEEN %(start)s AND %(end)s"
    resolved = "(x.resolved_at AT TIME ZONE %(tz)s)::date BETWEEN %(start)s AND %(end)s"
    outcomes = ", ".join(
        f"COUNT(*) FILTER (WHERE {resolved} AND x.resolution = '{outcome}') AS {name}"
        for name, outcome in [
            ("credited", DisputeResolution.CREDIT_NOTE),
            ("rejected", DisputeResolution.REJECTED),
            ("withdrawn", DisputeResolution.WITHDRAWN),
            ("expired", DisputeResolution.EXPIRED),
        ]
    )
    rows = fetch_all(
        f"""
        SELECT {key} AS key, {label} AS label,
               COUNT(*) FILTER (WHERE {opened}) AS opened,
               COALESCE(SUM(COALESCE(x.disputed_amount, i.gross_total) * i.exchange_rate)
                        FILTER (WHERE {opened}), 0) AS opened_amount,
               COUNT(*) FILTER (WHERE {resolved}) AS resolved, {outcomes},
               COALESCE(SUM(COALESCE(x.disputed_amount, i.gross_total) * i.exchange_rate)
                        FILTER (WHERE {resolved}), 0) AS resolved_amount,
               COALESCE(SUM(n.gross_total * n.exchange_rate) FILTER (WHERE {resolved}), 0) AS credit_note_amount,
               ROUND((AVG(EXTRACT(EPOCH FROM x.resolved_at - x.opened_at) / 86400)
                      FILTER (WHERE {resolved}))::numeric, 1) AS average_days_to_resolve
          FROM service_dispute x
          JOIN invoicing_invoice i ON i.id = x.invoice_id
          JOIN customers_customer c ON c.id = x.customer_id
          LEFT JOIN invoicing_invoice n ON n.id = x.credit_note_id
         WHERE {opened} OR {resolved}
         GROUP BY 1 ORDER BY 1
        """,
        _period_params(period),
    )
    home = company_currency()
    reasons = dict(DisputeReason.choices)
    return [
        DisputeRow(
            **{
                **{name: value for name, value in row.items() if name != "label"},
                "group": reasons.get(row["label"], row["label"]) if by == "reason" else row["label"],
                **{
                    name: quantize(row[name], home)
                    for name in ("opened_amount", "resolved_amount", "credit_note_amount")
                },
            }
        )
        for row in rows
    ]
