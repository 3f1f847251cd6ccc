"""Returns in the portal (buyers): ask to send back delivered goods of one of the customer's orders,
with a reason, words and an optional photo; sales decide in the admin and the order page shows the
status. Requests go through orders.services.request_return with the portal user as the actor."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from customers.models import PortalRole
from customers.selectors import scoped_to_portal_user
from orders import selectors
from orders import services as orders
from orders.models import Order
from service.forms import ReturnRequestForm
from service.portal_access import portal_view, submit_form


@portal_view(PortalRole.BUYER)
@require_http_methods(["GET", "POST"])
def order_return(request: HttpRequest, number: str) -> HttpResponse:
    """The return request form of an order; without delivered goods left to return it says so."""
    order = get_object_or_404(scoped_to_portal_user(Order.objects.all(), user=request.user), number=number)
    form = ReturnRequestForm(request.POST or None, request.FILES or None, lines=selectors.returnable_lines(order=order))
    requested = {}
    if (
        request.method == "POST"
        and form.lines
        and submit_form(
            form,
            lambda data: requested.setdefault(
                "request",
                orders.request_return(
                    order=order,
                    actor=request.user,
                    reason=data["reason"],
                    description=data["description"],
                    lines=form.lines_wanted(),
                    photo=orders.ReturnPhoto(data["photo"].name, data["photo"].read()) if data["photo"] else None,
                ),
            ),
        )
    ):
        messages.success(
            request,
            _("Your return request %(number)s is with our team; we email you our decision.")
            % {"number": requested["request"].number},
        )
        return redirect("portal:order", number=order.number)
    return render(request, "portal/return_request.html", {"order": order, "form": form})
