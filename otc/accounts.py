"""Sign-in policy: no self sign-up (staff create accounts), and TOTP MFA required for staff with finance
or admin powers (OTC_STAFF_MFA_REQUIRED, on in every settings module)."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse

from otc.roles import has_privileged_role

_MFA_EXEMPT_PREFIXES = ("/accounts/", "/static/", "/healthz", "/readyz")


class ClosedSignupAccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return False

    def get_login_redirect_url(self, request) -> str:
        """Staff land in the admin, everyone else in the customer portal."""
        return "/admin/" if request.user.is_staff else "/portal/"


def staff_needs_mfa_setup(user) -> bool:
    return (
        settings.OTC_STAFF_MFA_REQUIRED
        and user.is_authenticated
        and user.is_staff
        and has_privileged_role(user)
        and not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    )


class StaffMfaRequiredMiddleware:
    """Send staff without an authenticator to TOTP set-up before they reach the admin."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(_MFA_EXEMPT_PREFIXES) and staff_needs_mfa_setup(request.user):
            return redirect(reverse("mfa_activate_totp"))
        return self.get_response(request)
