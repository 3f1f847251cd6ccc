"""Every portal page passes axe-core with no serious or critical violation, for a signed-in customer
user; the pages come from the portal URLconf, so a new page is checked without touching this test.
The keyboard alone orders from the catalogue and pays."""

import re
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from playwright.sync_api import expect

from customers import services as customer_services
from customers.models import Contact
from orders.models import Order
from payments.models import Payment
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
NOT_PAGES = {
    "invoice-document",
    "order-confirmation",
    "delivery-note",
    "invoices-zip",
    "order-again",
    "cart-add",
    "invitation-resend",
    "invitation-revoke",
}


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
        "order-confirmation": [delivered.number],
        "delivery-note": [delivered.number, delivered.shipments.get().number],
        "invoice": [invoices[0].pk],
        "invoice-dispute": [invoices[0].pk],
        "invoice-promise": [invoices[0].pk],
        "invoice-document": [invoices[0].pk, "pdf"],
        "contact-edit": [Contact.objects.create(customer=customer, name="Nora", email="nora@nordwind.example").pk],
        "address-edit": [
            customer_services.add_address(
                customer=customer,
                actor=clerk,
                data={
                    "kind": "billing",
                    "line1": "Hafenweg 9",
                    "postal_code": "20457",
                    "city": "Hamburg",
                    "country": "DE",
                },
            ).pk
        ],
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


def tab_to(page, target, *, limit: int = 80) -> None:
    """Press Tab until `target` has the focus, as a keyboard user moves through the page."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"Tab never reaches {target}")


def test_the_keyboard_alone_orders_from_the_catalogue_and_pays(page, nordwind):  # noqa: F811
    customer, delivered, (installation, training, _freight) = nordwind
    sign_in(page, "paula@nordwind.example")

    tab_to(page, page.get_by_role("link", name="Catalogue"))
    page.keyboard.press("Enter")
    tab_to(page, page.get_by_label("Search by SKU or name"))
    page.keyboard.type("wid")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/portal/catalogue/\?"))
    tab_to(page, page.get_by_label("Quantity of WID-1"))
    page.keyboard.press("Control+A")
    page.keyboard.type("3")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator(".messages")).to_contain_text("is in your cart")
    tab_to(page, page.get_by_role("link", name="Cart", exact=True).first)
    page.keyboard.press("Enter")
    tab_to(page, page.get_by_label("Your PO number"))
    page.keyboard.type("PO-KEYS-1")
    tab_to(page, page.get_by_role("button", name="Place the order"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/portal/orders/[^/]+/$"))
    placed = Order.objects.exclude(pk=delivered.pk).get()
    assert page.url.endswith(f"/portal/orders/{placed.number}/")
    assert (placed.po_number, placed.lines.get().quantity) == ("PO-KEYS-1", 3)

    tab_to(page, page.get_by_role("link", name="Invoices"))
    page.keyboard.press("Enter")
    tab_to(page, page.get_by_role("link", name="Pay invoices online"))
    page.keyboard.press("Enter")
    for invoice in (installation, training):
        tab_to(page, page.get_by_label(re.compile(invoice.number)))
        page.keyboard.press("Space")
    tab_to(page, page.get_by_role("button", name="Continue to payment"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/portal/pay/test-provider/"))
    tab_to(page, page.get_by_role("button", name=re.compile(r"178\.50")))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/portal/invoices/$"))
    payment = Payment.objects.get()
    assert (payment.customer, payment.amount) == (customer, Decimal("178.50"))
    assert sorted(payment.allocations.values_list("amount", flat=True)) == [Decimal("59.50"), Decimal("119.00")]
