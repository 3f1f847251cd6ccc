"""Every portal page passes axe-core with no serious or critical violation, for a signed-in customer
user; the pages come from the portal URLconf, so a new page is checked without touching this test."""

from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse

from customers import services as customer_services
from customers.models import Contact
from payments.money.checkouts import start_checkout
from payments.money.providers import TestProvider
from service import portal_urls
from service import services as service_desk
from service.models import TicketChannel
from tests.e2e.test_portal import nordwind, sign_in  # noqa: F401  (the fixture is used by name)
from tests.factories import StaffFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SEVERE = {"serious", "critical"}
# Reached with GET they answer a file or refuse the method; they render no page to check.
NOT_PAGES = {"invoice-document", "invoices-zip", "order-again", "cart-add", "invitation-resend", "invitation-revoke"}


@pytest.fixture
def portal_pages(nordwind):  # noqa: F811
    """{URL name: path} of every portal page, each with the fixture's object it needs."""
    customer, delivered, invoices = nordwind
    clerk = StaffFactory(email="desk@otc.test")
    ticket = service_desk.open_ticket(
        customer=customer, subject="Delivery question", body="When?", channel=TicketChannel.EMAIL, actor=clerk
    )
    invitation = customer_services.invite_portal_user(
        customer=customer, actor=clerk, email="ina@nordwind.example", roles=["buyer"]
    )
    checkout = start_checkout(customer=customer, invoices=invoices[:1], provider=TestProvider.name, actor=clerk)
    arguments = {
        "order": [delivered.number],
        "order-again": [delivered.number],
        "order-cancel": [delivered.number],
        "order-return": [delivered.number],
        "invoice": [invoices[0].pk],
        "invoice-dispute": [invoices[0].pk],
        "invoice-promise": [invoices[0].pk],
        "invoice-document": [invoices[0].pk, "pdf"],
        "contact-edit": [Contact.objects.create(customer=customer, name="Nora", email="nora@nordwind.example").pk],
        "test-provider": [checkout.token],
        "ticket": [ticket.number],
        "invitation-resend": [invitation.pk],
        "invitation-revoke": [invitation.pk],
        "accept-invitation": [customer_services.invitation_token(invitation)],
        "answer-feedback": ["an-expired-link"],
    }
    queries = {"invoices-zip": f"?invoice={invoices[0].pk}"}
    return {
        pattern.name: reverse(f"portal:{pattern.name}", args=arguments.get(pattern.name, []))
        + queries.get(pattern.name, "")
        for pattern in portal_urls.urlpatterns
    }


def severe_violations(page) -> list[str]:
    results = Axe().run(page)
    assert results.response["passes"], f"axe checked nothing on {page.url}"
    return [
        f"{violation['id']} ({violation['impact']}): {node['target']} {violation['help']}"
        for violation in results.response["violations"]
        if violation["impact"] in SEVERE
        for node in violation["nodes"]
    ]


def test_every_portal_page_passes_axe(page, portal_pages):
    sign_in(page, "paula@nordwind.example")
    found = {}
    for name, path in portal_pages.items():
        if name in NOT_PAGES:
            response = page.request.get(path)
            if response.status != 405 and "text/html" in response.headers["content-type"]:
                found[name] = [f"renders a page ({response.status}): check it here"]
            continue
        response = page.goto(path)
        if urlsplit(page.url).path != urlsplit(path).path or response.status not in (200, 404, 422):
            found[name] = [f"answered {response.status} at {page.url}"]
        elif violations := severe_violations(page):
            found[name] = violations
    assert not found, "\n".join(f"{name}: {violation}" for name, items in found.items() for violation in items)
