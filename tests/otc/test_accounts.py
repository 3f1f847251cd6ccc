import time
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from django.conf import settings

from otc.accounts import staff_needs_mfa_setup
from otc.models import User
from tests.factories import StaffFactory, UserFactory, totp_code

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"


def test_admin_sign_in_goes_through_allauth(client):
    response = client.get("/admin/login/?next=/admin/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/admin/"


def test_staff_signs_in_with_email_and_their_authenticator_code_and_reaches_the_admin(client):
    staff = StaffFactory(email="finn@otc.test")

    password_step = client.post("/accounts/login/", {"login": "finn@otc.test", "password": PASSWORD})
    assert password_step["Location"] == "/accounts/2fa/authenticate/"
    assert "_auth_user_id" not in client.session
    wrong = client.post("/accounts/2fa/authenticate/", {"code": f"{(int(totp_code()) + 1) % 10**6:06}"})
    assert wrong.status_code == 200
    assert "_auth_user_id" not in client.session
    code_step = client.post("/accounts/2fa/authenticate/", {"code": totp_code()})

    assert code_step.status_code == 302
    assert client.get("/admin/").status_code == 200
    assert int(client.session["_auth_user_id"]) == staff.pk


def test_a_code_of_the_step_before_is_accepted_once_and_one_two_steps_old_never(client):
    StaffFactory(email="finn@otc.test")
    client.post("/accounts/login/", {"login": "finn@otc.test", "password": PASSWORD})
    left_in_step = mfa_settings.TOTP_PERIOD - time.time() % mfa_settings.TOTP_PERIOD
    if left_in_step < 2:  # the steps counted back from now must not move on before the checks
        time.sleep(left_in_step)

    too_old = client.post("/accounts/2fa/authenticate/", {"code": totp_code(steps_ago=2)})
    assert too_old.status_code == 200
    assert "_auth_user_id" not in client.session
    just_turned = client.post("/accounts/2fa/authenticate/", {"code": totp_code(steps_ago=1)})
    assert just_turned.status_code == 302
    assert client.get("/admin/").status_code == 200

    client.logout()
    client.post("/accounts/login/", {"login": "finn@otc.test", "password": PASSWORD})
    replayed = client.post("/accounts/2fa/authenticate/", {"code": totp_code(steps_ago=1)})
    assert replayed.status_code == 200
    assert "_auth_user_id" not in client.session


def test_finance_and_admin_staff_need_mfa_in_every_settings_module_others_do_not():
    base = (Path(settings.BASE_DIR) / "otc" / "settings").glob("*.py")
    overrides = [path.name for path in base if "OTC_STAFF_MFA_REQUIRED" in path.read_text() and path.name != "base.py"]

    assert settings.OTC_STAFF_MFA_REQUIRED is True
    assert overrides == []
    assert staff_needs_mfa_setup(StaffFactory(totp=False, groups=["finance"]))
    assert staff_needs_mfa_setup(StaffFactory(totp=False, groups=["admin"]))
    assert staff_needs_mfa_setup(StaffFactory(totp=False, groups=["sales"], is_superuser=True))
    assert not staff_needs_mfa_setup(StaffFactory(totp=False, groups=["sales"]))
    assert not staff_needs_mfa_setup(StaffFactory(totp=False, groups=["service"]))


def test_an_unverified_email_record_does_not_block_mfa_set_up(client):
    staff = StaffFactory(totp=False)
    EmailAddress.objects.create(user=staff, email=staff.email, verified=False, primary=True)
    signed_in = client.post("/accounts/login/", {"login": staff.email, "password": PASSWORD})
    assert client.get(signed_in["Location"])["Location"] == "/accounts/2fa/totp/activate/"
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})  # allauth asks before adding MFA

    page = client.get("/accounts/2fa/totp/activate/")

    assert page.status_code == 200
    assert "verified your email" not in page.content.decode()


def test_self_sign_up_is_closed(client):
    response = client.post(
        "/accounts/signup/", {"email": "new@x.example", "password1": PASSWORD * 2, "password2": PASSWORD * 2}
    )

    assert response.status_code == 200
    assert b"Sign Up Closed" in response.content
    assert not User.objects.filter(email="new@x.example").exists()


def test_staff_without_totp_must_set_it_up_when_mfa_is_required(client):
    staff = StaffFactory(totp=False)
    client.force_login(staff)

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"


def test_staff_with_totp_passes_and_portal_users_are_not_forced(client):
    staff = StaffFactory(totp=False)
    Authenticator.objects.create(user=staff, type=Authenticator.Type.TOTP, data={"secret": "x"})
    client.force_login(staff)
    assert client.get("/admin/").status_code == 200

    client.force_login(UserFactory())
    assert client.get("/healthz").status_code == 200
    assert client.get("/admin/").status_code == 403  # the "admin is for staff" page (test_wrong_door.py)
    assert b"The admin is for staff" in client.get("/admin/").content


def test_staff_sessions_on_the_api_also_need_mfa_when_required(client):
    client.force_login(StaffFactory(totp=False))

    response = client.get("/api/v1/customers/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"
