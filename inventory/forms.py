"""Admin forms for products and stock. They collect input for inventory.services, which validate it
again and write; a form never saves stock itself."""

from django import forms
from unfold.widgets import (
    UnfoldAdminDecimalFieldWidget,
    UnfoldAdminSelectWidget,
    UnfoldAdminTextareaWidget,
    UnfoldAdminTextInputWidget,
)

from inventory.models import Product, ProductKind, Warehouse
from inventory.services import PRODUCT_FIELDS


class ProductForm(forms.ModelForm):
    """A product's master data; create_product / update_product do the saving (the SKU only on create)."""

    class Meta:
        model = Product
        fields = ["sku", *PRODUCT_FIELDS]


def _stocked_products():
    return Product.objects.filter(kind=ProductKind.STOCKED, is_active=True).order_by("sku")


def _warehouses():
    return Warehouse.objects.filter(is_active=True).order_by("code")


class _StockForm(forms.Form):
    product = forms.ModelChoiceField(queryset=Product.objects.none(), widget=UnfoldAdminSelectWidget)
    warehouse = forms.ModelChoiceField(queryset=Warehouse.objects.none(), widget=UnfoldAdminSelectWidget)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = _stocked_products()
        self.fields["warehouse"].queryset = _warehouses()


class ReceiveStockForm(_StockForm):
    quantity = forms.DecimalField(
        min_value=0, max_digits=14, decimal_places=3, widget=UnfoldAdminDecimalFieldWidget, help_text="More than 0."
    )
    reference = forms.CharField(
        max_length=60, required=False, widget=UnfoldAdminTextInputWidget, help_text="E.g. the supplier's delivery note."
    )
    reason = forms.CharField(max_length=300, required=False, widget=UnfoldAdminTextInputWidget)


class AdjustStockForm(_StockForm):
    quantity_delta = forms.DecimalField(
        label="Change",
        max_digits=14,
        decimal_places=3,
        widget=UnfoldAdminDecimalFieldWidget,
        help_text="Positive adds (found in a count), negative removes (breakage, shrinkage).",
    )
    reason = forms.CharField(max_length=300, widget=UnfoldAdminTextareaWidget(attrs={"rows": 3}))
