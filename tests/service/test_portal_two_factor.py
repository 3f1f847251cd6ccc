"""Two-factor sign-in for portal users: after accepting an invitation the person is offered an
authenticator app (allauth's TOTP) and may skip it, unless their company requires it; then every
portal page waits until the app is set up."""

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY
from django.test import Client
from django.urls import reverse

from customers import services
from customers.models import PortalRole
from customers.services import invitation_token
from tests.factories import CustomerFactory, totp_code

pytestmark = pytest.mark.django_db

PASSWORD = "lighthouse-harbour-2026"


@pytest.fixture
def nordwind(clerk):
    return CustomerFactory(actor=clerk, legal_name="Nordwind Handel GmbH")


def accept(customer, clerk, email: str = "ina@nordwind.example") -> tuple[Client, object]:
    """Invite a buyer and accept the invitation in a fresh browser; the client is signed in."""
    invitation = services.invite_portal_user(customer=customer, actor=clerk, email=email, roles=[PortalRole.BUYER])
    visitor = Client()
    link = reverse("portal:accept-invitation", kwargs={"token": invitation_token(invitation)})
    response = visitor.post(link, {"password": PASSWORD, "password_again": PASSWORD})
    return visitor, response


def activate_totp(client: Client) -> object:
    """Open allauth's set-up page (no second password prompt right after the invitation) and enter the
    code the app would show."""
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200, page.get("Location")
    secret = client.session[SECRET_SESSION_KEY]
    return client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})


def test_after_the_invitation_two_factor_is_offered_and_can_be_skipped(nordwind, clerk):
    visitor, accepted = accept(nordwind, clerk)

    assert accepted["Location"] == "/portal/two-factor/"
    offer = visitor.get("/portal/two-factor/").content.decode()
    assert "Set up the authenticator app" in offer
    assert 'href="/portal/">Skip for now' in offer
    assert visitor.get("/portal/orders/").status_code == 200  # skipping is allowed
    assert not Authenticator.objects.filter(user__email="ina@nordwind.example").exists()


def test_setting_up_the_authenticator_app_right_after_the_invitation(nordwind, clerk):
    visitor, _ = accept(nordwind, clerk)

    activated = activate_totp(visitor)

    assert activated.status_code == 302
    assert Authenticator.objects.filter(user__email="ina@nordwind.example", type=Authenticator.Type.TOTP).count() == 1
    assert visitor.get("/portal/two-factor/")["Location"] == "/portal/"  # nothing more to offer


def test_a_customer_that_requires_two_factor_gets_no_skip_and_no_portal_without_it(nordwind, clerk):
    services.update_preferences(customer=nordwind, actor=clerk, data={"portal_mfa_required": True})
    visitor, _ = accept(nordwind, clerk)

    offer = visitor.get("/portal/two-factor/").content.decode()
    blocked = [visitor.get(path) for path in ("/portal/", "/portal/orders/", "/portal/catalogue/")]

    assert "Nordwind Handel GmbH requires two-factor sign-in" in offer
    assert "Skip for now" not in offer
    assert {(response.status_code, response["Location"]) for response in blocked} == {(302, "/portal/two-factor/")}
    activate_totp(visitor)
    assert visitor.get("/portal/orders/").status_code == 200


def test_a_portal_admin_turns_the_requirement_on_for_colleagues_already_signed_in(nordwind, clerk):
    admin = services.grant_portal_access(
        customer=nordwind, actor=clerk, email="it@nordwind.example", roles=[PortalRole.ADMIN]
    )
    colleague, _ = accept(nordwind, clerk)
    client = Client()
    client.force_login(admin)
    form = client.get("/portal/preferences/").content.decode()
    assert "Our portal users must sign in with an authenticator app" in form

    saved = client.post("/portal/preferences/", {"invoice_delivery": "pdf_email", "portal_mfa_required": "on"})

    assert saved.status_code == 302
    nordwind.preferences.refresh_from_db()
    assert nordwind.preferences.portal_mfa_required is True
    assert colleague.get("/portal/orders/")["Location"] == "/portal/two-factor/"
    assert client.get("/portal/")["Location"] == "/portal/two-factor/"  # the admin too
