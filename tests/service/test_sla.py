"""SLA clocks: business-hours arithmetic over a weekend and a holiday, the resolution clock paused
while waiting on the customer, policies by customer group, and breach alerts raised once each."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone

from customers.models import CustomerGroup
from service import services
from service.business_hours import Calendar, NoWorkingHours, add_business_time, business_time_between
from service.models import Holiday, MessageKind, SlaAlert, SlaPolicy, TicketPriority, TicketStatus
from tests.factories import open_for

BERLIN = ZoneInfo("Europe/Berlin")
HOLIDAY = date(2026, 12, 7)  # a Monday
OFFICE = Calendar(time_zone=BERLIN, hours={day: (time(9), time(17)) for day in range(5)}, holidays=frozenset({HOLIDAY}))


def berlin(day: int, hour: int, minute: int = 0) -> datetime:
    """December 2026: the 4th is a Friday, the 7th the holiday Monday, the 8th a Tuesday."""
    return datetime(2026, 12, day, hour, minute, tzinfo=BERLIN)


def test_business_time_skips_the_weekend_and_the_holiday():
    assert add_business_time(OFFICE, berlin(4, 16), timedelta(hours=4)) == berlin(8, 12)
    assert business_time_between(OFFICE, berlin(4, 16), berlin(8, 12)) == timedelta(hours=4)
    assert business_time_between(OFFICE, berlin(8, 12), berlin(4, 16)) == timedelta(hours=-4)


def test_business_time_starting_outside_hours_starts_at_the_next_opening():
    assert add_business_time(OFFICE, berlin(5, 11), timedelta(minutes=30)) == berlin(8, 9, 30)  # Saturday
    assert add_business_time(OFFICE, berlin(4, 7), timedelta(hours=8)) == berlin(4, 17)  # due at closing time
    assert business_time_between(OFFICE, berlin(5, 0), berlin(7, 23)) == timedelta(0)


def test_a_calendar_without_hours_is_refused():
    with pytest.raises(NoWorkingHours):
        add_business_time(Calendar(time_zone=BERLIN, hours={}), berlin(4, 9), timedelta(hours=1))


@pytest.fixture
def policy(office_hours):
    Holiday.objects.create(calendar=office_hours, date=HOLIDAY, name="Company day")
    return SlaPolicy.objects.create(
        name="Standard",
        priority=TicketPriority.NORMAL,
        first_response_hours=Decimal("2"),
        resolution_hours=Decimal("8"),
        calendar=office_hours,
    )


@pytest.fixture
def clock(monkeypatch):
    """A frozen clock the test moves by hand."""

    class Clock:
        now = berlin(4, 15)

        def set(self, moment: datetime) -> None:
            self.now = moment

    frozen = Clock()
    monkeypatch.setattr(timezone, "now", lambda: frozen.now.astimezone(ZoneInfo("UTC")))
    return frozen


@pytest.mark.django_db
def test_waiting_on_the_customer_pauses_the_resolution_clock(policy, buyer, clerk, clock):
    ticket = open_for(buyer, clerk)  # Friday 15:00
    assert (ticket.first_response_due_at, ticket.resolution_due_at) == (berlin(4, 17), berlin(8, 15))
    assert ticket.sla_due_at == berlin(4, 17)

    clock.set(berlin(4, 16))
    services.add_message(
        ticket=ticket, kind=MessageKind.REPLY, body="Which order?", actor=clerk, status=TicketStatus.WAITING_ON_CUSTOMER
    )
    ticket.refresh_from_db()
    assert (ticket.resolution_due_at, ticket.resolution_left, ticket.sla_due_at) == (None, timedelta(hours=7), None)

    clock.set(berlin(9, 10))  # Wednesday: the customer answers
    services.add_message(ticket=ticket, kind=MessageKind.CUSTOMER_MESSAGE, body="Order SO-1", actor=clerk)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.resolution_due_at, ticket.resolution_left) == (TicketStatus.OPEN, berlin(9, 17), None)
    assert (ticket.first_response_at, ticket.sla_due_at) == (berlin(4, 16), berlin(9, 17))


@pytest.mark.django_db
def test_the_customers_group_policy_wins_over_the_default(policy, office_hours, buyer, stranger, clerk, clock):
    key_accounts = CustomerGroup.objects.create(code="key", name="Key accounts")
    buyer.group = key_accounts
    buyer.save(update_fields=["group"])
    SlaPolicy.objects.create(
        name="Key accounts",
        customer_group=key_accounts,
        priority=TicketPriority.NORMAL,
        first_response_hours=Decimal("0.5"),
        resolution_hours=Decimal("4"),
        calendar=office_hours,
    )

    key, other = open_for(buyer, clerk), open_for(stranger, clerk)
    urgent = open_for(stranger, clerk, priority=TicketPriority.URGENT)

    assert (key.sla_policy.name, key.first_response_due_at) == ("Key accounts", berlin(4, 15, 30))
    assert (other.sla_policy.name, other.first_response_due_at) == ("Standard", berlin(4, 17))
    assert (urgent.sla_policy, urgent.sla_due_at) == (None, None)


@pytest.mark.django_db
def test_breach_soon_and_breached_notify_assignee_and_lead_once_each(
    policy, buyer, clerk, agent, lead, team, clock, django_capture_on_commit_callbacks
):
    ticket = open_for(buyer, clerk, team=team, assignee=agent)  # first response due Friday 17:00
    quiet = open_for(buyer, clerk)  # answered in time: never alerts
    services.add_message(ticket=quiet, kind=MessageKind.REPLY, body="On it.", actor=clerk)
    mail.outbox.clear()

    def sweep(moment: datetime) -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return services.raise_sla_alerts(now=moment)

    assert sweep(berlin(4, 15, 30)) == 0  # 90 minutes left: not soon yet
    assert sweep(berlin(4, 16, 30)) == 1
    assert sweep(berlin(4, 16, 45)) == 0
    assert sweep(berlin(4, 17, 30)) == 1
    assert sweep(berlin(4, 17, 45)) == 0

    assert list(SlaAlert.objects.order_by("pk").values_list("ticket_id", "kind")) == [
        (ticket.pk, "first_response_soon"),
        (ticket.pk, "first_response_breached"),
    ]
    assert sorted((message.to[0], message.subject) for message in mail.outbox) == [
        ("ada@otc.test", f"[{ticket.number}] First response due soon: Where is my delivery?"),
        ("ada@otc.test", f"[{ticket.number}] First response overdue: Where is my delivery?"),
        ("lars@otc.test", f"[{ticket.number}] First response due soon: Where is my delivery?"),
        ("lars@otc.test", f"[{ticket.number}] First response overdue: Where is my delivery?"),
    ]


@pytest.mark.django_db
def test_a_new_priority_restarts_the_clocks_under_its_policy(policy, office_hours, buyer, clerk, clock):
    SlaPolicy.objects.create(
        name="Urgent",
        priority=TicketPriority.URGENT,
        first_response_hours=Decimal("0.5"),
        resolution_hours=Decimal("4"),
        calendar=office_hours,
    )
    ticket = open_for(buyer, clerk)  # Friday 15:00, standard: first response due 17:00

    clock.set(berlin(4, 16, 45))
    services.change_priority(ticket=ticket, priority=TicketPriority.URGENT, actor=clerk)

    ticket.refresh_from_db()
    assert (ticket.sla_policy.name, ticket.first_response_due_at, ticket.resolution_due_at) == (
        "Urgent",
        berlin(8, 9, 15),  # 15 minutes on Friday, the rest after the weekend and the holiday
        berlin(8, 12, 45),
    )
