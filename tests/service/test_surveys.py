"""Surveys after a solved ticket or a delivered shipment: once per event, within the monthly cap, never
to opted-out customers; answered once by a signed link; low scores told to the lead and the rep."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from customers import services as customer_services
from customers.models import NotificationType
from orders import services as orders
from otc.errors import InvalidInput
from service import services
from service.errors import SurveyLinkExpired, SurveyLinkInvalid
from service.models import Survey, SurveyTrigger, TicketStatus
from service.selectors import survey_results
from tests.factories import CustomerFactory, make_product, open_for
from tests.orders.test_races import race

pytestmark = pytest.mark.django_db
LINK = re.compile(r"http://testserver/surveys/([^/\s]+)/")


@pytest.fixture
def solve(clerk, paula, agent, team, django_capture_on_commit_callbacks):
    """Open a ticket from Paula for the team's agent and solve it, with the outbox run."""

    def run(customer, **options):
        with django_capture_on_commit_callbacks(execute=True):
            ticket = open_for(customer, clerk, contact=paula, team=team, assignee=agent, **options)
            services.change_status(ticket=ticket, status=TicketStatus.SOLVED, actor=agent)
        return ticket

    return run


@pytest.fixture(autouse=True)
def base_url(settings):
    settings.OTC_BASE_URL = "http://testserver"


def survey_links() -> list[str]:
    return [match for message in mail.outbox for match in LINK.findall(message.body)]


def test_a_solved_ticket_emails_its_contact_one_survey_with_a_signed_link(solve, buyer, paula, agent, team):
    ticket = solve(buyer, category="delivery")

    survey = Survey.objects.get()
    assert (survey.trigger, survey.ticket, survey.contact, survey.agent, survey.team, survey.category) == (
        SurveyTrigger.TICKET_SOLVED,
        ticket,
        paula,
        agent,
        team,
        "delivery",
    )
    assert survey.asks_nps is True
    assert [message.to for message in mail.outbox if "How did we do" in message.subject] == [[paula.email]]
    (token,) = survey_links()
    assert services.survey_from_token(token) == survey


def test_solving_the_same_ticket_again_asks_nothing_more(solve, buyer, agent, django_capture_on_commit_callbacks):
    ticket = solve(buyer)
    with django_capture_on_commit_callbacks(execute=True):
        services.change_status(ticket=ticket, status=TicketStatus.OPEN, actor=agent)
        services.change_status(ticket=ticket, status=TicketStatus.SOLVED, actor=agent)

    assert Survey.objects.count() == 1
    assert len(survey_links()) == 1


def test_the_link_answers_once_and_a_reused_or_tampered_link_is_refused(solve, buyer, client):
    solve(buyer)
    (token,) = survey_links()

    page = client.get(f"/surveys/{token}/")
    assert page.status_code == 200
    assert b"recommend" in page.content
    answered = client.post(f"/surveys/{token}/", {"csat": "5", "nps": "9", "comment": "Quick and kind."})
    assert answered.status_code == 200
    assert b"Thank you" in answered.content

    reused = client.post(f"/surveys/{token}/", {"csat": "1", "nps": "0"})
    assert reused.status_code == 409
    assert b"answered already" in reused.content
    tampered = client.get(f"/surveys/{token[:-2]}xx/")
    assert tampered.status_code == 422
    assert b"not valid" in tampered.content
    survey = Survey.objects.get()
    assert (survey.csat, survey.nps, survey.comment) == (5, 9, "Quick and kind.")


def test_an_expired_link_is_refused_and_changes_nothing(solve, buyer, settings):
    solve(buyer)
    (token,) = survey_links()
    Survey.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(SurveyLinkExpired):
        services.answer_survey(token=token, csat=4)
    settings.OTC_SURVEY_LINK_DAYS = 0  # the signature's own age check
    with pytest.raises(SurveyLinkExpired):
        services.survey_from_token(token)
    assert Survey.objects.get().answered_at is None


def test_scores_out_of_range_are_refused(solve, buyer):
    solve(buyer)
    (token,) = survey_links()
    with pytest.raises(InvalidInput):
        services.answer_survey(token=token, csat=6)
    with pytest.raises(InvalidInput):
        services.answer_survey(token=token, csat=3, nps=11)
    with pytest.raises(SurveyLinkInvalid):
        services.answer_survey(token="not-a-token", csat=3)
    assert Survey.objects.get().answered_at is None


def test_an_opted_out_customer_is_never_surveyed(solve, buyer, clerk):
    customer_services.update_preferences(customer=buyer, actor=clerk, data={"opt_outs": [NotificationType.SURVEY]})
    solve(buyer)
    assert not Survey.objects.exists()
    assert survey_links() == []


def test_a_contact_gets_at_most_the_monthly_share_and_nps_once_per_cadence(solve, buyer, settings):
    settings.OTC_SURVEYS_PER_CONTACT_PER_MONTH = 2
    for _ in range(3):
        solve(buyer)

    assert list(Survey.objects.order_by("pk").values_list("asks_nps", flat=True)) == [True, False]
    Survey.objects.update(sent_at=timezone.now() - timedelta(days=91))  # last quarter: cap and cadence reset
    solve(buyer)
    assert Survey.objects.latest("pk").asks_nps is True


def test_a_low_score_tells_the_lead_and_the_rep_and_reopens_nothing(
    solve, buyer, sales_rep, clerk, django_capture_on_commit_callbacks
):
    customer_services.update_customer(customer=buyer, actor=clerk, data={"sales_rep": sales_rep})
    ticket = solve(buyer)
    (token,) = survey_links()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.answer_survey(token=token, csat=2, nps=8, comment="Took a week.")

    low = sorted(message.to[0] for message in mail.outbox if message.subject.startswith("Low survey score"))
    assert low == ["ada@otc.test", "lars@otc.test", "rita@otc.test"]  # team (agent, lead) and the sales rep
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.SOLVED


def test_a_good_score_tells_no_one(solve, buyer, django_capture_on_commit_callbacks):
    solve(buyer)
    (token,) = survey_links()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.answer_survey(token=token, csat=4, nps=7)
    assert mail.outbox == []


def test_a_delivered_shipment_asks_the_purchasing_contact(
    buyer, paula, clerk, approver, django_capture_on_commit_callbacks
):
    request = customer_services.request_credit_limit_change(
        customer=buyer, actor=clerk, credit_limit="5000", reason="r"
    )
    customer_services.approve_change_request(change_request=request, actor=approver)
    widget = make_product(actor=clerk, sku="WID-1", price="12.50", stock="50")
    order = orders.create_order(actor=clerk, customer=buyer, lines=[orders.LineInput(widget, Decimal("4"))])
    orders.confirm_order(order=order, actor=clerk)
    shipment = orders.dispatch_shipment(order=order, actor=clerk, carrier="DHL", tracking_number="JJD1")
    with django_capture_on_commit_callbacks(execute=True):
        orders.mark_delivered(shipment=shipment, actor=clerk)

    survey = Survey.objects.get()
    assert (survey.trigger, survey.shipment, survey.ticket, survey.contact) == (
        SurveyTrigger.SHIPMENT_DELIVERED,
        shipment,
        None,
        paula,
    )
    assert len(survey_links()) == 1


def test_the_portal_lists_the_customers_pending_surveys_only(solve, buyer, clerk, client):
    mine = solve(buyer)
    stranger = CustomerFactory(
        actor=clerk, legal_name="Südwind Import AG", contacts=[{"name": "Sam", "email": "sam@sued.example"}]
    )
    Survey.objects.create(
        customer=stranger,
        contact=stranger.contacts.get(),
        trigger=SurveyTrigger.TICKET_SOLVED,
        ticket=open_for(stranger, clerk, subject="Their secret question"),
        sent_at=timezone.now(),
        expires_at=timezone.now() + timedelta(days=3),
    )
    client.force_login(customer_services.grant_portal_access(customer=buyer, actor=clerk, email="b@nordwind.example"))

    page = client.get("/portal/surveys/")

    assert page.status_code == 200
    assert mine.number.encode() in page.content
    assert b"Their secret question" not in page.content
    (token,) = re.findall(rb'href="/surveys/([^/"]+)/"', page.content)
    assert services.survey_from_token(token.decode()).ticket == mine


def test_results_per_agent_team_category_customer_and_month(solve, buyer, agent, settings):
    settings.OTC_SURVEYS_PER_CONTACT_PER_MONTH = 10
    for csat, nps in ((5, 10), (2, None), (None, None)):
        ticket = solve(buyer, category="billing")
        if csat is not None:
            survey = ticket.survey
            services.answer_survey(token=services.survey_token(survey), csat=csat, nps=nps)
    today = timezone.localdate()

    (by_agent,) = survey_results(by="agent", start=today, end=today)
    assert (by_agent.group, by_agent.sent, by_agent.answered) == (agent.email, 3, 2)
    assert (by_agent.average_csat, by_agent.csat_percent, by_agent.nps, by_agent.low_scores) == (
        Decimal("3.50"),
        Decimal("50.0"),
        Decimal("100.0"),
        1,
    )
    assert [row.group for row in survey_results(by="team", start=today, end=today)] == ["First line"]
    assert [row.group for row in survey_results(by="category", start=today, end=today)] == ["billing"]
    assert [row.group for row in survey_results(by="customer", start=today, end=today)] == [buyer.number]
    assert [row.group for row in survey_results(by="month", start=today, end=today)] == [today.strftime("%Y-%m")]
    assert survey_results(by="agent", start=date(2000, 1, 1), end=date(2000, 12, 31)) == []


def test_results_through_the_api_need_tickets_read(solve, buyer, agent, api_client_for):
    ticket = solve(buyer)
    services.answer_survey(token=services.survey_token(ticket.survey), csat=1, comment="Slow.")

    refused = api_client_for("orders:read").get("/api/v1/surveys/results/?by=team")
    reader = api_client_for("tickets:read")
    results = reader.get("/api/v1/surveys/results/?by=team")
    listed = reader.get("/api/v1/surveys/")
    bad = reader.get("/api/v1/surveys/results/?by=colour")

    assert refused.status_code == 403
    assert results.status_code == 200
    assert results.json() == [
        {
            "group": "First line",
            "sent": 1,
            "answered": 1,
            "response_percent": "100.0",
            "average_csat": "1.00",
            "csat_percent": "0.0",
            "nps": None,
            "low_scores": 1,
        }
    ]
    assert [(row["ticket"], row["csat"], row["comment"]) for row in listed.json()["results"]] == [
        (ticket.number, 1, "Slow.")
    ]
    assert bad.status_code == 422


def test_the_admin_results_page_groups_by_the_chosen_dimension(solve, buyer, admin_client):
    ticket = solve(buyer, category="billing")
    services.answer_survey(token=services.survey_token(ticket.survey), csat=4)

    page = admin_client.get("/admin/service/survey/results/?by=category")
    survey_page = admin_client.get(f"/admin/service/survey/{ticket.survey.pk}/change/")

    assert page.status_code == 200
    assert b'id="survey-results"' in page.content
    assert b"billing" in page.content
    assert b"4.00" in page.content
    assert survey_page.status_code == 200


@pytest.mark.django_db(transaction=True)
def test_two_solved_tickets_racing_never_exceed_the_monthly_share(buyer, paula, clerk, agent, settings):
    settings.OTC_SURVEYS_PER_CONTACT_PER_MONTH = 1
    tickets = [open_for(buyer, clerk, contact=paula, subject=f"Question {n}") for n in range(4)]
    for ticket in tickets:
        services.change_status(ticket=ticket, status=TicketStatus.SOLVED, actor=agent)
    Survey.objects.all().delete()  # the eager outbox asked already; race the asking itself

    results = race(*[lambda ticket=ticket: services.request_ticket_survey(ticket=ticket) for ticket in tickets])

    assert sum(isinstance(result, Survey) for result in results) == 1
    assert results.count(None) == 3
    assert Survey.objects.filter(contact=paula).count() == 1


def test_removing_a_contact_keeps_their_answer(solve, buyer, paula, clerk):
    ticket = solve(buyer)
    services.answer_survey(token=services.survey_token(ticket.survey), csat=5)

    customer_services.remove_contact(contact=paula, actor=clerk)

    survey = Survey.objects.get()
    assert (survey.contact, survey.csat, survey.ticket) == (None, 5, ticket)
