from django_filters import rest_framework as filters

from payments.models import BankStatement, BankStatementLine, StatementFormat


class BankStatementLineFilter(filters.FilterSet):
    class Meta:
        model = BankStatementLine
        fields = ["statement", "status"]


class BankStatementFilter(filters.FilterSet):
    """`file_format`, not `format`: the API reads `?format=` as the wanted response type (`?format=pdf`),
    so a filter of that name answered 404 for every statement format."""

    file_format = filters.ChoiceFilter(field_name="format", choices=StatementFormat.choices)

    class Meta:
        model = BankStatement
        fields = ["account_iban", "file_format"]
