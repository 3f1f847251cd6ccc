"""Input serializers check the shape of a request (unknown fields are errors); output serializers render.
Amounts, tolerances and what may be allocated are payments.money.services' to check."""

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from customers.models import Customer
from invoicing.api.serializers import DocumentAmountField
from invoicing.models import DocumentKind, Invoice
from orders.api.serializers import CustomerRefSerializer
from otc.api.serializers import AmountField, StrictSerializer, currency_field, unique_lines
from payments.models import Allocation, Payment, PaymentMethod, PaymentSource
from payments.money import selectors

ZERO = Decimal("0")


def money_input(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=19, decimal_places=4, **kwargs)


def customer_field(**kwargs) -> serializers.PrimaryKeyRelatedField:
    return serializers.PrimaryKeyRelatedField(
        queryset=Customer.objects.all(),
        error_messages={
            "does_not_exist": "No customer with id {pk_value}.",
            "incorrect_type": "Expected the customer's id (a number), got {data_type}.",
        },
        help_text="The customer's id.",
        **kwargs,
    )


def invoices_by_number(numbers: list[str]) -> list[Invoice]:
    """Invoices named by their numbers, in one query; an unknown or repeated number is a 422 naming it."""
    found = Invoice.objects.filter(kind=DocumentKind.INVOICE).in_bulk(numbers, field_name="number")
    errors = {}
    for index, number in enumerate(numbers):
        if number not in found:
            errors[index] = [f"No invoice {number}."]
        elif number in numbers[:index]:
            errors[index] = [f"Invoice {number} is given twice."]
    if errors:
        raise serializers.ValidationError(errors)
    return [found[number] for number in numbers]


# Input


class PaymentCreateSerializer(StrictSerializer):
    customer = serializers.PrimaryKeyRelatedField(
        queryset=Customer.objects.all(),
        error_messages={
            "does_not_exist": "No customer with id {pk_value}.",
            "incorrect_type": "Expected the customer's id (a number), got {data_type}.",
        },
        help_text="The customer's id.",
    )
    amount = money_input(min_value=Decimal("0.01"), help_text="What the customer paid, before any bank fee.")
    currency = currency_field()
    method = serializers.ChoiceField(choices=PaymentMethod.choices)
    received_on = serializers.DateField(required=False, default=None, help_text="Default: today.")
    bank_fee = money_input(min_value=ZERO, required=False, default=ZERO, help_text="Deducted by the banks.")
    external_id = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text="Your id of the payment; a second payment with it is a 409 `duplicate_payment`.",
    )
    reference = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    payer_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class ApplicationInputSerializer(StrictSerializer):
    invoice = serializers.CharField(max_length=20, help_text="The invoice's number, as printed on it.")
    amount = money_input(min_value=ZERO, help_text="Applied to the invoice, in the payment's currency.")
    write_off = serializers.BooleanField(
        required=False, default=False, help_text="Write off the short rest of the invoice, within tolerance."
    )


class AllocationCreateSerializer(StrictSerializer):
    applications = ApplicationInputSerializer(many=True, allow_empty=False)

    def validate_applications(self, applications: list[dict]) -> list[dict]:
        """Turn invoice numbers into invoices in one query; an unknown number is a 422 naming it."""
        applications = unique_lines(applications, key="invoice")
        invoices = Invoice.objects.in_bulk([item["invoice"] for item in applications], field_name="number")
        errors = {
            index: {"invoice": [f"No invoice {item['invoice']}."]}
            for index, item in enumerate(applications)
            if item["invoice"] not in invoices
        }
        if errors:
            raise serializers.ValidationError(errors)
        return [{**item, "invoice": invoices[item["invoice"]]} for item in applications]


class ReverseSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=300, help_text="Why it is undone; kept in the audit trail.")


class ProviderEventSerializer(StrictSerializer):
    """A payment provider's `payment.succeeded` notification."""

    event_id = serializers.CharField(max_length=80, help_text="The provider's event id; a repeat books nothing.")
    type = serializers.ChoiceField(choices=[("payment.succeeded", "payment.succeeded")])
    customer = serializers.CharField(max_length=20, help_text="The customer's number.")
    amount = money_input(min_value=Decimal("0.01"))
    currency = currency_field()
    method = serializers.ChoiceField(choices=PaymentMethod.choices, help_text="card or direct_debit.")
    reference = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    received_on = serializers.DateField(required=False, default=None)

    def validate_method(self, method: str) -> str:
        if method not in (PaymentMethod.CARD, PaymentMethod.DIRECT_DEBIT):
            raise serializers.ValidationError("A provider's payment is by card or direct debit.")
        return method

    def validate_customer(self, number: str) -> Customer:
        customer = Customer.objects.filter(number=number).first()
        if customer is None:
            raise serializers.ValidationError(f"No customer {number}.")
        return customer


# Output


class AllocationSerializer(serializers.ModelSerializer):
    """Part of a payment applied to an invoice (and the rest written off); undone ones show when and why."""

    payment = serializers.SlugRelatedField(slug_field="number", read_only=True)
    invoice = serializers.SlugRelatedField(slug_field="number", read_only=True)
    amount = DocumentAmountField()
    write_off_amount = DocumentAmountField()

    class Meta:
        model = Allocation
        fields = [
            "id",
            "payment",
            "invoice",
            "amount",
            "write_off_amount",
            "created_at",
            "reversed_at",
            "reversal_reason",
        ]
        read_only_fields = fields


class PaymentSerializer(serializers.ModelSerializer):
    customer = CustomerRefSerializer(read_only=True)
    method = serializers.ChoiceField(choices=PaymentMethod.choices, read_only=True)
    source = serializers.ChoiceField(choices=PaymentSource.choices, read_only=True)
    amount = AmountField(currency_field="currency")
    bank_fee = AmountField(currency_field="currency")
    allocated_amount = AmountField(currency_field="currency")
    refunded_amount = AmountField(currency_field="currency")
    unallocated_amount = AmountField(currency_field="currency", help_text="The customer's credit from this payment.")

    class Meta:
        model = Payment
        fields = [
            "id",
            "number",
            "customer",
            "currency",
            "amount",
            "bank_fee",
            "allocated_amount",
            "refunded_amount",
            "unallocated_amount",
            "received_on",
            "method",
            "source",
            "external_id",
            "reference",
            "payer_name",
            "created_at",
        ]
        read_only_fields = fields


class PaymentDetailSerializer(PaymentSerializer):
    allocations = serializers.SerializerMethodField(help_text="The live allocations (undone ones are left out).")

    class Meta(PaymentSerializer.Meta):
        fields = [*PaymentSerializer.Meta.fields, "allocations"]
        read_only_fields = fields

    @extend_schema_field(AllocationSerializer(many=True))
    def get_allocations(self, payment: Payment) -> list[dict]:
        allocations = selectors.live_allocations(payment=payment).select_related("payment")
        return AllocationSerializer(allocations, many=True).data


class CurrencyBalanceSerializer(serializers.Serializer):
    currency = serializers.CharField(read_only=True)
    open_receivables = AmountField(currency_field="currency", help_text="Open invoices less unused credit notes.")
    unapplied_payments = AmountField(currency_field="currency", help_text="Payments not yet allocated: credit.")
    balance = AmountField(currency_field="currency", help_text="Receivables less unapplied payments.")


class CustomerBalanceSerializer(serializers.Serializer):
    customer = CustomerRefSerializer(read_only=True)
    currencies = CurrencyBalanceSerializer(many=True, read_only=True, help_text="One per currency, by code.")
