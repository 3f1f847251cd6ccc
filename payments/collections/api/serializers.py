"""Serializers of the collections API: promises to pay. Input serializers check the shape; the
collections services check the rules."""

from decimal import Decimal

from rest_framework import serializers

from invoicing.models import Invoice
from orders.api.serializers import CustomerRefSerializer
from otc.api.serializers import AmountField, StrictSerializer
from payments.models import PromiseStatus, PromiseToPay
from payments.money.api.serializers import customer_field, invoices_by_number, money_input


class PromiseCreateSerializer(StrictSerializer):
    customer = customer_field()
    invoices = serializers.ListField(
        child=serializers.CharField(max_length=20),
        allow_empty=False,
        help_text="Numbers of the customer's open invoices, all in one currency.",
    )
    promised_date = serializers.DateField(help_text="Today or later; dunning leaves the invoices alone until then.")
    amount = money_input(min_value=Decimal("0.01"), help_text="At most the invoices' open total.")
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")

    def validate_invoices(self, numbers: list[str]) -> list[Invoice]:
        return invoices_by_number(numbers)


class PromiseToPaySerializer(serializers.ModelSerializer):
    customer = CustomerRefSerializer(read_only=True)
    invoices = serializers.SlugRelatedField(slug_field="number", many=True, read_only=True)
    amount = AmountField(currency_field="currency")
    status = serializers.ChoiceField(choices=PromiseStatus.choices, read_only=True)

    class Meta:
        model = PromiseToPay
        fields = [
            "id",
            "customer",
            "invoices",
            "promised_date",
            "currency",
            "amount",
            "status",
            "note",
            "created_at",
            "resolved_on",
        ]
        read_only_fields = fields
