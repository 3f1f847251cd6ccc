from django.db.models import QuerySet
from django_filters import rest_framework as filters

from invoicing.models import Invoice
from invoicing.selectors import overdue_condition


class InvoiceFilter(filters.FilterSet):
    issued = filters.DateFromToRangeFilter(
        field_name="issue_date", help_text="issued_after / issued_before, YYYY-MM-DD, inclusive."
    )
    due_before = filters.DateFilter(field_name="due_date", lookup_expr="lte", help_text="Due on or before, YYYY-MM-DD.")
    overdue = filters.BooleanFilter(method="filter_overdue", help_text="true: invoices past due with money open.")
    open = filters.BooleanFilter(
        method="filter_open", help_text="true: something still open to pay (or, on a credit note, to use)."
    )

    class Meta:
        model = Invoice
        fields = ["customer", "status", "kind", "currency", "issued", "due_before", "overdue", "open"]

    def filter_overdue(self, queryset: QuerySet[Invoice], name: str, value: bool | None) -> QuerySet[Invoice]:
        if value is None:
            return queryset
        return queryset.filter(overdue_condition()) if value else queryset.exclude(overdue_condition())

    def filter_open(self, queryset: QuerySet[Invoice], name: str, value: bool | None) -> QuerySet[Invoice]:
        if value is None:
            return queryset
        return queryset.filter(open_amount__gt=0) if value else queryset.filter(open_amount=0)
