from django_filters import rest_framework as filters

from customers.models import ChangeRequest, Customer


class CustomerFilter(filters.FilterSet):
    class Meta:
        model = Customer
        fields = ["status", "country", "sales_rep", "default_currency", "group"]


class ChangeRequestFilter(filters.FilterSet):
    class Meta:
        model = ChangeRequest
        fields = ["status", "kind", "customer"]
