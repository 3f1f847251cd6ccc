from django_filters import rest_framework as filters

from orders.models import Order


class OrderFilter(filters.FilterSet):
    order_date = filters.DateFromToRangeFilter(help_text="order_date_after / order_date_before, YYYY-MM-DD, inclusive.")

    class Meta:
        model = Order
        fields = ["status", "customer", "po_number", "order_date"]
