"""The order desk: order entry with product search and a live price, the order list with bulk confirm
and bulk ship, the credit-hold queue, and per order: confirm, cancel, release or reject a credit
hold, dispatch a shipment, mark it delivered, register a return.

Thin by design: every write is one orders.services call with the signed-in user as actor. Prices,
rules, taxes and totals are the service's; a refused call (DomainError) becomes a form error or an
admin message and nothing changes.
"""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.html import format_html, format_html_join
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.filters.admin import AutocompleteSelectFilter, ChoicesDropdownFilter, RangeDateFilter
from unfold.decorators import action, display
from unfold.paginator import InfinitePaginator

from customers.models import Customer
from customers.selectors import currency_for_customer
from inventory.models import Product, format_quantity
from inventory.selectors import quote_price
from orders import selectors, services
from orders.documents import confirmation_document, delivery_note_document
from orders.forms import (
    ApproveReturnForm,
    DispatchForm,
    DraftLineForm,
    OrderEntryForm,
    OrderLineEntryForm,
    ReturnForm,
)
from orders.models import (
    Order,
    OrderLine,
    OrderStatus,
    OrderTimelineEntry,
    ReturnRequest,
    ReturnRequestLine,
    ReturnRequestStatus,
    Shipment,
    ShipmentStatus,
)
from orders.selectors import backordered_condition
from otc.admin import (
    AuditHistory,
    DetailActionsByState,
    IndexedSearch,
    OptionalReasonForm,
    ReadOnlyInline,
    ReadOnlyModelAdmin,
    ReasonForm,
    ServiceChangeFormMixin,
    ServiceRefused,
    address_text,
    badge,
    bulk_with_reason,
    call_for_each,
    call_once,
    change_url,
    money_text,
    service_form_page,
)
from otc.documents import download
from otc.errors import DomainError, InvalidInput
from otc.forms import adopt_saved_row
from otc.money import parse_decimal, quantize

STATUS_COLORS = {
    OrderStatus.DRAFT: "",
    OrderStatus.CONFIRMED: "info",
    OrderStatus.ON_CREDIT_HOLD: "warning",
    OrderStatus.PARTIALLY_SHIPPED: "info",
    OrderStatus.SHIPPED: "success",
    OrderStatus.COMPLETED: "success",
    OrderStatus.CANCELLED: "danger",
}
HOLD_FILTER = "status__exact"
HEADER_FIELDS = [
    "number",
    "status_badge",
    "customer",
    "currency",
    "po_number",
    "order_date",
    "requested_delivery_date",
    "warehouse",
    "discount_percent",
]
TOTAL_FIELDS = ["net", "tax", "gross", "hold_reason"]
DRAFT_FIELDS = ["po_number", "discount_percent", "notes"]  # what a draft's header lets the clerk change
RECORD_FIELDS = ["shipping_address_text", "billing_address_text", "notes", "created_by", "created_at", "confirmed_at"]


# --------------------------------------------------------------------------------------------------
# Inlines: entry lines on the add page; priced lines, shipments and the timeline on the change page
# --------------------------------------------------------------------------------------------------


class OrderLineEntryInline(TabularInline):
    """The lines as entered: product (searchable), quantity, optional discount. create_order prices them."""

    model = OrderLine
    form = OrderLineEntryForm
    fields = ["product", "quantity", "discount_percent"]
    autocomplete_fields = ["product"]
    extra = 3
    min_num = 1
    verbose_name_plural = "lines"


class DraftOrderLineInline(TabularInline):
    """A draft's lines, editable until it is confirmed; update_draft_order prices and writes them."""

    model = OrderLine
    form = DraftLineForm
    fields = ["product", "quantity", "discount_percent", "unit_price_override", "override_reason", "price_rule"]
    readonly_fields = ["price_rule"]
    autocomplete_fields = ["product"]
    extra = 1
    min_num = 1
    verbose_name_plural = "lines"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        may_override = request.user.has_perm(services.OVERRIDE_PERMISSION)
        formset.form = type(formset.form.__name__, (formset.form,), {"may_override": may_override})
        return formset

    def has_add_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("orders.change_order")

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("orders.change_order")

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("orders.change_order")


def _entered_lines(formset) -> list[services.DraftLineInput]:
    """The lines of an entry or draft formset as the services take them; a row of an existing line
    names it by number, a new row adds a line, a deleted or empty row is left out."""
    return [
        services.DraftLineInput(
            product=data["product"],
            quantity=data["quantity"],
            discount_percent=data.get("discount_percent"),
            unit_price=data.get("unit_price_override"),
            override_reason=data.get("override_reason") or "",
            line_no=line_form.instance.line_no if line_form.instance.pk else None,
        )
        for line_form in formset.forms
        for data in [line_form.cleaned_data]
        if data and not data.get("DELETE") and data.get("product")
    ]


def _posted_lines(post) -> list[services.LineInput]:
    """The line rows of a posted (unsaved) order form, for its running total: rows without a product or
    a quantity, and rows marked for removal, are left out."""
    rows = [
        {name: post.get(f"lines-{index}-{name}", "") for name in ROW_FIELDS}
        for index in range(int(post.get("lines-TOTAL_FORMS") or 0))
    ]
    rows = [row for row in rows if row["product"].isdigit() and row["quantity"] and not row["DELETE"]]
    products = Product.objects.select_related("tax_category").in_bulk({int(row["product"]) for row in rows})
    return [
        services.LineInput(
            product=products[int(row["product"])],
            quantity=row["quantity"],
            discount_percent=row["discount_percent"] or None,
            unit_price=row["unit_price_override"] or None,
        )
        for row in rows
        if int(row["product"]) in products
    ]


ROW_FIELDS = ["product", "quantity", "discount_percent", "unit_price_override", "DELETE"]


def _int(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() else None


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = [
        "line_no",
        "product",
        "quantity_text",
        "unit_price",
        "price_rule",
        "discount_percent",
        "tax_rate",
        "net_amount",
        "tax_amount",
        "reserved_text",
        "shipped_text",
        "backordered_text",
        "returned_text",
    ]
    readonly_fields = fields
    verbose_name_plural = "lines"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")

    @display(description="Quantity")
    def quantity_text(self, line: OrderLine) -> str:
        return format_quantity(line.quantity)

    @display(description="Reserved")
    def reserved_text(self, line: OrderLine) -> str:
        return format_quantity(line.quantity_reserved)

    @display(description="Shipped")
    def shipped_text(self, line: OrderLine) -> str:
        return format_quantity(line.quantity_shipped)

    @display(description="Backordered")
    def backordered_text(self, line: OrderLine) -> str:
        if not line.product.is_stocked or line.order.status in (OrderStatus.DRAFT, OrderStatus.CANCELLED):
            return "-"
        return format_quantity(line.quantity_backordered)

    @display(description="Returned")
    def returned_text(self, line: OrderLine) -> str:
        return format_quantity(line.quantity_returned)


class ShipmentInline(ReadOnlyInline):
    model = Shipment
    fields = [
        "number",
        "status_badge",
        "carrier",
        "tracking",
        "dispatched_at",
        "delivered_at",
        "delivery",
        "delivery_note",
    ]
    readonly_fields = fields

    @display(description="Status")
    def status_badge(self, shipment: Shipment) -> str:
        delivered = shipment.status == ShipmentStatus.DELIVERED
        return badge(shipment.get_status_display(), "success" if delivered else "info")

    @display(description="Tracking")
    def tracking(self, shipment: Shipment) -> str:
        if shipment.tracking_url:
            return format_html(
                '<a class="underline" href="{}" rel="noopener" target="_blank">{}</a>',
                shipment.tracking_url,
                shipment.tracking_number or shipment.tracking_url,
            )
        return shipment.tracking_number or "-"

    @display(description="")
    def delivery(self, shipment: Shipment) -> str:
        if shipment.pk is None or shipment.status == ShipmentStatus.DELIVERED:
            return ""
        url = reverse("admin:orders_order_deliver_shipment", args=[shipment.order_id, shipment.pk])
        return format_html('<a class="text-primary-600" href="{}">Mark delivered</a>', url)

    @display(description="")
    def delivery_note(self, shipment: Shipment) -> str:
        if shipment.pk is None:
            return ""
        url = reverse("admin:orders_order_delivery_note", args=[shipment.order_id, shipment.pk])
        return format_html('<a class="text-primary-600" href="{}">Download delivery note</a>', url)


class TimelineInline(ReadOnlyInline):
    model = OrderTimelineEntry
    fields = ["at", "kind", "detail", "actor"]
    readonly_fields = fields
    verbose_name_plural = "timeline"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor").order_by("at", "pk")


# --------------------------------------------------------------------------------------------------
# Orders
# --------------------------------------------------------------------------------------------------


class BackorderFilter(admin.SimpleListFilter):
    """Released orders with a line that stock did not cover (the sales dashboard links here)."""

    title = "backordered"
    parameter_name = "backordered"

    def lookups(self, request, model_admin):
        return [("yes", "Backordered")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(backordered_condition())
        return queryset


@admin.register(Order)
class OrderAdmin(IndexedSearch, AuditHistory, DetailActionsByState, ServiceChangeFormMixin, ModelAdmin):
    form = OrderEntryForm
    list_display = ["number", "customer", "status_badge", "order_date", "po_number", "gross"]
    list_display_links = ["number"]
    list_filter = [
        ("status", ChoicesDropdownFilter),
        ("customer", AutocompleteSelectFilter),
        ("order_date", RangeDateFilter),
        BackorderFilter,
    ]
    list_filter_submit = True
    search_fields = ["number", "po_number", "customer__number", "customer__legal_name", "customer__trading_name"]
    search_spec = selectors.ORDER_SEARCH
    search_help_text = "Order number (whole or its start), PO number, customer number or any part of the name"
    list_select_related = ["customer"]
    show_full_result_count = False
    paginator = InfinitePaginator
    ordering = ["-pk"]
    autocomplete_fields = ["customer"]

    actions = ["confirm_selected", "ship_selected", "release_selected", "reject_selected"]
    actions_list = ["credit_hold_queue"]
    actions_detail = [
        "confirm_one",
        {"title": "Credit hold", "icon": "credit_score", "items": ["release_one", "reject_one"]},
        {"title": "Fulfilment", "icon": "local_shipping", "items": ["dispatch_one", "return_one"]},
        "cancel_one",
        "download_confirmation",
    ]
    detail_action_states = {
        "download_confirmation": selectors.was_confirmed,
        "confirm_one": selectors.is_draft,
        "release_one": selectors.is_on_credit_hold,
        "reject_one": selectors.is_on_credit_hold,
        "dispatch_one": selectors.may_ship,
        "return_one": selectors.has_shipped_goods,
        "cancel_one": selectors.may_be_cancelled,
    }
    add_fieldsets = [
        ("Order", {"fields": ["customer", "currency", "po_number", "requested_delivery_date"]}),
        ("Terms", {"fields": ["warehouse", "discount_percent", "notes"]}),
    ]
    fieldsets = [
        ("Order", {"fields": HEADER_FIELDS}),
        ("Totals", {"fields": TOTAL_FIELDS}),
        ("Record", {"fields": RECORD_FIELDS}),
    ]

    # -- permissions --------------------------------------------------------------------------------

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # orders are cancelled, never deleted

    def has_order_change_permission(self, request, object_id=None) -> bool:
        return request.user.has_perm("orders.change_order")

    def has_release_permission(self, request, object_id=None) -> bool:
        return request.user.has_perm("orders.release_credit_hold")

    def has_return_permission(self, request, object_id=None) -> bool:
        return request.user.has_perm("orders.add_returnorder")

    # -- list -----------------------------------------------------------------------------------------

    def get_list_display(self, request):
        if request.GET.get(HOLD_FILTER) == OrderStatus.ON_CREDIT_HOLD:
            return [*self.list_display, "hold_reason"]
        return self.list_display

    @display(description="Status", ordering="status")
    def status_badge(self, order: Order) -> str:
        return badge(order.get_status_display(), STATUS_COLORS.get(order.status, ""))

    @display(description="Gross total", ordering="gross_total")
    def gross(self, order: Order) -> str:
        return money_text(order.gross_total, order.currency)

    @display(description="Net total")
    def net(self, order: Order) -> str:
        return money_text(order.net_total, order.currency)

    @display(description="Tax total")
    def tax(self, order: Order) -> str:
        return money_text(order.tax_total, order.currency)

    @display(description="Shipping address")
    def shipping_address_text(self, order: Order) -> str:
        return address_text(order.shipping_address)

    @display(description="Billing address")
    def billing_address_text(self, order: Order) -> str:
        return address_text(order.billing_address)

    # -- entry and the read-only change page ----------------------------------------------------------

    def get_inlines(self, request, obj):
        if obj is None:
            return [OrderLineEntryInline]
        if self._editable(request, obj):
            return [DraftOrderLineInline, TimelineInline]
        return [OrderLineInline, ShipmentInline, TimelineInline]

    def get_fieldsets(self, request, obj=None):
        return self.fieldsets if obj is not None else self.add_fieldsets

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        fields = [*HEADER_FIELDS, *TOTAL_FIELDS, *RECORD_FIELDS]
        if self._editable(request, obj):
            return [name for name in fields if name not in DRAFT_FIELDS]
        return fields

    def _editable(self, request, order: Order) -> bool:
        """A draft is changed in its form until it is confirmed; any other order is read only."""
        return selectors.is_draft(order) and self.has_order_change_permission(request)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        order = self.get_object(request, unquote(object_id))
        editable = order is not None and self._editable(request, order)
        if request.method == "POST" and not editable:
            return HttpResponseRedirect(request.path)  # nothing on an entered order is edited in a form
        extra_context = {
            **(extra_context or {}),
            "show_save": editable,
            "show_save_and_continue": editable,
            "show_save_and_add_another": False,
            "show_delete_link": False,
            **(self._entry_context(order) if editable else {}),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def get_changeform_initial_data(self, request) -> dict:
        """Opened for a customer (?customer=, as the customer page's "New order" does), the order starts in
        that customer's currency. Opened for nobody yet, the currency stays "the customer's default": the
        company currency there would enter a foreign customer's order in the wrong currency."""
        initial = super().get_changeform_initial_data(request)
        if request.GET.get("customer") and "currency" not in initial:
            initial["currency"] = currency_for_customer(request.GET["customer"])
        return initial

    def add_view(self, request, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), **self._entry_context(None)}
        return super().add_view(request, form_url, extra_context)

    def _entry_context(self, order: Order | None) -> dict:
        """What the form's scripts need: the live price and running total endpoints, and a draft's own
        customer and currency (its header is read only)."""
        total_url = reverse("admin:orders_order_total")
        return {
            "price_url": reverse("admin:orders_order_price"),
            "total_url": f"{total_url}?order={order.pk}" if order else total_url,
            "order_customer": order.customer_id if order else "",
            "order_currency": order.currency if order else "",
            "order_date": order.order_date.isoformat() if order else "",
        }

    def save_model(self, request, obj, form, change) -> None:
        """The order is written in save_related, where its lines are known."""

    def save_formset(self, request, form, formset, change) -> None:
        """Entry lines are handed to create_order in save_related; nothing else is saved from a form."""

    def save_related(self, request, form, formsets, change) -> None:
        lines = [line for formset in formsets for line in _entered_lines(formset)]
        data = form.cleaned_data
        try:
            if change:
                order = services.update_draft_order(
                    order=form.instance,
                    actor=request.user,
                    lines=lines,
                    discount_percent=data.get("discount_percent") or Decimal("0"),
                    po_number=data.get("po_number") or "",
                    notes=data.get("notes") or "",
                )
            else:
                order = services.create_order(
                    actor=request.user,
                    customer=data["customer"],
                    lines=lines,
                    currency=data.get("currency") or None,
                    po_number=data.get("po_number") or "",
                    requested_delivery_date=data.get("requested_delivery_date"),
                    warehouse=data.get("warehouse"),
                    discount_percent=data.get("discount_percent") or Decimal("0"),
                    notes=data.get("notes") or "",
                )
        except DomainError as error:
            raise ServiceRefused(error) from error
        adopt_saved_row(form.instance, order)

    def response_add(self, request, obj, post_url_continue=None):
        messages.success(
            request, f"Order {obj.number} entered as a draft: {money_text(obj.gross_total, obj.currency)}."
        )
        return HttpResponseRedirect(change_url(obj))

    def response_change(self, request, obj):
        if "_continue" in request.POST:
            return super().response_change(request, obj)
        messages.success(request, f"Draft {obj.number} changed: {money_text(obj.gross_total, obj.currency)}.")
        return HttpResponseRedirect(change_url(obj))

    def construct_change_message(self, request, form, formsets, add=False):
        return []  # lines are not saved by their formset (create_order and update_draft_order write them)

    def log_addition(self, request, obj, message):
        return None  # the audit trail and the order's timeline record the entry

    def log_change(self, request, obj, message):
        return None  # the audit trail (with the reason) and the order's timeline record the change

    # -- live price -------------------------------------------------------------------------------------

    def price_view(self, request: HttpRequest) -> JsonResponse:
        """GET ?customer=&product=&quantity=[&currency=&date=]: the unit price and the rule behind it."""
        if not (self.has_add_permission(request) or self.has_view_permission(request)):
            raise PermissionDenied
        try:
            customer = Customer.objects.get(pk=int(request.GET["customer"]))
            product = Product.objects.get(pk=int(request.GET["product"]))
            quantity = parse_decimal(request.GET.get("quantity") or "1", field="quantity")
            on_date = parse_date(request.GET.get("date") or "") or timezone.localdate()
        except (KeyError, ValueError, InvalidInput, Customer.DoesNotExist, Product.DoesNotExist):
            return JsonResponse({"error": "Choose a customer, a product, a quantity and a date."}, status=400)
        if quantity <= 0:
            return JsonResponse({"error": "The quantity must be more than zero."}, status=400)
        try:
            quote = quote_price(
                customer=customer,
                product=product,
                quantity=quantity,
                on_date=on_date,
                currency=request.GET.get("currency") or None,
            )
        except DomainError as error:
            return JsonResponse({"error": error.message, "code": error.code}, status=422)
        return JsonResponse(
            {
                "unit_price": str(quote.unit_price),
                "currency": quote.currency,
                "discount_percent": str(quote.discount_percent),
                "rule": quote.rule,
            }
        )

    def total_view(self, request: HttpRequest) -> JsonResponse:
        """POST the order form (?order= a draft being changed): the running total, net, tax and gross,
        priced by orders.services.quote_order as saving would price it. Writes nothing."""
        if request.method != "POST":
            return JsonResponse({"error": "POST the order form."}, status=405)
        if not (self.has_add_permission(request) or self.has_order_change_permission(request)):
            raise PermissionDenied
        order = None
        if request.GET.get("order"):
            order = self.get_object(request, request.GET["order"])
            if order is None or not selectors.is_draft(order):
                return JsonResponse({"error": "Only a draft order has a running total."}, status=409)
        customer = order.customer if order else Customer.objects.filter(pk=_int(request.POST.get("customer"))).first()
        if customer is None:
            return JsonResponse({"error": "Choose a customer."}, status=400)
        try:
            quote = services.quote_order(
                customer=customer,
                order=order,
                lines=_posted_lines(request.POST),
                currency=request.POST.get("currency") or None,
                discount_percent=request.POST.get("discount_percent") or "0",
            )
        except DomainError as error:
            return JsonResponse({"error": error.message, "code": error.code}, status=422)
        return JsonResponse(
            {
                "currency": quote.currency,
                "net": str(quantize(quote.net_total, quote.currency)),
                "tax": str(quantize(quote.tax_total, quote.currency)),
                "gross": str(quantize(quote.gross_total, quote.currency)),
            }
        )

    def get_urls(self):
        custom = [
            path("price/", self.admin_site.admin_view(self.price_view), name="orders_order_price"),
            path("total/", self.admin_site.admin_view(self.total_view), name="orders_order_total"),
            path(
                "<path:object_id>/shipments/<int:shipment_id>/deliver/",
                self.admin_site.admin_view(self.deliver_shipment),
                name="orders_order_deliver_shipment",
            ),
            path(
                "<path:object_id>/shipments/<int:shipment_id>/delivery-note/",
                self.admin_site.admin_view(self.delivery_note_view),
                name="orders_order_delivery_note",
            ),
        ]
        return custom + super().get_urls()

    # -- documents ------------------------------------------------------------------------------------

    @action(
        description="Download confirmation PDF",
        permissions=["view"],
        url_path="confirmation-pdf",
        icon="picture_as_pdf",
    )
    def download_confirmation(self, request, object_id) -> HttpResponse:
        """The order confirmation as the customer got it (rendered and stored on first request)."""
        order = self._order(request, object_id)
        try:
            document = confirmation_document(order=order)
        except DomainError as error:
            messages.error(request, error.message)
            return HttpResponseRedirect(change_url(order))
        return download(document)

    def delivery_note_view(self, request, object_id, shipment_id) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        shipment = get_object_or_404(Shipment, pk=shipment_id, order_id=unquote(object_id))
        return download(delivery_note_document(shipment=shipment))

    # -- the credit-hold queue --------------------------------------------------------------------------

    @action(description="Credit-hold queue", url_path="credit-hold-queue", icon="front_hand")
    def credit_hold_queue(self, request):
        url = reverse("admin:orders_order_changelist")
        return HttpResponseRedirect(f"{url}?{HOLD_FILTER}={OrderStatus.ON_CREDIT_HOLD}")

    # -- bulk actions -----------------------------------------------------------------------------------

    @action(description="Confirm selected orders", permissions=["order_change"])
    def confirm_selected(self, request, queryset) -> None:
        confirmed, held = 0, []
        for order in queryset.order_by("pk"):
            try:
                result = services.confirm_order(order=order, actor=request.user)
            except DomainError as error:
                messages.error(request, f"{order}: {error.message}")
                continue
            if result.status == OrderStatus.ON_CREDIT_HOLD:
                held.append(result)
                messages.warning(request, f"{result}: put on credit hold. {result.hold_reason}")
            else:
                confirmed += 1
        if confirmed:
            messages.success(request, f"Confirmed {confirmed} order(s).")
        if held:
            messages.warning(request, f"Put {len(held)} order(s) on credit hold for finance to review.")

    @action(description="Ship selected orders (all reserved)", permissions=["order_change"])
    def ship_selected(self, request, queryset) -> None:
        call_for_each(
            request,
            queryset.order_by("pk"),
            lambda order: services.dispatch_shipment(order=order, actor=request.user),
            done="Dispatched {count} shipment(s) with everything reserved.",
        )

    @action(description="Release credit hold of selected orders", permissions=["release"])
    def release_selected(self, request, queryset):
        return bulk_with_reason(
            self,
            request,
            queryset.order_by("pk"),
            action_name="release_selected",
            title="Release orders from credit hold",
            submit_label="Release and confirm",
            service=lambda order, reason: services.release_credit_hold(order=order, actor=request.user, reason=reason),
            done="Released {count} order(s) from credit hold.",
            intro="The orders are confirmed and their stock reserved; the reason is recorded on their timeline.",
        )

    @action(description="Reject selected orders on credit hold", permissions=["order_change"])
    def reject_selected(self, request, queryset):
        return bulk_with_reason(
            self,
            request,
            queryset.order_by("pk"),
            action_name="reject_selected",
            title="Reject orders on credit hold",
            submit_label="Reject",
            service=lambda order, reason: services.reject_order(order=order, actor=request.user, reason=reason),
            done="Rejected {count} order(s).",
            intro="The orders are cancelled; the reason is recorded on their timeline.",
            danger=True,
        )

    # -- detail actions -----------------------------------------------------------------------------------

    @action(description="Confirm", permissions=["order_change"], url_path="confirm", icon="check")
    def confirm_one(self, request, object_id):
        order = self._order(request, object_id)
        if request.method == "POST":
            try:
                result = services.confirm_order(order=order, actor=request.user)
            except DomainError as error:
                messages.error(request, error.message)
            else:
                if result.status == OrderStatus.ON_CREDIT_HOLD:
                    messages.warning(request, f"{result} is on credit hold: {result.hold_reason}")
                else:
                    messages.success(request, f"{result} confirmed; stock reserved.")
            return HttpResponseRedirect(change_url(order))
        return service_form_page(
            request,
            self,
            title=f"Confirm {order}?",
            form=forms.Form(),
            obj=order,
            submit_label="Confirm",
            intro="The credit check runs first: over the limit, the order waits for finance. Then stock is reserved.",
        )

    @action(description="Cancel order", permissions=["order_change"], url_path="cancel", icon="cancel")
    def cancel_one(self, request, object_id):
        return self._form_action(
            request,
            object_id,
            form_class=OptionalReasonForm,
            title="Cancel {order}",
            submit_label="Cancel order",
            call=lambda order, form: services.cancel_order(
                order=order, actor=request.user, reason=form.cleaned_data["reason"]
            ),
            done="{order} cancelled; its reservations are released.",
            danger=True,
        )

    @action(description="Release credit hold", permissions=["release"], url_path="release", icon="play_arrow")
    def release_one(self, request, object_id):
        order = self._order(request, object_id)
        return self._form_action(
            request,
            object_id,
            form_class=ReasonForm,
            title="Release {order} from credit hold?",
            submit_label="Release and confirm",
            call=lambda order, form: services.release_credit_hold(
                order=order, actor=request.user, reason=form.cleaned_data["reason"]
            ),
            done="{order} released and confirmed.",
            intro=f"Held because: {order.hold_reason or '-'}",
        )

    @action(description="Reject", permissions=["release"], url_path="reject", icon="block")
    def reject_one(self, request, object_id):
        return self._form_action(
            request,
            object_id,
            form_class=ReasonForm,
            title="Reject {order}",
            submit_label="Reject order",
            call=lambda order, form: services.reject_order(
                order=order, actor=request.user, reason=form.cleaned_data["reason"]
            ),
            done="{order} rejected and cancelled.",
            danger=True,
        )

    @action(description="Dispatch shipment", permissions=["order_change"], url_path="dispatch", icon="local_shipping")
    def dispatch_one(self, request, object_id):
        order = self._order(request, object_id)
        lines = list(order.lines.select_related("product"))
        form = DispatchForm(request.POST if request.method == "POST" else None, lines=lines)
        if form.is_bound and form.is_valid():
            shipped = call_once(
                request,
                lambda: services.dispatch_shipment(
                    order=order,
                    actor=request.user,
                    quantities=form.quantities(),
                    carrier=form.cleaned_data["carrier"],
                    tracking_number=form.cleaned_data["tracking_number"],
                    tracking_url=form.cleaned_data["tracking_url"],
                ),
                done=f"Shipment for {order} dispatched.",
            )
            if shipped:
                return HttpResponseRedirect(change_url(order))
        return service_form_page(
            request,
            self,
            title=f"Dispatch a shipment for {order}",
            form=form,
            obj=order,
            submit_label="Dispatch",
            intro="Quantities default to what is reserved; leave a line at 0 to keep it for a later shipment.",
        )

    @action(description="Register return", permissions=["return"], url_path="return", icon="assignment_return")
    def return_one(self, request, object_id):
        order = self._order(request, object_id)
        lines = list(order.lines.select_related("product"))
        form = ReturnForm(request.POST if request.method == "POST" else None, lines=lines)
        if form.is_bound and form.is_valid():
            returned = call_once(
                request,
                lambda: services.register_return(
                    order=order, actor=request.user, reason=form.cleaned_data["reason"], lines=form.lines_returned()
                ),
                done=f"Return for {order} registered.",
            )
            if returned:
                return HttpResponseRedirect(change_url(order))
        return service_form_page(
            request,
            self,
            title=f"Register a return for {order}",
            form=form,
            obj=order,
            submit_label="Register return",
            intro="Resellable goods go back to stock; damaged goods are written off.",
        )

    def deliver_shipment(self, request, object_id, shipment_id) -> HttpResponse:
        if not self.has_order_change_permission(request):
            raise PermissionDenied
        shipment = Shipment.objects.filter(pk=shipment_id, order_id=unquote(object_id)).select_related("order").first()
        if shipment is None:
            return HttpResponseRedirect(reverse("admin:orders_order_changelist"))
        if request.method == "POST":
            call_once(
                request,
                lambda: services.mark_delivered(shipment=shipment, actor=request.user),
                done=f"{shipment} delivered.",
            )
            return HttpResponseRedirect(change_url(shipment.order))
        return service_form_page(
            request,
            self,
            title=f"Mark {shipment} delivered?",
            form=forms.Form(),
            obj=shipment.order,
            submit_label="Mark delivered",
            intro=format_html_join(
                " ", "{}", [(f"Carrier: {shipment.carrier or '-'}, tracking: {shipment.tracking_number or '-'}.",)]
            ),
        )

    def _order(self, request, object_id) -> Order:
        order = self.get_object(request, unquote(object_id))
        if order is None:
            raise PermissionDenied
        return order

    def _form_action(
        self, request, object_id, *, form_class, title, submit_label, call, done, intro="", danger=False
    ) -> HttpResponse:
        order = self._order(request, object_id)
        form = form_class(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            call_once(request, lambda: call(order, form), done=done.format(order=order))
            return HttpResponseRedirect(change_url(order))
        return service_form_page(
            request,
            self,
            title=title.format(order=order),
            form=form,
            obj=order,
            submit_label=submit_label,
            intro=intro,
            danger=danger,
        )


# --------------------------------------------------------------------------------------------------
# Return requests: the sales queue of what customers ask to send back
# --------------------------------------------------------------------------------------------------

REQUEST_COLORS = {
    ReturnRequestStatus.REQUESTED: "warning",
    ReturnRequestStatus.APPROVED: "success",
    ReturnRequestStatus.REFUSED: "danger",
}


class ReturnRequestLineInline(ReadOnlyInline):
    model = ReturnRequestLine
    fields = ["order_line", "quantity_text"]
    readonly_fields = fields
    verbose_name_plural = "items"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order_line__product")

    @display(description="Quantity")
    def quantity_text(self, line: ReturnRequestLine) -> str:
        return format_quantity(line.quantity)


@admin.register(ReturnRequest)
class ReturnRequestAdmin(DetailActionsByState, ReadOnlyModelAdmin):
    """The queue: open requests oldest first; approve (registers the return) or refuse with a reason."""

    list_display = ["number", "order", "customer", "status_badge", "reason", "requested_by", "requested_at"]
    list_filter = [("status", ChoicesDropdownFilter), "reason", ("requested_at", RangeDateFilter)]
    list_filter_submit = True
    search_fields = ["number", "order__number", "order__customer__number", "order__customer__legal_name"]
    list_select_related = ["order__customer", "requested_by"]
    ordering = ["-pk"]
    inlines = [ReturnRequestLineInline]
    fields = [
        "number",
        "order",
        "status_badge",
        "reason",
        "description",
        "photo_link",
        "requested_by",
        "requested_at",
        "decided_by",
        "decided_at",
        "refusal_reason",
        "return_order",
    ]
    readonly_fields = fields
    actions_list = ["open_queue"]
    actions_detail = ["approve_one", "refuse_one"]
    detail_action_states = {"approve_one": selectors.is_undecided, "refuse_one": selectors.is_undecided}

    def has_decide_permission(self, request, object_id=None) -> bool:
        return request.user.has_perm("orders.decide_returnrequest")

    def get_urls(self):
        photo = path(
            "<int:object_id>/photo/",
            self.admin_site.admin_view(self.photo_view),
            name="orders_returnrequest_photo",
        )
        return [photo, *super().get_urls()]

    @display(description="Customer", ordering="order__customer__number")
    def customer(self, return_request: ReturnRequest) -> str:
        return str(return_request.order.customer)

    @display(description="Status", ordering="status")
    def status_badge(self, return_request: ReturnRequest) -> str:
        return badge(return_request.get_status_display(), REQUEST_COLORS[return_request.status])

    @display(description="Photo")
    def photo_link(self, return_request: ReturnRequest) -> str:
        if not return_request.photo:
            return "-"
        url = reverse("admin:orders_returnrequest_photo", args=[return_request.pk])
        return format_html('<a class="underline" href="{}">{}</a>', url, return_request.photo_name)

    def photo_view(self, request: HttpRequest, object_id: int) -> FileResponse:
        return_request = self.get_object(request, str(object_id))
        if return_request is None or not return_request.photo:
            raise Http404("No photo.")
        return FileResponse(
            return_request.photo.open("rb"),
            filename=return_request.photo_name,
            content_type=return_request.photo_content_type,
        )

    @action(description="Open return requests", url_path="queue", icon="assignment_return")
    def open_queue(self, request):
        url = reverse("admin:orders_returnrequest_changelist")
        return HttpResponseRedirect(f"{url}?status__exact={ReturnRequestStatus.REQUESTED}&o=7")

    def _request(self, request, object_id) -> ReturnRequest:
        return_request = self.get_object(request, unquote(object_id))
        if return_request is None:
            raise PermissionDenied
        return return_request

    @action(description="Approve", permissions=["decide"], url_path="approve", icon="check")
    def approve_one(self, request, object_id):
        return_request = self._request(request, object_id)
        form = ApproveReturnForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            call_once(
                request,
                lambda: services.approve_return_request(
                    return_request=return_request, actor=request.user, condition=form.cleaned_data["condition"]
                ),
                done=f"{return_request} approved: the return is registered and the credit note follows.",
            )
            return HttpResponseRedirect(change_url(return_request))
        return service_form_page(
            request,
            self,
            title=f"Approve return request {return_request}",
            form=form,
            obj=return_request,
            submit_label="Approve and register the return",
            intro="The goods are registered as returned on the order; invoiced goods are credited.",
        )

    @action(description="Refuse", permissions=["decide"], url_path="refuse", icon="block")
    def refuse_one(self, request, object_id):
        return_request = self._request(request, object_id)
        form = ReasonForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            call_once(
                request,
                lambda: services.refuse_return_request(
                    return_request=return_request, actor=request.user, reason=form.cleaned_data["reason"]
                ),
                done=f"{return_request} refused; the customer is told why.",
            )
            return HttpResponseRedirect(change_url(return_request))
        return service_form_page(
            request,
            self,
            title=f"Refuse return request {return_request}",
            form=form,
            obj=return_request,
            submit_label="Refuse",
            intro="The customer reads the reason in the portal and in the email.",
            danger=True,
        )
