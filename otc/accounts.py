"""Sign-in policy: no self sign-up (staff create accounts), and TOTP MFA required for staff with finance
or admin powers (OTC_STAFF_MFA_REQUIRED, on in every settings module)."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import ngettext

from otc import sign_in_throttle
from otc.roles import has_privileged_role

_MFA_EXEMPT_PREFIXES = ("/accounts/", "/static/", "/healthz", "/readyz")


class ClosedSignupAccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return False

    def pre_authenticate(self, request, **credentials) -> None:
        """Refuse while the delay of earlier failures runs, with the same words for every login."""
        wait = sign_in_throttle.seconds_to_wait(_login(credentials), self.get_client_ip(request))
        if wait:
            message = ngettext(
                "Too many failed sign-in attempts. Try again in %(seconds)d second.",
                "Too many failed sign-in attempts. Try again in %(seconds)d seconds.",
                wait,
            )
            raise ValidationError(message % {"seconds": wait}, code="sign_in_delayed")
        super().pre_authenticate(request, **credentials)

    def authenticate(self, request, **credentials):
        user = super().authenticate(request, **credentials)
        if user is not None:
            sign_in_throttle.record_success(_login(credentials), self.get_client_ip(request))
        return user

    def authentication_failed(self, request, **credentials) -> None:
        sign_in_throttle.record_failure(_login(credentials), self.get_client_ip(request))

    def get_login_redirect_url(self, request) -> str:
        """Staff land in the admin, everyone else in the customer portal."""
        return "/admin/" if request.user.is_staff else "/portal/"


def _login(credentials: dict) -> str:
    return credentials.get("email") or credentials.get("username") or ""


def staff_needs_mfa_setup(user) -> bool:
    return (
        settings.OTC_STAFF_MFA_REQUIRED
        and user.is_authenticated
        and user.is_staff
        and not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
        and has_privileged_role(user)
    )


class StaffMfaRequiredMiddleware:
    """Send staff without an authenticator to TOTP set-up before they reach the admin."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(_MFA_EXEMPT_PREFIXES) and staff_needs_mfa_setup(request.user):
            return redirect(reverse("mfa_activate_totp"))
        return self.get_response(request)
