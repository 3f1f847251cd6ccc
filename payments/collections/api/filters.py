from django_filters import rest_framework as filters

from payments.models import PromiseToPay


class PromiseToPayFilter(filters.FilterSet):
    class Meta:
        model = PromiseToPay
        fields = ["customer", "status"]
