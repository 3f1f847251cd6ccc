"""Who may open a portal page: a signed-in portal user holding the page's role. A missing role is a
403 (the page exists, this person may not use it); another customer's object stays a 404 through
customers.selectors' scoping."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from customers.selectors import portal_membership
from invoicing.documents.errors import EInvoiceInvalid
from otc.errors import DomainError
from otc.forms import apply_domain_error


def portal_view(role: str | None = None) -> Callable:
    """Decorate a portal view: sign-in required, membership loaded once into `request.portal_customer`
    and `request.portal_roles`, the page in the customer's language, and `role` (a PortalRole value;
    None for any portal user) enforced."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            membership = portal_membership(user=request.user)
            if role is not None and role not in membership.roles:
                raise PermissionDenied("Your portal role does not include this page.")
            request.portal_customer, request.portal_roles = membership.customer, list(membership.roles)
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
