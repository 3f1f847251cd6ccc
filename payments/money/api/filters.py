from django.db.models import F, QuerySet
from django_filters import rest_framework as filters

from payments.models import Payment


class PaymentFilter(filters.FilterSet):
    received = filters.DateFromToRangeFilter(
        field_name="received_on", help_text="received_after / received_before, YYYY-MM-DD, inclusive."
    )
    unallocated = filters.BooleanFilter(
        method="filter_unallocated", help_text="true: money left to allocate (the customer's credit)."
    )

    class Meta:
        model = Payment
        fields = ["customer", "currency", "method", "source", "received", "unallocated"]

    def filter_unallocated(self, queryset: QuerySet[Payment], name: str, value: bool | None) -> QuerySet[Payment]:
        if value is None:
            return queryset
        left = {"amount__gt": F("allocated_amount") + F("refunded_amount")}
        return queryset.filter(**left) if value else queryset.exclude(**left)
