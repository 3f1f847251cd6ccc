"""Service desk reports against a hand-built desk (UTC; the period is 2026-03-02, a Monday, to 03-15;
"now" is 2026-03-20 12:00). Times are set on the tickets directly, so every figure is known:

| ticket | opened       | channel | team    | policy | first response (due)    | solved (due)          | status now |
|--------|--------------|---------|---------|--------|-------------------------|-----------------------|------------|
| T1     | 03-02 09:00  | email   | Billing | yes    | 03-02 10:00 (13:00) met | 03-02 21:00 (03-03 09)| solved     |
| T2     | 03-03 08:00  | email   | Billing | yes    | 03-03 14:00 (12:00) late| 03-05 08:00 (03-04 08)| solved     |
| T3     | 03-04 10:00  | portal  | Billing | yes    | 03-04 12:00 (14:00) met | paused, 5 h left      | waiting    |
| T4     | 03-10 09:00  | portal  | none    | yes    | none yet (13:00) missed | none (03-11 09) missed| open       |
| T5     | 03-11 09:00  | staff   | none    | no     | 03-11 09:30             | 03-11 11:00           | solved     |
| T6     | 03-16 09:00  | email   | Billing | no     |                         |                       | new        |
| T7     | 03-19 20:00  | email   | Billing | no     |                         |                       | open       |
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import Client

from analytics.errors import UnknownGrouping
from analytics.selectors import service as desk
from analytics.selectors.receivables import Period
from service import services as service
from service.models import (
    SlaPolicy,
    Survey,
    Team,
    Ticket,
    TicketMessage,
    TicketRecognition,
    WorkingCalendar,
)
from tests.factories import CustomerFactory, invoice_for, open_for

D = Decimal
PERIOD = Period(date(2026, 3, 2), date(2026, 3, 15))
NOW = datetime(2026, 3, 20, 12, tzinfo=UTC)
REPORT = "/admin/analytics/customerbehaviour/reports/{}/"


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@dataclass
class Desk:
    billing: Team
    tickets: dict[str, Ticket]


@pytest.fixture
def desk_book(clerk, clock) -> Desk:
    clock(NOW.date())
    customer = CustomerFactory(actor=clerk, legal_name="Alba Bau GmbH")
    billing = Team.objects.create(name="Billing")
    opened = {name: open_for(customer, clerk, subject=f"{name} question") for name in [f"T{n}" for n in range(1, 8)]}
    calendar = WorkingCalendar.objects.create(name="Office")
    policy = SlaPolicy.objects.create(
        name="Normal", priority="normal", first_response_hours=4, resolution_hours=24, calendar=calendar
    )
    plan = {
        "T1": dict(
            created_at=at(2, 9),
            channel="email",
            team=billing,
            sla_policy=policy,
            first_response_due_at=at(2, 13),
            first_response_at=at(2, 10),
            resolution_due_at=at(3, 9),
            solved_at=at(2, 21),
            status="solved",
        ),
        "T2": dict(
            created_at=at(3, 8),
            channel="email",
            team=billing,
            sla_policy=policy,
            first_response_due_at=at(3, 12),
            first_response_at=at(3, 14),
            resolution_due_at=at(4, 8),
            solved_at=at(5, 8),
            status="solved",
        ),
        "T3": dict(
            created_at=at(4, 10),
            channel="portal",
            team=billing,
            sla_policy=policy,
            first_response_due_at=at(4, 14),
            first_response_at=at(4, 12),
            resolution_due_at=None,
            resolution_left=timedelta(hours=5),
            status="waiting_on_customer",
        ),
        "T4": dict(
            created_at=at(10, 9),
            channel="portal",
            team=None,
            sla_policy=policy,
            first_response_due_at=at(10, 13),
            resolution_due_at=at(11, 9),
            sla_due_at=at(10, 13),
            status="open",
        ),
        "T5": dict(
            created_at=at(11, 9),
            channel="staff",
            team=None,
            first_response_at=at(11, 9, 30),
            solved_at=at(11, 11),
            status="solved",
        ),
        "T6": dict(created_at=at(16, 9), channel="email", team=billing, status="new"),
        "T7": dict(created_at=at(19, 20), channel="email", team=billing, status="open"),
    }
    tickets = {}
    blank = dict(
        sla_policy=None,
        first_response_due_at=None,
        first_response_at=None,
        resolution_due_at=None,
        resolution_left=None,
        sla_due_at=None,
        solved_at=None,
    )
    for name, fields in plan.items():
        Ticket.objects.filter(pk=opened[name].pk).update(**{**blank, **fields})
        tickets[name] = Ticket.objects.get(pk=opened[name].pk)
    return Desk(billing=billing, tickets=tickets)


def test_ticket_volume_counts_opened_and_solved_per_week_and_channel(desk_book):
    rows = desk.ticket_volume(period=PERIOD, by="channel")

    assert [(row.week, row.group, row.created, row.solved) for row in rows] == [
        (date(2026, 3, 2), "Email", 2, 2),
        (date(2026, 3, 2), "Portal", 1, 0),
        (date(2026, 3, 9), "Portal", 1, 0),
        (date(2026, 3, 9), "Staff", 1, 1),
    ]


def test_sla_performance_shares_met_and_median_and_p90_hours_per_team(desk_book):
    no_team, billing = desk.sla_performance(period=PERIOD, by="team")

    assert (billing.group, billing.tickets) == ("Billing", 3)
    # First response: T1 met (1 h), T2 missed (6 h), T3 met (2 h).
    assert (billing.first_response_targets, billing.first_response_met, billing.first_response_met_percent) == (
        3,
        2,
        D("66.7"),
    )
    assert (billing.first_response_median_hours, billing.first_response_p90_hours) == (D("2.0"), D("5.2"))
    # Resolution: T1 met (12 h), T2 missed (48 h); T3 is paused with time left, not yet decided.
    assert (billing.resolution_targets, billing.resolution_met, billing.resolution_met_percent) == (2, 1, D("50.0"))
    assert (billing.resolution_median_hours, billing.resolution_p90_hours) == (D("30.0"), D("44.4"))
    # T4 missed both targets without an answer; T5 had no policy but its times count.
    assert (no_team.group, no_team.tickets) == ("No team", 2)
    assert (no_team.first_response_targets, no_team.first_response_met, no_team.first_response_met_percent) == (
        1,
        0,
        D("0.0"),
    )
    assert (no_team.first_response_median_hours, no_team.first_response_p90_hours) == (D("0.5"), D("0.5"))
    assert (no_team.resolution_targets, no_team.resolution_met) == (1, 0)
    assert (no_team.resolution_median_hours, no_team.resolution_p90_hours) == (D("2.0"), D("2.0"))


def test_backlog_counts_open_tickets_by_age_per_team(desk_book):
    billing, no_team = desk.backlog(by="team", now=NOW)

    assert billing.group == "Billing"
    assert billing.ages == {"under 1 day": 1, "1-3 days": 0, "3-7 days": 1, "7-14 days": 0, "14+ days": 1}
    assert (billing.total, billing.waiting_on_customer, billing.past_due) == (3, 1, 0)
    assert no_team.ages == {"under 1 day": 0, "1-3 days": 0, "3-7 days": 0, "7-14 days": 1, "14+ days": 0}
    assert (no_team.total, no_team.waiting_on_customer, no_team.past_due) == (1, 0, 1)


def test_the_tickets_behind_a_figure(desk_book):
    t = desk_book.tickets
    billing = str(desk_book.billing.pk)

    def numbers(**filters) -> list[str]:
        return [ticket.number for ticket in desk.tickets(by="team", **filters)]

    assert numbers(period=PERIOD, key=billing, state="first_response_missed") == [t["T2"].number]
    assert numbers(period=PERIOD, key="", state="resolution_missed") == [t["T4"].number]
    assert numbers(period=PERIOD, key=billing, state="resolution_missed") == [t["T2"].number]
    assert numbers(period=None, key=billing, state="backlog") == [t["T7"].number, t["T6"].number, t["T3"].number]
    assert numbers(period=PERIOD, key=None) == [t[name].number for name in ["T5", "T4", "T3", "T2", "T1"]]


def test_automated_answers_share_and_helpful_rate_per_intent(desk_book, clock):
    t = desk_book.tickets
    clock(date(2026, 3, 5))
    for name, intent, answered, helpful in [
        ("T1", "invoice_copy", True, True),
        ("T2", "invoice_copy", True, False),
        ("T3", "invoice_copy", True, None),
        ("T4", "balance", False, None),
    ]:
        answer = TicketMessage.objects.create(ticket=t[name], kind="reply", body="Here it is.") if answered else None
        TicketRecognition.objects.create(
            ticket=t[name], intent=intent, confidence=D("0.90"), answer=answer, helpful=helpful
        )
    clock(date(2026, 3, 16))  # outside the period
    TicketRecognition.objects.create(ticket=t["T6"], intent="balance", confidence=D("0.90"))

    rows = {row.intent: row for row in desk.automated_answers(period=PERIOD)}

    copy = rows["Copy of an invoice"]
    assert (copy.recognised, copy.answered, copy.answered_percent) == (3, 3, D("100.0"))
    assert (copy.rated, copy.helpful, copy.helpful_percent) == (2, 1, D("50.0"))
    balance = rows["What do I owe"]
    assert (balance.recognised, balance.answered, balance.answered_percent, balance.helpful_percent) == (
        1,
        0,
        D("0.0"),
        None,
    )
    every = rows["All"]
    assert (every.recognised, every.answered, every.answered_percent, every.helpful_percent) == (
        4,
        3,
        D("75.0"),
        D("50.0"),
    )


def test_disputes_opened_and_resolved_with_amounts_per_reason(clerk, clock):
    alba = CustomerFactory(actor=clerk, legal_name="Alba Bau GmbH")
    first = invoice_for(alba, clerk, "1000", date(2026, 2, 1))
    whole = invoice_for(alba, clerk, "500", date(2026, 2, 10))
    earlier = invoice_for(alba, clerk, "300", date(2026, 1, 20))
    clock(date(2026, 2, 20))
    withdrawn = service.open_dispute(
        invoice=earlier, reason="price", description="Too dear.", actor=clerk, amount=D("100")
    )
    clock(date(2026, 3, 3))
    rejected = service.open_dispute(
        invoice=first, reason="price", description="Discount.", actor=clerk, amount=D("200")
    )
    clock(date(2026, 3, 5))
    service.open_dispute(invoice=whole, reason="damaged", description="Broken.", actor=clerk)
    clock(date(2026, 3, 8))
    service.resolve_dispute(dispute=rejected, resolution="rejected", actor=clerk, note="Discount was not agreed.")
    clock(date(2026, 3, 10))
    service.resolve_dispute(dispute=withdrawn, resolution="withdrawn", actor=clerk)
    clock(date(2026, 3, 20))

    damaged, price = desk.disputes(period=PERIOD, by="reason")

    assert (damaged.group, damaged.opened, damaged.opened_amount, damaged.resolved) == (
        "Goods damaged",
        1,
        D("500.00"),
        0,
    )
    assert (damaged.resolved_amount, damaged.average_days_to_resolve) == (D("0.00"), None)
    assert (price.group, price.opened, price.opened_amount) == ("Price or discount", 1, D("200.00"))
    assert (price.resolved, price.credited, price.rejected, price.withdrawn, price.expired) == (2, 0, 1, 1, 0)
    assert (price.resolved_amount, price.credit_note_amount, price.average_days_to_resolve) == (
        D("300.00"),
        D("0.00"),
        D("11.5"),
    )


def test_satisfaction_by_team_from_the_surveys_sent_in_the_period(desk_book, clerk):
    t = desk_book.tickets
    for name, csat, nps in [("T1", 5, 10), ("T2", 2, 3)]:
        Survey.objects.create(
            customer=t[name].customer,
            trigger="ticket_solved",
            ticket=t[name],
            agent=clerk,
            team=desk_book.billing,
            category="billing",
            asks_nps=True,
            sent_at=at(6, 9),
            expires_at=at(20, 9),
            answered_at=at(6, 10),
            csat=csat,
            nps=nps,
        )

    client = Client()
    client.force_login(clerk)
    page = client.get(REPORT.format("satisfaction"), {"start": "2026-03-02", "end": "2026-03-15", "group_by": "team"})
    rows = page.context["table"].rows
    assert rows == [
        {
            "group": "Billing",
            "sent": 2,
            "answered": 2,
            "average_csat": D("3.50"),
            "csat_percent": D("50.0"),
            "nps": D("0.0"),
            "low_scores": 1,
            "response_percent": D("100.0"),
        }
    ]


def test_the_sla_page_drills_down_to_the_missed_tickets_and_exports(desk_book, clerk):
    client = Client()
    client.force_login(clerk)
    query = {"start": "2026-03-02", "end": "2026-03-15", "group_by": "team"}

    page = client.get(REPORT.format("ticket-sla"), query)
    assert page.status_code == 200
    links = [link for _cells, link in page.context["rows"]]
    drill = client.get(links[1] + "&state=first_response_missed")
    assert [row["number"] for row in drill.context["table"].rows] == [desk_book.tickets["T2"].number]
    assert f"/admin/service/ticket/{desk_book.tickets['T2'].pk}/change/" in drill.content.decode()

    csv = client.get(REPORT.format("ticket-backlog"), {"group_by": "team", "export": "csv"}).content.decode()
    assert csv.splitlines()[0].split(",")[:3] == ["Team", "under 1 day", "1-3 days"]


def test_service_reports_are_in_the_api_under_the_analytics_scope(desk_book, api_client_for):
    client = api_client_for("analytics:read")
    response = client.get("/api/v1/analytics/ticket-volume/", {"start": "2026-03-02", "end": "2026-03-15"})
    assert response.status_code == 200
    assert response.json()["rows"][0] == {
        "week": "2026-03-02",
        "group": "Email",
        "created": 2,
        "solved": 2,
    }
    refused = api_client_for("tickets:read").get("/api/v1/analytics/ticket-backlog/")
    assert refused.status_code == 403


def test_a_grouping_a_report_does_not_take_is_refused_by_name(desk_book, api_client_for):
    with pytest.raises(UnknownGrouping, match="cannot group by 'customer'"):
        desk.sla_performance(period=PERIOD, by="customer")
    bad = api_client_for("analytics:read").get("/api/v1/analytics/ticket-sla/", {"group_by": "reason"})
    assert (bad.status_code, bad.json()["code"]) == (422, "unknown_grouping")
