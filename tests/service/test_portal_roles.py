"""Every portal route checks the portal role (a missing role is a 403, before any object is looked
up) and the customer (another customer's object is a 404); sign-in is throttled per email with the
same answers whether or not the account exists."""

import re
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import resolve

from customers import services as customer_services
from customers.models import PortalRole
from invoicing import services as invoicing
from orders import services as orders
from payments.money.checkouts import start_checkout
from payments.money.providers import TestProvider
from service import portal_urls, services
from service.models import TicketChannel
from tests.factories import CustomerFactory, approved_limit, make_product, placed_order, ship

pytestmark = pytest.mark.django_db

BUYER, PAYABLE, ADMIN = PortalRole.BUYER.value, PortalRole.ACCOUNTS_PAYABLE.value, PortalRole.ADMIN.value
# Opened from an emailed one-time link before (or without) signing in; their tokens are the scope,
# tested in test_portal_access and test_automated_answers.
SIGNED_LINK_PAGES = {"accept-invitation", "answer-feedback"}


def invoice_for(customer, clerk):
    line = invoicing.ManualLine(
        description="Installation", quantity=Decimal("1"), unit_price=Decimal("100"), tax_rate=Decimal("19")
    )
    return invoicing.create_manual_invoice(customer=customer, lines=[line], actor=clerk)


@pytest.fixture
def world(clerk, approver, company):
    widget = make_product(actor=clerk, sku="WID-1", price="12.50", stock="50")
    contact = {"name": "Nora", "email": "nora@example.com"}
    address = {"kind": "shipping", "line1": "Hafenweg 9", "postal_code": "20457", "city": "Hamburg", "country": "DE"}
    mine = CustomerFactory(actor=clerk, legal_name="Nordwind Handel GmbH", contacts=[contact], addresses=[address])
    theirs = CustomerFactory(actor=clerk, legal_name="Konkurrenz AG", contacts=[contact], addresses=[address])
    made = {}
    for side, customer in (("mine", mine), ("theirs", theirs)):
        approved_limit(customer, limit="1000", clerk=clerk, approver=approver)
        made[side] = {
            "order": orders.create_order(
                actor=clerk, customer=customer, lines=[orders.LineInput(widget, Decimal("1"))]
            ),
            "shipment": ship(placed_order(customer, clerk, (widget, "2")), clerk),
            "invoice": invoice_for(customer, clerk),
            "contact": customer.contacts.get(),
            "address": customer.addresses.order_by("pk").first(),
            "ticket": services.open_ticket(
                customer=customer, subject="Question", body="Hello", channel=TicketChannel.EMAIL, actor=clerk
            ),
            "invitation": customer_services.invite_portal_user(
                customer=customer, actor=clerk, email=f"new@{side}.example", roles=[BUYER]
            ),
        }
        made[side]["checkout"] = start_checkout(
            customer=customer, invoices=[made[side]["invoice"]], provider=TestProvider.name, actor=clerk
        )
    users = {
        role: customer_services.grant_portal_access(
            customer=mine, actor=clerk, email=f"{role}@mine.example", roles=[role]
        )
        for role in (BUYER, PAYABLE, ADMIN)
    }
    return made, users


def routes(made) -> list[tuple[str, str, str | None, str | None]]:
    """(method, role, URL of one's own object or page, URL of the other customer's object)."""

    def each(template: str, key: str, attribute: str = "pk") -> tuple[str, str]:
        return tuple(template.format(getattr(made[side][key], attribute)) for side in ("mine", "theirs"))

    def delivery_note(side: str) -> str:
        shipment = made[side]["shipment"]
        return f"/portal/orders/{shipment.order.number}/shipments/{shipment.number}/delivery-note/"

    return [
        ("get", None, "/portal/", None),
        ("get", None, "/portal/help/", None),
        ("get", None, "/portal/two-factor/", None),
        ("get", ADMIN, "/portal/preferences/", None),
        ("get", ADMIN, "/portal/contacts/add/", None),
        ("get", ADMIN, *each("/portal/contacts/{}/", "contact")),
        ("get", ADMIN, "/portal/addresses/add/", None),
        ("get", ADMIN, *each("/portal/addresses/{}/", "address")),
        ("get", ADMIN, "/portal/bank-account/", None),
        ("get", ADMIN, "/portal/users/", None),
        ("post", ADMIN, *each("/portal/users/invitations/{}/resend/", "invitation")),
        ("post", ADMIN, *each("/portal/users/invitations/{}/revoke/", "invitation")),
        ("get", BUYER, "/portal/orders/", None),
        ("get", BUYER, *each("/portal/orders/{}/", "order", "number")),
        ("get", BUYER, *each("/portal/orders/{}/cancel/", "order", "number")),
        ("get", BUYER, *each("/portal/orders/{}/return/", "order", "number")),
        ("post", BUYER, *each("/portal/orders/{}/again/", "order", "number")),
        ("get", BUYER, *each("/portal/orders/{}/confirmation/", "order", "number")),
        ("get", BUYER, delivery_note("mine"), delivery_note("theirs")),
        ("get", BUYER, "/portal/catalogue/", None),
        ("get", BUYER, "/portal/cart/", None),
        ("post", BUYER, "/portal/cart/add/", None),
        ("get", PAYABLE, "/portal/invoices/", None),
        ("get", PAYABLE, *each("/portal/invoices/{}/", "invoice")),
        ("get", PAYABLE, None, each("/portal/invoices/{}/ubl/", "invoice")[1]),
        ("get", PAYABLE, "/portal/statement/", None),
        ("get", PAYABLE, "/portal/pay/", None),
        ("get", PAYABLE, *each("/portal/pay/test-provider/{}/", "checkout", "token")),
        ("get", PAYABLE, *each("/portal/invoices/download/?format=ubl&invoice={}", "invoice")),
        ("get", PAYABLE, *each("/portal/invoices/{}/dispute/", "invoice")),
        ("get", PAYABLE, *each("/portal/invoices/{}/promise/", "invoice")),
        ("get", None, "/portal/surveys/", None),
        ("get", None, "/portal/tickets/", None),
        ("get", None, "/portal/tickets/new/", None),
        ("get", None, *each("/portal/tickets/{}/", "ticket", "number")),
    ]


def test_every_portal_route_checks_role_and_customer(world):
    made, users = world
    clients = {}
    for role, user in users.items():
        clients[role] = Client()
        clients[role].force_login(user)

    for method, role, own, foreign in routes(made):
        for holder, client in clients.items():
            call = getattr(client, method)
            allowed = role is None or holder == role
            for url in filter(None, (own, foreign)):
                status = call(url).status_code
                if not allowed:
                    assert status == 403, (url, holder, status)
                elif url == foreign:
                    assert status == 404, (url, holder, status)
                else:
                    assert status in (200, 302), (url, holder, status)


def test_the_routes_cover_every_portal_url(world):
    """A new portal URL fails here until it is added to routes() with its role."""
    made, _ = world
    covered = {
        resolve(urlsplit(url).path).url_name
        for _method, _role, own, foreign in routes(made)
        for url in (own, foreign)
        if url
    }

    assert covered == {pattern.name for pattern in portal_urls.urlpatterns} - SIGNED_LINK_PAGES


def test_signed_out_visitors_are_sent_to_sign_in(world):
    made, _ = world
    for method, _role, own, _foreign in routes(made):
        if own:
            response = getattr(Client(), method)(own)
            assert (response.status_code, response["Location"].split("?")[0]) == (302, "/accounts/login/"), own


def errors_of(response) -> str:
    return " ".join(
        re.sub(
            r"<[^>]+>",
            " ",
            "".join(re.findall(r'<ul class="errorlist[^"]*">.*?</ul>', response.content.decode(), re.S)),
        ).split()
    )


def test_failed_sign_ins_slow_down_the_same_way_whether_or_not_the_account_exists(clerk):
    cache.clear()
    mine = CustomerFactory(actor=clerk, legal_name="Nordwind Handel GmbH")
    user = customer_services.grant_portal_access(customer=mine, actor=clerk, email="buyer@nordwind.example")
    user.set_password("lighthouse-harbour-2026")
    user.save()
    answers = {}
    for email in ("buyer@nordwind.example", "nobody@nordwind.example"):
        client = Client(REMOTE_ADDR=f"10.0.0.{len(answers) + 1}")
        tries = [client.post("/accounts/login/", {"login": email, "password": "wrong-password-1"}) for _ in range(4)]
        answers[email] = [(response.status_code, errors_of(response)) for response in tries]

    existing, missing = answers.values()
    assert existing == missing
    assert [status for status, _ in existing] == [200, 200, 200, 200]
    assert all("not correct" in text for _, text in existing[:3])
    assert "Too many failed sign-in attempts. Try again in 1 second." in existing[3][1]
    from_elsewhere = Client(REMOTE_ADDR="10.0.0.9").post(
        "/accounts/login/", {"login": "buyer@nordwind.example", "password": "lighthouse-harbour-2026"}
    )
    assert from_elsewhere.status_code == 302  # the guesser's failures do not lock the real user out
    cache.clear()


def test_the_help_page_renders_the_customer_guide(world):
    _, users = world
    client = Client()
    client.force_login(users[BUYER])

    page = client.get("/portal/help/").content.decode()

    assert "<h1>Help with the customer portal</h1>" in page
    assert "<table>" in page
    assert "<strong>RF reference</strong>" in page
