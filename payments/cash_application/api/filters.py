from django_filters import rest_framework as filters

from payments.models import BankStatementLine


class BankStatementLineFilter(filters.FilterSet):
    class Meta:
        model = BankStatementLine
        fields = ["statement", "status"]
