"""The admin for the catalogue and the warehouse: products, prices and taxes, stock by warehouse, the
move ledger (read-only), receipts and adjustments, and product and price import/export.

Products are written by inventory.services.create_product / update_product and stock only by
receive_stock / adjust_stock, with the signed-in user as actor; a refused call is shown as a form
error with nothing written. Warehouses, tax rates, price lists and customer prices have no service of
their own yet: their admin saves the model after its validation (the audit trail still records who).
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from import_export.admin import ImportExportModelAdmin
from import_export.formats.base_formats import CSV, XLSX
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.filters.admin import (
    AutocompleteSelectFilter,
    ChoicesDropdownFilter,
    RangeDateTimeFilter,
    RelatedDropdownFilter,
)
from unfold.contrib.import_export.forms import ExportForm, ImportForm
from unfold.decorators import action, display
from unfold.paginator import InfinitePaginator

from inventory import services
from inventory.forms import AdjustStockForm, ProductForm, ReceiveStockForm
from inventory.models import (
    CustomerPrice,
    PriceList,
    PriceListItem,
    Product,
    ReorderPoint,
    StockLevel,
    StockMove,
    TaxCategory,
    TaxRate,
    Warehouse,
    format_quantity,
)
from inventory.resources import PriceListItemResource, ProductResource
from otc.admin import AuditHistory, ServiceChangeFormMixin, ServiceRefused, badge, service_form_page
from otc.audit import acting
from otc.errors import DomainError
from otc.forms import adopt_saved_row, apply_domain_error

STOCK_LEVELS = "admin:inventory_stocklevel_changelist"


class AuditedSaveMixin(AuditHistory):
    """For models without a service yet: the admin's save is labelled with the user in the audit trail."""

    def save_model(self, request, obj, form, change):
        with acting(request.user, f"admin: {'change' if change else 'add'} {obj._meta.verbose_name}"):
            super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        with acting(request.user, f"admin: {formset.model._meta.verbose_name_plural}"):
            super().save_formset(request, form, formset, change)

    def delete_model(self, request, obj):
        with acting(request.user, f"admin: delete {obj._meta.verbose_name}"):
            super().delete_model(request, obj)


# --------------------------------------------------------------------------------------------------
# Products
# --------------------------------------------------------------------------------------------------


@admin.register(Product)
class ProductAdmin(AuditHistory, ServiceChangeFormMixin, ModelAdmin, ImportExportModelAdmin):
    form = ProductForm
    resource_classes = [ProductResource]
    import_form_class = ImportForm
    export_form_class = ExportForm
    import_formats = [CSV, XLSX]
    export_formats = [CSV, XLSX]
    import_error_display = ("message",)

    list_display = ["sku", "name", "kind", "unit", "tax_category", "active_badge"]
    list_display_links = ["sku", "name"]
    list_filter = [
        ("kind", ChoicesDropdownFilter),
        ("unit", ChoicesDropdownFilter),
        ("tax_category", RelatedDropdownFilter),
        "is_active",
    ]
    list_filter_submit = True
    search_fields = ["sku", "name", "gtin"]
    list_select_related = ["tax_category"]
    show_full_result_count = False
    paginator = InfinitePaginator
    ordering = ["sku"]
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        ("Product", {"fields": ["sku", "name", "description", "gtin"]}),
        ("Handling", {"fields": ["kind", "unit", "tax_category", "is_active"]}),
        ("Record", {"fields": ["created_at", "updated_at"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), *(["sku"] if obj is not None else [])]

    def get_fieldsets(self, request, obj=None):
        return self.fieldsets if obj is not None else self.fieldsets[:2]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # products are deactivated, never deleted (orders and moves refer to them)

    def has_import_permission(self, request) -> bool:
        return request.user.has_perm("inventory.add_product")

    def has_export_permission(self, request) -> bool:
        return request.user.has_perm("inventory.view_product")

    @display(description="Active", ordering="is_active")
    def active_badge(self, product: Product) -> str:
        return badge("Active", "success") if product.is_active else badge("Inactive", "danger")

    def save_model(self, request, obj: Product, form, change: bool) -> None:
        data = {name: form.cleaned_data[name] for name in services.PRODUCT_FIELDS if name in form.cleaned_data}
        try:
            if change:
                changed = {name: value for name, value in data.items() if name in form.changed_data}
                saved = services.update_product(product=obj, actor=request.user, data=changed)
            else:
                saved = services.create_product(actor=request.user, sku=form.cleaned_data["sku"], **data)
        except DomainError as error:
            raise ServiceRefused(error) from error
        adopt_saved_row(obj, saved)


# --------------------------------------------------------------------------------------------------
# Warehouses and taxes
# --------------------------------------------------------------------------------------------------


@admin.register(Warehouse)
class WarehouseAdmin(AuditedSaveMixin, ModelAdmin):
    list_display = ["code", "name", "country", "is_active", "is_default"]
    list_filter = ["is_active"]
    search_fields = ["code", "name"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # stock and orders refer to warehouses; deactivate instead


class TaxRateInline(TabularInline):
    model = TaxRate
    fields = ["country", "rate", "valid_from", "valid_to"]
    extra = 0
    tab = True


@admin.register(TaxCategory)
class TaxCategoryAdmin(AuditedSaveMixin, ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]
    inlines = [TaxRateInline]


@admin.register(TaxRate)
class TaxRateAdmin(AuditedSaveMixin, ModelAdmin):
    list_display = ["category", "country", "rate", "valid_from", "valid_to"]
    list_filter = [("category", RelatedDropdownFilter), ("country", ChoicesDropdownFilter)]
    list_filter_submit = True
    list_select_related = ["category"]
    search_fields = ["category__code", "category__name", "country"]


# --------------------------------------------------------------------------------------------------
# Prices
# --------------------------------------------------------------------------------------------------


class PriceListItemInline(TabularInline):
    model = PriceListItem
    fields = ["product", "min_quantity", "unit_price"]
    autocomplete_fields = ["product"]
    extra = 0
    tab = True
    verbose_name_plural = "prices and quantity breaks"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")


@admin.register(PriceList)
class PriceListAdmin(AuditedSaveMixin, ModelAdmin):
    list_display = ["name", "currency", "customer_group", "valid_from", "valid_to", "is_active"]
    list_filter = [("currency", ChoicesDropdownFilter), "is_active", ("customer_group", RelatedDropdownFilter)]
    list_filter_submit = True
    list_select_related = ["customer_group"]
    search_fields = ["name"]
    inlines = [PriceListItemInline]


@admin.register(PriceListItem)
class PriceListItemAdmin(AuditedSaveMixin, ModelAdmin, ImportExportModelAdmin):
    """Every price of every list in one place, for import and export (and a quick look-up)."""

    resource_classes = [PriceListItemResource]
    import_form_class = ImportForm
    export_form_class = ExportForm
    import_formats = [CSV, XLSX]
    export_formats = [CSV, XLSX]
    import_error_display = ("message",)

    list_display = ["product", "price_list", "min_quantity_display", "unit_price_display"]
    list_filter = [("price_list", RelatedDropdownFilter)]
    list_filter_submit = True
    list_select_related = ["product", "price_list"]
    search_fields = ["product__sku", "product__name", "price_list__name"]
    autocomplete_fields = ["product"]
    show_full_result_count = False
    ordering = ["price_list", "product__sku", "min_quantity"]

    def has_import_permission(self, request) -> bool:
        return request.user.has_perm("inventory.add_pricelistitem")

    def has_export_permission(self, request) -> bool:
        return request.user.has_perm("inventory.view_pricelistitem")

    @display(description="From quantity", ordering="min_quantity")
    def min_quantity_display(self, item: PriceListItem) -> str:
        return format_quantity(item.min_quantity)

    @display(description="Unit price", ordering="unit_price")
    def unit_price_display(self, item: PriceListItem) -> str:
        return f"{item.unit_price} {item.price_list.currency}"


@admin.register(CustomerPrice)
class CustomerPriceAdmin(AuditedSaveMixin, ModelAdmin):
    list_display = ["customer", "product", "currency", "min_quantity", "unit_price", "discount_percent", "valid_from"]
    list_filter = [("customer", AutocompleteSelectFilter), ("currency", ChoicesDropdownFilter)]
    list_filter_submit = True
    list_select_related = ["customer", "product"]
    search_fields = ["customer__number", "customer__legal_name", "product__sku", "product__name"]
    autocomplete_fields = ["customer", "product"]
    show_full_result_count = False


# --------------------------------------------------------------------------------------------------
# Stock: levels by warehouse (read-only, changed by receipts and adjustments), the ledger, reorder points
# --------------------------------------------------------------------------------------------------


def _quantity_cell(value) -> str:
    return format_quantity(value) if value is not None else "-"


@admin.register(StockLevel)
class StockLevelAdmin(ModelAdmin):
    list_display = ["product", "warehouse", "on_hand_display", "reserved_display", "available_display"]
    list_filter = [("warehouse", RelatedDropdownFilter), ("product__kind", ChoicesDropdownFilter)]
    list_filter_submit = True
    list_select_related = ["product", "warehouse"]
    search_fields = ["product__sku", "product__name"]
    show_full_result_count = False
    paginator = InfinitePaginator
    ordering = ["product__sku", "warehouse__code"]
    fields = ["product", "warehouse", "on_hand_display", "reserved_display", "available_display", "updated_at"]
    readonly_fields = fields
    actions_list = ["receive", "adjust"]
    actions_detail = ["moves_of_this_level"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(available_quantity=F("on_hand") - F("reserved"))

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_stock_move_permission(self, request, object_id=None) -> bool:
        return request.user.has_perm("inventory.add_stockmove")

    def has_ledger_permission(self, request, object_id=None) -> bool:
        return request.user.has_perm("inventory.view_stockmove")

    @display(description="On hand", ordering="on_hand")
    def on_hand_display(self, level: StockLevel) -> str:
        return _quantity_cell(level.on_hand)

    @display(description="Reserved", ordering="reserved")
    def reserved_display(self, level: StockLevel) -> str:
        return _quantity_cell(level.reserved)

    @display(description="Available", ordering="available_quantity")
    def available_display(self, level: StockLevel) -> str:
        available = getattr(level, "available_quantity", level.available)
        return badge(_quantity_cell(available), "danger" if available <= 0 else "success")

    @action(description="Receive stock", permissions=["stock_move"], url_path="receive", icon="move_to_inbox")
    def receive(self, request):
        form = ReceiveStockForm(request.POST or None, initial=self._initial(request))
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            try:
                level = services.receive_stock(
                    product=data["product"],
                    warehouse=data["warehouse"],
                    quantity=data["quantity"],
                    reference=data["reference"],
                    reason=data["reason"],
                    actor=request.user,
                )
            except DomainError as error:
                apply_domain_error(form, error)
            else:
                messages.success(
                    request,
                    f"Received {format_quantity(data['quantity'])} of {data['product'].sku} into "
                    f"{data['warehouse'].code}: {format_quantity(level.on_hand)} on hand.",
                )
                return HttpResponseRedirect(reverse(STOCK_LEVELS))
        return service_form_page(
            request, self, title="Receive stock", form=form, submit_label="Receive", cancel_url=reverse(STOCK_LEVELS)
        )

    @action(description="Adjust stock", permissions=["stock_move"], url_path="adjust", icon="tune")
    def adjust(self, request):
        form = AdjustStockForm(request.POST or None, initial=self._initial(request))
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            try:
                level = services.adjust_stock(
                    product=data["product"],
                    warehouse=data["warehouse"],
                    quantity_delta=data["quantity_delta"],
                    reason=data["reason"],
                    actor=request.user,
                )
            except DomainError as error:
                apply_domain_error(form, error)
            else:
                messages.success(
                    request,
                    f"Adjusted {data['product'].sku} in {data['warehouse'].code} by "
                    f"{format_quantity(data['quantity_delta'])}: {format_quantity(level.on_hand)} on hand.",
                )
                return HttpResponseRedirect(reverse(STOCK_LEVELS))
        return service_form_page(
            request,
            self,
            title="Adjust stock",
            form=form,
            submit_label="Adjust",
            intro="Count corrections, breakage, shrinkage. Stock reserved for orders cannot be taken away.",
            cancel_url=reverse(STOCK_LEVELS),
        )

    @action(description="Moves", permissions=["ledger"], url_path="moves", icon="receipt_long")
    def moves_of_this_level(self, request, object_id):
        level = self.get_object(request, object_id)
        if level is None:
            raise PermissionDenied
        url = reverse("admin:inventory_stockmove_changelist")
        return HttpResponseRedirect(
            f"{url}?product__id__exact={level.product_id}&warehouse__id__exact={level.warehouse_id}"
        )

    @staticmethod
    def _initial(request) -> dict:
        return {name: request.GET[name] for name in ("product", "warehouse") if request.GET.get(name)}


@admin.register(StockMove)
class StockMoveAdmin(ModelAdmin):
    """The append-only ledger: nothing here can be added, changed or deleted (a trigger refuses it too)."""

    list_display = [
        "created_at",
        "kind_badge",
        "product",
        "warehouse",
        "on_hand_change",
        "reserved_change",
        "reference",
        "reason",
        "actor",
    ]
    list_filter = [
        ("kind", ChoicesDropdownFilter),
        ("warehouse", RelatedDropdownFilter),
        ("created_at", RangeDateTimeFilter),
    ]
    list_filter_submit = True
    list_select_related = ["product", "warehouse", "actor"]
    search_fields = ["product__sku", "reference", "reason"]
    show_full_result_count = False
    paginator = InfinitePaginator
    ordering = ["-created_at", "-pk"]
    fields = [
        "created_at",
        "kind",
        "product",
        "warehouse",
        "on_hand_delta",
        "reserved_delta",
        "reference",
        "reason",
        "actor",
    ]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @display(description="Kind", ordering="kind")
    def kind_badge(self, move: StockMove) -> str:
        variant = {"receipt": "success", "return": "success", "shipment": "info", "adjustment": "warning"}
        return badge(move.get_kind_display(), variant.get(move.kind, ""))

    @display(description="On hand ±", ordering="on_hand_delta")
    def on_hand_change(self, move: StockMove) -> str:
        return _signed(move.on_hand_delta)

    @display(description="Reserved ±", ordering="reserved_delta")
    def reserved_change(self, move: StockMove) -> str:
        return _signed(move.reserved_delta)


def _signed(value) -> str:
    if not value:
        return ""
    text = format_quantity(value)
    return format_html("{}{}", "+" if value > 0 else "", text)


@admin.register(ReorderPoint)
class ReorderPointAdmin(AuditedSaveMixin, ModelAdmin):
    list_display = ["product", "warehouse", "minimum", "reorder_quantity"]
    list_filter = [("warehouse", RelatedDropdownFilter)]
    list_filter_submit = True
    list_select_related = ["product", "warehouse"]
    search_fields = ["product__sku", "product__name"]
    autocomplete_fields = ["product"]
