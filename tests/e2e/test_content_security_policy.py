"""The strict Content-Security-Policy in a real browser: Swagger UI runs entirely from the project's own
files (no CDN), and the portal and sign-in pages keep their layout with no inline style left. The `page`
fixture fails any test during which the policy refused something (admin journeys included)."""

import re

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from customers import services
from tests.factories import CustomerFactory, StaffFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_swagger_ui_runs_from_the_projects_own_files(page, live_server):
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto("/api/docs/")

    expect(page.locator(".opblock-tag").first).to_be_visible(timeout=90_000)  # the schema is generated on request
    expect(page.locator(".opblock").first).to_be_visible()
    assert any("swagger-ui-bundle.js" in url for url in requested)
    assert [url for url in requested if not url.startswith(live_server.url)] == []


def test_the_sign_in_page_and_the_portal_keep_their_layout_under_the_policy(page, live_server, screenshot):
    clerk = StaffFactory(email="clara@otc.test")
    customer = CustomerFactory(actor=clerk, legal_name="Nordwind Handel GmbH")
    buyer = services.grant_portal_access(customer=customer, actor=clerk, email="paula@nordwind.example")

    page.goto("/accounts/login/")
    expect(page.locator(".card.narrow")).to_have_css("max-width", "560px")

    signed_in = Client()
    signed_in.force_login(buyer)
    cookie = signed_in.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
    page.goto("/portal/")
    expect(page).to_have_url(re.compile(r"/portal/$"))
    wide = page.locator("section.card.wide").first
    expect(wide).to_be_visible()
    expect(wide).to_have_css("grid-column-end", "-1")
    screenshot("portal-home-csp")


def test_redoc_renders_the_reference_from_the_projects_own_files(page, live_server):
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto("/api/redoc/")

    expect(page.locator("redoc h1").first).to_be_visible(timeout=90_000)  # the schema is generated on request
    expect(page.locator("redoc h2").first).to_be_visible()
    assert any("redoc.standalone.js" in url for url in requested)
    elsewhere = [url for url in requested if not url.startswith((live_server.url, "blob:"))]
    assert elsewhere == ["https://cdn.redoc.ly/redoc/logo-mini.svg"]  # asked for, refused by the policy
