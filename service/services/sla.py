"""SLA clocks of tickets: the policy for the customer's group and the ticket's priority sets the due
times in its calendar's business hours; waiting on the customer pauses the resolution clock (the
business time left is kept and added again on resume); a periodic sweep records breach-soon and
breached alerts once per ticket and kind and announces each.

The functions taking a ticket expect the caller to hold SELECT FOR UPDATE on it and to save it.
"""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Q

from otc.events import publish
from service.business_hours import Calendar, add_business_time, business_time_between
from service.events import TicketSlaAlertRaised
from service.models import CLOCK_STOPPED, SlaAlert, SlaAlertKind, SlaPolicy, Ticket, TicketStatus, WorkingCalendar
from service.selectors import breach_soon_horizon

SLA_FIELDS = ["sla_policy", "first_response_due_at", "resolution_due_at", "resolution_left", "sla_due_at"]


def business_calendar(calendar: WorkingCalendar) -> Calendar:
    """The pure arithmetic's view of a stored calendar."""
    return Calendar(
        time_zone=ZoneInfo(calendar.time_zone),
        hours={row.weekday: (row.opens_at, row.closes_at) for row in calendar.hours.all()},
        holidays=frozenset(calendar.holidays.values_list("date", flat=True)),
    )


def policy_for(*, customer, priority: str) -> SlaPolicy | None:
    """The customer's group's policy for the priority, else the policy for every group, else none."""
    group_id = customer.group_id if customer is not None else None
    policies = SlaPolicy.objects.select_related("calendar").filter(
        Q(customer_group_id=group_id) | Q(customer_group__isnull=True), priority=priority
    )
    return min(policies, key=lambda policy: policy.customer_group_id is None, default=None)


def _hours(value: Decimal) -> timedelta:
    return timedelta(seconds=int(value * 3600))


def start_clocks(ticket: Ticket, *, now: datetime) -> None:
    """Set the policy and both due times from `now` (a new ticket, or a new priority)."""
    policy = policy_for(customer=ticket.customer, priority=ticket.priority)
    ticket.sla_policy = policy
    if policy is None:
        ticket.first_response_due_at = ticket.resolution_due_at = ticket.resolution_left = None
    else:
        calendar = business_calendar(policy.calendar)
        ticket.first_response_due_at = add_business_time(calendar, now, _hours(policy.first_response_hours))
        ticket.resolution_due_at = add_business_time(calendar, now, _hours(policy.resolution_hours))
        ticket.resolution_left = None
        if ticket.status in CLOCK_STOPPED:
            pause_clock(ticket, now=now)
    refresh_due(ticket)


def pause_clock(ticket: Ticket, *, now: datetime) -> None:
    """The customer owes an answer: keep the business time left to resolve, stop counting. A target
    already missed stays missed."""
    if ticket.sla_policy is None or ticket.resolution_due_at is None or ticket.resolution_due_at <= now:
        return
    calendar = business_calendar(ticket.sla_policy.calendar)
    ticket.resolution_left = business_time_between(calendar, now, ticket.resolution_due_at)
    ticket.resolution_due_at = None


def resume_clock(ticket: Ticket, *, now: datetime) -> None:
    """The ball is ours again: the business time left runs from now."""
    if ticket.sla_policy is None or ticket.resolution_left is None:
        return
    calendar = business_calendar(ticket.sla_policy.calendar)
    ticket.resolution_due_at = add_business_time(calendar, now, ticket.resolution_left)
    ticket.resolution_left = None


def refresh_due(ticket: Ticket) -> None:
    """The next target still to meet, or none while the clock is stopped."""
    pending = []
    if ticket.status not in CLOCK_STOPPED:
        if ticket.first_response_at is None and ticket.first_response_due_at is not None:
            pending.append(ticket.first_response_due_at)
        if ticket.resolution_due_at is not None:
            pending.append(ticket.resolution_due_at)
    ticket.sla_due_at = min(pending, default=None)


def _alerts_due(ticket: Ticket, *, now: datetime) -> list[tuple[str, datetime]]:
    horizon = breach_soon_horizon(now)
    targets = []
    if ticket.first_response_at is None and ticket.first_response_due_at is not None:
        targets.append(
            (ticket.first_response_due_at, SlaAlertKind.FIRST_RESPONSE_SOON, SlaAlertKind.FIRST_RESPONSE_BREACHED)
        )
    if ticket.resolution_due_at is not None:
        targets.append((ticket.resolution_due_at, SlaAlertKind.RESOLUTION_SOON, SlaAlertKind.RESOLUTION_BREACHED))
    alerts = []
    for due_at, soon, breached in targets:
        if due_at <= now:
            alerts.append((breached, due_at))
        elif due_at <= horizon:
            alerts.append((soon, due_at))
    return alerts


@transaction.atomic
def raise_sla_alerts(*, now: datetime) -> int:
    """Record the breach-soon and breached alerts not recorded yet and announce each (the assignee and
    the team lead are emailed by workflows); returns how many were raised. Re-runs raise nothing new."""
    tickets = list(
        Ticket.objects.filter(sla_due_at__lte=breach_soon_horizon(now))
        .exclude(status__in=[TicketStatus.WAITING_ON_CUSTOMER, TicketStatus.SOLVED, TicketStatus.CLOSED])
        .only("pk", "number", "status", "first_response_at", "first_response_due_at", "resolution_due_at")
        .order_by("sla_due_at")
    )
    wanted = {(ticket.pk, kind): due_at for ticket in tickets for kind, due_at in _alerts_due(ticket, now=now)}
    numbers = {ticket.pk: ticket.number for ticket in tickets}
    raised_before = set(
        SlaAlert.objects.filter(ticket_id__in={ticket_id for ticket_id, _ in wanted}).values_list("ticket_id", "kind")
    )
    raised = 0
    for (ticket_id, kind), due_at in wanted.items():
        if (ticket_id, kind) in raised_before:
            continue
        alert, created = SlaAlert.objects.get_or_create(ticket_id=ticket_id, kind=kind, defaults={"due_at": due_at})
        if created:  # a concurrent sweep may have raised it meanwhile
            publish(
                TicketSlaAlertRaised(
                    ticket_id=ticket_id,
                    ticket_number=numbers[ticket_id],
                    alert_id=alert.pk,
                    kind=kind,
                    due_at=alert.due_at,
                )
            )
            raised += 1
    return raised
