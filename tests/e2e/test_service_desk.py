"""An agent's day in a real browser: the ticket queue, a reply with a canned reply, the customer 360."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from service.models import CannedReply, MessageKind, TicketChannel
from service.services import open_ticket
from tests.e2e.test_admin_journeys import sign_in
from tests.factories import CustomerFactory, StaffFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_agent_answers_from_the_queue_with_a_macro_and_opens_the_customer_360(page, screenshot):
    agent = StaffFactory(email="ada@otc.test", full_name="Ada Agent", groups=["service"])
    customer = CustomerFactory(
        actor=agent,
        legal_name="Nordwind Handel GmbH",
        contacts=[{"name": "Paula Purchasing", "email": "paula@nordwind.example", "roles": ["purchasing"]}],
    )
    ticket = open_ticket(
        customer=customer,
        contact=customer.contacts.get(),
        subject="Where is my delivery?",
        body="Our order has not arrived yet.",
        channel=TicketChannel.PORTAL,
        actor=agent,
        assignee=agent,
    )
    CannedReply.objects.create(
        title="Delivery on its way",
        body="Dear {{ customer.display_name }}, your request {{ ticket.number }} is on its way.",
    )

    sign_in(page, agent.email)
    page.goto("/admin/service/ticket/?queue=mine")
    queue = page.locator("#result_list")
    expect(queue).to_contain_text(ticket.number)
    expect(queue).to_contain_text("Where is my delivery?")
    screenshot("service-queue")

    queue.get_by_role("link", name=ticket.number).click()
    expect(page).to_have_url(re.compile(rf"/admin/service/ticket/{ticket.pk}/change/"))
    form = page.locator("#ticket-reply-form")
    form.locator("select[name=canned_reply]").select_option(label="Delivery on its way (en)")
    form.locator("button[type=submit]").click()
    expected = f"Dear Nordwind Handel GmbH, your request {ticket.number} is on its way."
    expect(page.locator("#ticket-conversation")).to_contain_text(expected)
    screenshot("service-reply")
    assert ticket.messages.filter(kind=MessageKind.REPLY, body=expected).count() == 1
    assert [message.to for message in mail.outbox] == [["paula@nordwind.example"]]

    page.locator("#open-customer-360").click()
    expect(page).to_have_url(re.compile(rf"/admin/customers/customer/{customer.pk}/change/#customer-360$"))
    panel = page.locator("#customer-360")
    expect(panel).to_be_visible()
    expect(panel.locator("#customer-360-tickets")).to_contain_text(ticket.number)
    expect(panel).to_contain_text("1 open ticket")
    screenshot("customer-360")
