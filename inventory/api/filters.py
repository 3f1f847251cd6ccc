from django_filters import rest_framework as filters

from inventory.models import Product, StockLevel


class CharInFilter(filters.BaseInFilter, filters.CharFilter):
    """Comma-separated values: ?product=A-1,B-2."""


class ProductFilter(filters.FilterSet):
    tax_category = filters.CharFilter(field_name="tax_category__code", help_text="Tax category code.")

    class Meta:
        model = Product
        fields = ["kind", "is_active", "tax_category"]


class AvailabilityFilter(filters.FilterSet):
    product = CharInFilter(field_name="product__sku", help_text="One or more SKUs, comma-separated.")
    warehouse = filters.CharFilter(field_name="warehouse__code", help_text="Warehouse code.")

    class Meta:
        model = StockLevel
        fields = ["product", "warehouse"]
