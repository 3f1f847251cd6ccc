"""Ordering in the portal (buyers): the catalogue with the customer's own prices and live
availability, the cart, placing an order from it, ordering a past order again, and cancelling an
order that has not shipped. Orders are placed through service.services.place_order, which uses
orders' services."""

from decimal import Decimal

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from customers.models import PortalRole, Preferences
from customers.selectors import scoped_to_portal_user
from inventory.models import Product
from inventory.selectors import available_now, catalogue, quotes_or_none
from orders import services as orders
from orders.models import Order
from otc.errors import InvalidInput
from otc.money import line_net, parse_decimal
from service import services
from service.forms import CancelOrderForm, CartAddForm, CatalogueSearchForm, CheckoutForm
from service.portal_access import portal_view, submit_form
from service.portal_cart import Cart


@portal_view(PortalRole.BUYER)
def catalogue_page(request: HttpRequest) -> HttpResponse:
    form = CatalogueSearchForm(request.GET)
    search = form.cleaned_data["q"] if form.is_valid() else ""
    entries = catalogue(customer=request.portal_customer, search=search, on_date=timezone.localdate())
    return render(
        request, "portal/catalogue.html", {"form": form, "entries": entries, "cart_size": len(Cart(request.session))}
    )


@portal_view(PortalRole.BUYER)
@require_POST
def cart_add(request: HttpRequest) -> HttpResponse:
    form = CartAddForm(request.POST)
    product = None
    if form.is_valid():
        product = Product.objects.filter(pk=form.cleaned_data["product"], is_active=True).first()
    if product is None:
        messages.error(request, _("That product cannot be ordered."))
    else:
        Cart(request.session).add(product.pk, form.cleaned_data["quantity"])
        messages.success(request, _("%(product)s is in your cart.") % {"product": f"{product.sku} {product.name}"})
    back = request.POST.get("next", "")
    return redirect(back if back.startswith("/portal/") and "//" not in back else "portal:catalogue")


def _cart_lines(request: HttpRequest) -> list[dict]:
    """The cart priced for the customer today, with availability, for the cart page."""
    quantities = Cart(request.session).quantities()
    products = {product.pk: product for product in Product.objects.filter(pk__in=quantities, is_active=True)}
    wanted = [(products[pk], quantity) for pk, quantity in quantities.items() if pk in products]
    customer = request.portal_customer
    quotes = quotes_or_none(
        customer=customer, lines=wanted, on_date=timezone.localdate(), currency=customer.default_currency
    )
    lines = []
    for (product, quantity), quote, available in zip(
        wanted, quotes, available_now([product for product, _quantity in wanted]), strict=True
    ):
        net = None
        if quote is not None:
            net = line_net(
                quantity=quantity,
                unit_price=quote.unit_price,
                discount_percent=quote.discount_percent,
                currency=quote.currency,
            )
        lines.append({"product": product, "quantity": quantity, "quote": quote, "available": available, "net": net})
    return lines


@portal_view(PortalRole.BUYER)
@require_http_methods(["GET", "POST"])
def cart(request: HttpRequest) -> HttpResponse:
    """The cart: change quantities (0 removes), then place the order with PO number and delivery date."""
    if request.method == "POST" and "update" in request.POST:
        changes = {}
        for name, value in request.POST.items():
            if name.startswith("quantity-"):
                try:
                    quantity = parse_decimal(value or "0", field="quantity")
                    changes[int(name.removeprefix("quantity-"))] = max(quantity, Decimal("0"))
                except (InvalidInput, ValueError):
                    messages.error(request, _("Quantities must be numbers."))
                    return redirect("portal:cart")
        Cart(request.session).set(changes)
        return redirect("portal:cart")
    form = CheckoutForm(request.POST if request.method == "POST" else None)
    lines = _cart_lines(request)
    if request.method == "POST" and lines:
        placed = {}
        if submit_form(
            form,
            lambda data: placed.setdefault(
                "order",
                services.place_order(
                    customer=request.portal_customer,
                    actor=request.user,
                    lines=[(line["product"], line["quantity"]) for line in lines],
                    po_number=data["po_number"],
                    requested_delivery_date=data["requested_delivery_date"],
                ),
            ),
        ):
            Cart(request.session).clear()
            order = placed["order"]
            messages.success(
                request,
                _("Order %(number)s placed: %(status)s.")
                % {"number": order.number, "status": order.get_status_display().lower()},
            )
            return redirect("portal:order", number=order.number)
    po_required = Preferences.objects.filter(customer=request.portal_customer, po_number_required=True).exists()
    priced = [line["net"] for line in lines if line["net"] is not None]
    context = {
        "form": form,
        "lines": lines,
        "net_total": sum(priced, Decimal("0")) if priced else None,
        "currency": request.portal_customer.default_currency,
        "po_required": po_required,
    }
    return render(request, "portal/cart.html", context)


def _my_order(request: HttpRequest, number: str) -> Order:
    return get_object_or_404(scoped_to_portal_user(Order.objects.all(), user=request.user), number=number)


@portal_view(PortalRole.BUYER)
@require_POST
def order_again(request: HttpRequest, number: str) -> HttpResponse:
    """Put a past order's products and quantities in the cart, to review and place as a new order."""
    order = _my_order(request, number)
    cart = Cart(request.session)
    skipped = []
    for line in order.lines.select_related("product").order_by("line_no"):
        if line.product.is_active:
            cart.add(line.product_id, line.quantity)
        else:
            skipped.append(line.product.sku)
    messages.success(request, _("The items of %(number)s are in your cart.") % {"number": order.number})
    if skipped:
        messages.warning(request, _("No longer available: %(products)s.") % {"products": ", ".join(skipped)})
    return redirect("portal:cart")


@portal_view(PortalRole.BUYER)
@require_http_methods(["GET", "POST"])
def order_cancel(request: HttpRequest, number: str) -> HttpResponse:
    """Cancel an order that has not shipped; a shipped one is refused with the reason."""
    order = _my_order(request, number)
    form = CancelOrderForm(request.POST or None)
    if request.method == "POST" and submit_form(
        form, lambda data: orders.cancel_order(order=order, actor=request.user, reason=data["reason"])
    ):
        messages.success(request, _("Order %(number)s is cancelled.") % {"number": order.number})
        return redirect("portal:order", number=order.number)
    return render(
        request,
        "portal/form.html",
        {
            "form": form,
            "title": _("Cancel order %(number)s") % {"number": order.number},
            "submit": _("Cancel the order"),
        },
    )
