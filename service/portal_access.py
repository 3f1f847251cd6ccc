"""Who may open a portal page: a signed-in portal user holding the page's role. A missing role is a
403 (the page exists, this person may not use it); another customer's object stays a 404 through
customers.selectors' scoping."""

from collections.abc import Callable
from functools import wraps

from allauth.mfa.models import Authenticator
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import translation

from customers.selectors import portal_membership
from invoicing.documents.errors import EInvoiceInvalid
from otc.errors import DomainError
from otc.forms import apply_domain_error


def has_authenticator_app(user) -> bool:
    return Authenticator.objects.filter(user_id=user.pk, type=Authenticator.Type.TOTP).exists()


def needs_two_factor_setup(request: HttpRequest) -> bool:
    """The customer requires two-factor sign-in and this portal user has no authenticator app yet."""
    return request.portal_customer.preferences.portal_mfa_required and not has_authenticator_app(request.user)


def portal_view(role: str | None = None, *, before_two_factor: bool = False) -> Callable:
    """Decorate a portal view: sign-in required, membership loaded once into `request.portal_customer`
    and `request.portal_roles`, the page in the customer's language, and `role` (a PortalRole value;
    None for any portal user) enforced. When the customer requires two-factor sign-in, a user without
    an authenticator app is sent to set one up first (`before_two_factor` marks the page that offers it)."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            membership = portal_membership(user=request.user)
            if role is not None and role not in membership.roles:
                raise PermissionDenied("Your portal role does not include this page.")
            request.portal_customer, request.portal_roles = membership.customer, list(membership.roles)
            if not before_two_factor and needs_two_factor_setup(request):
                return redirect("portal:two-factor")
            translation.activate(membership.customer.language)
            request.LANGUAGE_CODE = translation.get_language()
            return view(request, *args, **kwargs)

        return login_required(guarded)

    return decorate


def submit_form(form: Form, action: Callable[[dict], object]) -> bool:
    """Run a service with the form's data; a broken rule becomes form errors and changes nothing."""
    if not form.is_valid():
        return False
    try:
        action(form.cleaned_data)
    except DomainError as error:
        apply_domain_error(form, error)
        return False
    return True


def einvoice_refusal(invalid: EInvoiceInvalid) -> str:
    """What the customer reads when their e-invoice cannot be made yet (the rules are staff's to fix)."""
    return (
        f"{invalid.message} Download the PDF instead, or open a help request so that we can complete "
        "your electronic address."
    )
