"""Portal access from the customer's side: the invited person accepts their invitation and is offered
two-factor sign-in (required when their company says so), and the customer's portal admins see their
users and invite, re-invite or revoke through customers.services."""

from allauth.account.internal.flows.login import record_authentication
from django.contrib import messages
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from customers import services
from customers.models import InvitationStatus, PortalInvitation, PortalMembership, PortalRole
from customers.selectors import invitation_for_token, scoped_to_portal_user
from service.forms import InvitationAcceptanceForm, PortalInvitationForm
from service.portal_access import has_authenticator_app, portal_view, submit_form


@require_http_methods(["GET", "POST"])
def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    """The emailed link: choose a password, become a portal user, land signed in on the portal. A used,
    revoked, replaced or expired link says so (404) without telling which."""
    invitation = invitation_for_token(token)
    if invitation is None:
        return render(request, "portal/invitation.html", {"invitation": None}, status=404)
    form = InvitationAcceptanceForm(request.POST or None)
    accepted = {}
    if request.method == "POST" and submit_form(
        form,
        lambda data: accepted.setdefault(
            "user", services.accept_portal_invitation(token=token, password=data["password"])
        ),
    ):
        login(request, accepted["user"], backend="django.contrib.auth.backends.ModelBackend")
        # The password was just chosen and entered: allauth counts it as a fresh sign-in, so setting up
        # the authenticator app next does not ask for the password again.
        record_authentication(
            request, accepted["user"], method="password", email=invitation.email, reauthenticated=True
        )
        messages.success(
            request, _("Welcome to the portal of %(customer)s.") % {"customer": invitation.customer.display_name}
        )
        return redirect("portal:two-factor")
    return render(request, "portal/invitation.html", {"invitation": invitation, "form": form})


@portal_view(before_two_factor=True)
def two_factor(request: HttpRequest) -> HttpResponse:
    """The offer to protect the account with an authenticator app (allauth's TOTP set-up), skippable
    unless the customer requires it; a user who has one already goes on to the portal."""
    if has_authenticator_app(request.user):
        return redirect("portal:home")
    required = request.portal_customer.preferences.portal_mfa_required
    return render(request, "portal/two_factor.html", {"required": required})


def _invitations(request: HttpRequest):
    return scoped_to_portal_user(PortalInvitation.objects.select_related("invited_by"), user=request.user)


@portal_view(PortalRole.ADMIN)
@require_http_methods(["GET", "POST"])
def users(request: HttpRequest) -> HttpResponse:
    """The company's portal users and pending invitations, and the form to invite a colleague."""
    form = PortalInvitationForm(request.POST or None)
    if request.method == "POST" and submit_form(
        form,
        lambda data: services.invite_portal_user(
            customer=request.portal_customer,
            actor=request.user,
            email=data["email"],
            full_name=data["full_name"],
            roles=data["roles"],
        ),
    ):
        messages.success(request, _("Invitation sent to %(email)s.") % {"email": form.cleaned_data["email"]})
        return redirect("portal:users")
    context = {
        "form": form,
        "members": scoped_to_portal_user(PortalMembership.objects.select_related("user"), user=request.user),
        "invitations": _invitations(request).filter(status=InvitationStatus.PENDING),
    }
    return render(request, "portal/users.html", context)


@portal_view(PortalRole.ADMIN)
@require_POST
def invitation_resend(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = get_object_or_404(_invitations(request), pk=pk, status=InvitationStatus.PENDING)
    services.resend_portal_invitation(invitation=invitation, actor=request.user)
    messages.success(
        request,
        _("Invitation sent again to %(email)s; the earlier link no longer works.") % {"email": invitation.email},
    )
    return redirect("portal:users")


@portal_view(PortalRole.ADMIN)
@require_POST
def invitation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = get_object_or_404(_invitations(request), pk=pk, status=InvitationStatus.PENDING)
    services.revoke_portal_invitation(invitation=invitation, actor=request.user)
    messages.success(request, _("Invitation of %(email)s revoked.") % {"email": invitation.email})
    return redirect("portal:users")
