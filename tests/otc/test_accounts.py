import pytest
from allauth.mfa.models import Authenticator

from otc.models import User
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"


def test_admin_sign_in_goes_through_allauth(client):
    response = client.get("/admin/login/?next=/admin/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/admin/"


def test_staff_signs_in_with_email_and_reaches_the_admin(client):
    staff = StaffFactory(email="finn@otc.test")

    response = client.post("/accounts/login/", {"login": "finn@otc.test", "password": PASSWORD})

    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
    assert int(client.session["_auth_user_id"]) == staff.pk


def test_self_sign_up_is_closed(client):
    response = client.post(
        "/accounts/signup/", {"email": "new@x.example", "password1": PASSWORD * 2, "password2": PASSWORD * 2}
    )

    assert response.status_code == 200
    assert b"Sign Up Closed" in response.content
    assert not User.objects.filter(email="new@x.example").exists()


def test_staff_without_totp_must_set_it_up_when_mfa_is_required(client, settings):
    settings.OTC_STAFF_MFA_REQUIRED = True
    staff = StaffFactory()
    client.force_login(staff)

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"


def test_staff_with_totp_passes_and_portal_users_are_not_forced(client, settings):
    settings.OTC_STAFF_MFA_REQUIRED = True
    staff = StaffFactory()
    Authenticator.objects.create(user=staff, type=Authenticator.Type.TOTP, data={"secret": "x"})
    client.force_login(staff)
    assert client.get("/admin/").status_code == 200

    client.force_login(UserFactory())
    assert client.get("/healthz").status_code == 200
    assert client.get("/admin/").status_code == 302
    assert "/accounts/2fa/" not in client.get("/admin/")["Location"]


def test_staff_sessions_on_the_api_also_need_mfa_when_required(client, settings):
    settings.OTC_STAFF_MFA_REQUIRED = True
    client.force_login(StaffFactory())

    response = client.get("/api/v1/customers/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"
