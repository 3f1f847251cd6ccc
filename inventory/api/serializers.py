"""Input serializers parse and check the shape of a request (unknown fields are errors); output
serializers render. Stock and pricing rules live in inventory.services and inventory.selectors."""

from decimal import Decimal

from rest_framework import serializers

from customers.api.serializers import country_field
from customers.models import Customer
from inventory.models import Product, QuantityField, StockLevel, TaxCategoryCode, Warehouse
from otc.api.serializers import StrictSerializer, currency_field

QUANTITY_MAX_DIGITS = QuantityField().max_digits
QUANTITY_DECIMAL_PLACES = QuantityField().decimal_places


def quantity_field(*, positive: bool = True, **kwargs) -> serializers.DecimalField:
    """A quantity in the product's unit as a decimal string, up to 3 decimals; more than zero unless told."""
    validators = [_more_than_zero] if positive else [_not_zero]
    return serializers.DecimalField(
        max_digits=QUANTITY_MAX_DIGITS,
        decimal_places=QUANTITY_DECIMAL_PLACES,
        validators=validators,
        **kwargs,
    )


def _more_than_zero(value: Decimal) -> None:
    if value <= 0:
        raise serializers.ValidationError("Must be more than zero.")


def _not_zero(value: Decimal) -> None:
    if value == 0:
        raise serializers.ValidationError("Must not be 0.")


def product_field(**kwargs) -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(
        slug_field="sku",
        queryset=Product.objects.select_related("tax_category"),
        error_messages={"does_not_exist": "No product with SKU {value}."},
        help_text="The product's SKU.",
        **kwargs,
    )


def warehouse_field(**kwargs) -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(
        slug_field="code",
        queryset=Warehouse.objects.all(),
        error_messages={"does_not_exist": "No warehouse with code {value}."},
        help_text="The warehouse's code.",
        **kwargs,
    )


# Input


class PriceQuoteQuerySerializer(StrictSerializer):
    """The question "what does this customer pay for this quantity of this product on this date"."""

    customer = serializers.PrimaryKeyRelatedField(
        queryset=Customer.objects.select_related("group"),
        error_messages={
            "does_not_exist": "No customer with id {pk_value}.",
            "incorrect_type": "Expected the customer's id (a number), got {data_type}.",
        },
        help_text="The customer's id.",
    )
    product = product_field()
    quantity = quantity_field(required=False, default=Decimal("1"), help_text="Default 1.")
    date = serializers.DateField(required=False, help_text="YYYY-MM-DD; default today.")
    currency = currency_field(required=False, help_text="Default: the customer's currency.")
    country = country_field(
        required=False, help_text="Destination for the tax; default: the customer's default shipping address."
    )


class StockReceiptSerializer(StrictSerializer):
    product = product_field()
    warehouse = warehouse_field()
    quantity = quantity_field()
    reference = serializers.CharField(
        max_length=60, required=False, allow_blank=True, default="", help_text="e.g. the delivery note number."
    )
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class StockAdjustmentSerializer(StrictSerializer):
    product = product_field()
    warehouse = warehouse_field()
    quantity_delta = quantity_field(positive=False, help_text="Positive adds stock, negative removes it.")
    reason = serializers.CharField(max_length=300, help_text="Count correction, breakage, shrinkage, ...")


# Output


class ProductSerializer(serializers.ModelSerializer):
    tax_category = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Product
        fields = [
            "id",
            "sku",
            "name",
            "description",
            "unit",
            "kind",
            "tax_category",
            "gtin",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class StockLevelSerializer(serializers.ModelSerializer):
    """On hand, reserved for orders, and available (on hand minus reserved) at one warehouse."""

    product = serializers.SlugRelatedField(slug_field="sku", read_only=True)
    warehouse = serializers.SlugRelatedField(slug_field="code", read_only=True)
    available = serializers.DecimalField(
        max_digits=QUANTITY_MAX_DIGITS, decimal_places=QUANTITY_DECIMAL_PLACES, read_only=True
    )

    class Meta:
        model = StockLevel
        fields = ["product", "warehouse", "on_hand", "reserved", "available", "updated_at"]
        read_only_fields = fields


class StockChangeSerializer(StockLevelSerializer):
    """The level right after a receipt or adjustment."""

    class Meta(StockLevelSerializer.Meta):
        fields = ["product", "warehouse", "on_hand", "reserved", "available"]
        read_only_fields = fields


class TaxQuoteSerializer(serializers.Serializer):
    country = serializers.CharField(read_only=True, help_text="The destination the rate applies to.")
    rate = serializers.DecimalField(max_digits=5, decimal_places=2, read_only=True, help_text="Percent.")
    category = serializers.ChoiceField(
        choices=TaxCategoryCode.choices, read_only=True, help_text="UNCL 5305 VAT category code."
    )
    reverse_charge = serializers.BooleanField(read_only=True)
    note = serializers.CharField(read_only=True)


class PriceQuoteSerializer(serializers.Serializer):
    customer = serializers.IntegerField(read_only=True)
    product = serializers.CharField(read_only=True, help_text="SKU")
    quantity = serializers.DecimalField(
        max_digits=QUANTITY_MAX_DIGITS, decimal_places=QUANTITY_DECIMAL_PLACES, read_only=True
    )
    date = serializers.DateField(read_only=True)
    currency = serializers.CharField(read_only=True)
    unit_price = serializers.DecimalField(max_digits=19, decimal_places=4, read_only=True)
    discount_percent = serializers.DecimalField(max_digits=5, decimal_places=2, read_only=True)
    rule = serializers.CharField(read_only=True, help_text="The pricing rule that produced the price.")
    tax = TaxQuoteSerializer(read_only=True)
