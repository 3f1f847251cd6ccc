"""Input serializers parse and check the shape of a request (unknown fields are errors); output
serializers render. Order rules (pricing, credit, stock, transitions) live in orders.services."""

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from customers.models import Address, Customer
from inventory.api.serializers import (
    QUANTITY_DECIMAL_PLACES,
    QUANTITY_MAX_DIGITS,
    quantity_field,
    warehouse_field,
)
from inventory.models import Product
from orders.models import (
    Order,
    OrderLine,
    OrderStatus,
    OrderTimelineEntry,
    ReturnCondition,
    ReturnLine,
    ReturnOrder,
    ReturnRequest,
    ReturnRequestLine,
    ReturnRequestReason,
    Shipment,
    ShipmentLine,
)
from otc.api.serializers import AmountField, StrictSerializer, currency_field, unique_lines
from otc.money import quantize

ZERO = Decimal("0")


def percent_field(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=ZERO, max_value=Decimal("100"), required=False, **kwargs
    )


# Input


class OrderLineInputSerializer(StrictSerializer):
    product = serializers.CharField(max_length=40, help_text="The product's SKU.")
    quantity = quantity_field()
    discount_percent = percent_field(
        default=None, allow_null=True, help_text="Manual line discount (0 overrides); omitted: the customer's."
    )


def with_products(lines: list[dict]) -> list[dict]:
    """Turn the lines' SKUs into products in one query; an unknown SKU is an error at its line."""
    products = Product.objects.select_related("tax_category").in_bulk(
        {line["product"] for line in lines}, field_name="sku"
    )
    errors = {
        index: {"product": [f"No product with SKU {line['product']}."]}
        for index, line in enumerate(lines)
        if line["product"] not in products
    }
    if errors:
        raise serializers.ValidationError(errors)
    return [{**line, "product": products[line["product"]]} for line in lines]


class OrderCreateSerializer(StrictSerializer):
    """A new order; it is priced, taxed and (unless `confirm` is false) credit-checked and reserved."""

    customer = serializers.PrimaryKeyRelatedField(
        queryset=Customer.objects.all(),
        error_messages={
            "does_not_exist": "No customer with id {pk_value}.",
            "incorrect_type": "Expected the customer's id (a number), got {data_type}.",
        },
        help_text="The customer's id.",
    )
    currency = currency_field(required=False, help_text="Default: the customer's currency.")
    po_number = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    requested_delivery_date = serializers.DateField(required=False, allow_null=True, default=None)
    warehouse = warehouse_field(required=False)
    shipping_address = serializers.PrimaryKeyRelatedField(
        queryset=Address.objects.all(), required=False, help_text="Id of one of the customer's addresses."
    )
    billing_address = serializers.PrimaryKeyRelatedField(
        queryset=Address.objects.all(), required=False, help_text="Id of one of the customer's addresses."
    )
    discount_percent = percent_field(default=ZERO, help_text="Order discount, on top of line discounts.")
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    lines = OrderLineInputSerializer(many=True, allow_empty=False)
    confirm = serializers.BooleanField(
        required=False, default=True, help_text="Confirm at once (credit check, stock reservation); default true."
    )

    def validate_lines(self, lines: list[dict]) -> list[dict]:
        return with_products(lines)

    def validate(self, data: dict) -> dict:
        errors = {
            name: ["This address belongs to another customer."]
            for name in ("shipping_address", "billing_address")
            if name in data and data[name].customer_id != data["customer"].pk
        }
        if errors:
            raise serializers.ValidationError(errors)
        return data


class DraftLineInputSerializer(OrderLineInputSerializer):
    line_no = serializers.IntegerField(
        min_value=1,
        required=False,
        allow_null=True,
        default=None,
        help_text="The line this replaces; omitted: a new line.",
    )
    unit_price = serializers.DecimalField(
        max_digits=19,
        decimal_places=4,
        min_value=ZERO,
        required=False,
        allow_null=True,
        default=None,
        help_text="A price set by hand (at most the currency's decimals). A new or changed one needs the "
        "orders.override_price permission and `override_reason`; omitted: the price the pricing rules give.",
    )
    override_reason = serializers.CharField(
        max_length=150, required=False, allow_blank=True, default="", help_text="Why the price is set by hand."
    )


class OrderUpdateSerializer(StrictSerializer):
    """Changes to a draft; fields left out stay as they are."""

    lines = DraftLineInputSerializer(
        many=True,
        required=False,
        allow_empty=False,
        help_text="All the lines the draft is to have: a line with `line_no` replaces that line, one without is "
        "added, and a line not given is removed. Every line is priced and taxed again.",
    )
    discount_percent = percent_field(help_text="Order discount, on top of line discounts.")
    po_number = serializers.CharField(max_length=60, required=False, allow_blank=True)
    notes = serializers.CharField(required=False, allow_blank=True)
    reason = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="", help_text="Why; kept in the audit trail."
    )

    def validate_lines(self, lines: list[dict]) -> list[dict]:
        return with_products(lines)


class CancelSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class RejectSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=300, help_text="Why credit control refuses the order.")


class ReleaseSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=300, help_text="Why credit control lets the order through.")


class ShipmentLineInputSerializer(StrictSerializer):
    line_no = serializers.IntegerField(min_value=1, help_text="The order line's number.")
    quantity = quantity_field()


class ShipmentCreateSerializer(StrictSerializer):
    lines = ShipmentLineInputSerializer(
        many=True, required=False, allow_empty=False, help_text="Default: everything reserved (and open services)."
    )
    carrier = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    tracking_number = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")
    tracking_url = serializers.URLField(max_length=200, required=False, allow_blank=True, default="")

    def validate_lines(self, lines: list[dict]) -> list[dict]:
        return unique_lines(lines, key="line_no")


class ReturnLineInputSerializer(StrictSerializer):
    line_no = serializers.IntegerField(min_value=1, help_text="The order line's number.")
    quantity = quantity_field()
    condition = serializers.ChoiceField(choices=ReturnCondition.choices)


class ReturnCreateSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=300)
    lines = ReturnLineInputSerializer(many=True, allow_empty=False)

    def validate_lines(self, lines: list[dict]) -> list[dict]:
        return unique_lines(lines, key="line_no")


class ReturnRequestLineInputSerializer(StrictSerializer):
    line_no = serializers.IntegerField(min_value=1, help_text="The order line's number.")
    quantity = quantity_field()


class ReturnRequestCreateSerializer(StrictSerializer):
    reason = serializers.ChoiceField(choices=ReturnRequestReason.choices)
    description = serializers.CharField(max_length=2000, required=False, default="", allow_blank=True)
    lines = ReturnRequestLineInputSerializer(many=True, allow_empty=False)

    def validate_lines(self, lines: list[dict]) -> list[dict]:
        return unique_lines(lines, key="line_no")


class RefuseReturnRequestSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=300, help_text="Why the return is refused; the customer reads it.")


class ApproveReturnRequestSerializer(StrictSerializer):
    condition = serializers.ChoiceField(choices=ReturnCondition.choices, default=ReturnCondition.RESELLABLE)


# Output


class LineAmountField(serializers.DecimalField):
    """An order line's money amount as a decimal string in its order's minor units ("100.55")."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=19, decimal_places=4, read_only=True, **kwargs)

    def get_attribute(self, line: OrderLine):
        return quantize(super().get_attribute(line), line.order.currency)

    def to_representation(self, value) -> str:
        return str(value)


class BackorderedField(serializers.DecimalField):
    """What a confirmed order still waits for: neither reserved nor shipped (stocked lines only)."""

    def __init__(self, **kwargs):
        super().__init__(
            max_digits=QUANTITY_MAX_DIGITS, decimal_places=QUANTITY_DECIMAL_PLACES, read_only=True, **kwargs
        )

    def get_attribute(self, line: OrderLine) -> Decimal:
        waiting = line.order.status in (OrderStatus.CONFIRMED, OrderStatus.PARTIALLY_SHIPPED)
        return line.quantity_backordered if waiting and line.product.is_stocked else ZERO


class CustomerRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "number", "legal_name"]
        read_only_fields = fields


class AddressSnapshotSerializer(serializers.Serializer):
    """The address as it was when the order was entered; null when the customer had none."""

    name = serializers.CharField(read_only=True)
    line1 = serializers.CharField(read_only=True)
    line2 = serializers.CharField(read_only=True)
    postal_code = serializers.CharField(read_only=True)
    city = serializers.CharField(read_only=True)
    region = serializers.CharField(read_only=True)
    country = serializers.CharField(read_only=True)

    def to_representation(self, instance):
        return super().to_representation(instance) if instance else None


class OrderLineSerializer(serializers.ModelSerializer):
    product = serializers.SlugRelatedField(slug_field="sku", read_only=True)
    net_amount = LineAmountField()
    tax_amount = LineAmountField()
    quantity_backordered = BackorderedField()

    class Meta:
        model = OrderLine
        fields = [
            "line_no",
            "product",
            "description",
            "quantity",
            "unit_price",
            "price_rule",
            "price_overridden",
            "discount_percent",
            "tax_rate",
            "reverse_charge",
            "tax_category",
            "tax_note",
            "net_amount",
            "tax_amount",
            "quantity_reserved",
            "quantity_shipped",
            "quantity_backordered",
            "quantity_returned",
        ]
        read_only_fields = fields


class OrderLinksSerializer(serializers.Serializer):
    self = serializers.URLField(read_only=True)
    timeline = serializers.URLField(read_only=True)
    shipments = serializers.URLField(read_only=True)
    returns = serializers.URLField(read_only=True)


class OrderSerializer(serializers.ModelSerializer):
    customer = CustomerRefSerializer(read_only=True)
    warehouse = serializers.SlugRelatedField(slug_field="code", read_only=True)
    net_total = AmountField(currency_field="currency")
    tax_total = AmountField(currency_field="currency")
    gross_total = AmountField(currency_field="currency")
    shipping_address = AddressSnapshotSerializer(read_only=True, allow_null=True)
    billing_address = AddressSnapshotSerializer(read_only=True, allow_null=True)
    lines = OrderLineSerializer(many=True, read_only=True)
    links = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = [
            "number",
            "status",
            "customer",
            "currency",
            "order_date",
            "po_number",
            "requested_delivery_date",
            "warehouse",
            "discount_percent",
            "net_total",
            "tax_total",
            "gross_total",
            "hold_reason",
            "notes",
            "shipping_address",
            "billing_address",
            "lines",
            "created_at",
            "confirmed_at",
            "updated_at",
            "links",
        ]
        read_only_fields = fields

    @extend_schema_field(OrderLinksSerializer)
    def get_links(self, order: Order) -> dict[str, str]:
        request = self.context.get("request")
        kwargs = {"number": order.number}
        return {
            "self": reverse("order-detail", kwargs=kwargs, request=request),
            "timeline": reverse("order-timeline", kwargs=kwargs, request=request),
            "shipments": reverse("order-shipments", kwargs=kwargs, request=request),
            "returns": reverse("order-returns", kwargs=kwargs, request=request),
        }


class ShipmentLineSerializer(serializers.ModelSerializer):
    line_no = serializers.IntegerField(source="order_line.line_no", read_only=True)

    class Meta:
        model = ShipmentLine
        fields = ["line_no", "quantity"]
        read_only_fields = fields


class ShipmentSerializer(serializers.ModelSerializer):
    order = serializers.SlugRelatedField(slug_field="number", read_only=True)
    lines = ShipmentLineSerializer(many=True, read_only=True)

    class Meta:
        model = Shipment
        fields = [
            "number",
            "order",
            "status",
            "carrier",
            "tracking_number",
            "tracking_url",
            "dispatched_at",
            "delivered_at",
            "lines",
        ]
        read_only_fields = fields


class OrderDetailSerializer(OrderSerializer):
    shipments = ShipmentSerializer(many=True, read_only=True)

    class Meta(OrderSerializer.Meta):
        fields = [*OrderSerializer.Meta.fields[:-1], "shipments", "links"]
        read_only_fields = fields


class OrderTimelineEntrySerializer(serializers.ModelSerializer):
    shipment = serializers.SlugRelatedField(slug_field="number", read_only=True, allow_null=True)
    carrier = serializers.CharField(source="shipment.carrier", read_only=True, allow_null=True)
    tracking_number = serializers.CharField(source="shipment.tracking_number", read_only=True, allow_null=True)
    tracking_url = serializers.CharField(source="shipment.tracking_url", read_only=True, allow_null=True)

    class Meta:
        model = OrderTimelineEntry
        fields = ["kind", "at", "detail", "shipment", "carrier", "tracking_number", "tracking_url"]
        read_only_fields = fields


class ReturnLineSerializer(serializers.ModelSerializer):
    line_no = serializers.IntegerField(source="order_line.line_no", read_only=True)
    product = serializers.CharField(source="order_line.product.sku", read_only=True)

    class Meta:
        model = ReturnLine
        fields = ["line_no", "product", "quantity", "condition"]
        read_only_fields = fields


class ReturnSerializer(serializers.ModelSerializer):
    order = serializers.SlugRelatedField(slug_field="number", read_only=True)
    lines = ReturnLineSerializer(many=True, read_only=True)

    class Meta:
        model = ReturnOrder
        fields = ["number", "order", "reason", "received_at", "lines"]
        read_only_fields = fields


class ReturnRequestLineSerializer(serializers.ModelSerializer):
    line_no = serializers.IntegerField(source="order_line.line_no", read_only=True)
    product = serializers.CharField(source="order_line.product.sku", read_only=True)

    class Meta:
        model = ReturnRequestLine
        fields = ["line_no", "product", "quantity"]
        read_only_fields = fields


class ReturnRequestSerializer(serializers.ModelSerializer):
    order = serializers.SlugRelatedField(slug_field="number", read_only=True)
    return_order = serializers.SlugRelatedField(
        slug_field="number", read_only=True, help_text="The registered return, once approved."
    )
    has_photo = serializers.SerializerMethodField()
    lines = ReturnRequestLineSerializer(many=True, read_only=True)

    class Meta:
        model = ReturnRequest
        fields = [
            "number",
            "order",
            "status",
            "reason",
            "description",
            "has_photo",
            "requested_at",
            "decided_at",
            "refusal_reason",
            "return_order",
            "lines",
        ]
        read_only_fields = fields

    def get_has_photo(self, return_request: ReturnRequest) -> bool:
        return bool(return_request.photo)


class ExposureSerializer(serializers.Serializer):
    """Open orders plus open receivables against the credit limit, in the credit currency."""

    currency = serializers.CharField(read_only=True)
    credit_limit = AmountField(currency_field="currency")
    open_orders = AmountField(currency_field="currency")
    open_receivables = AmountField(currency_field="currency")
    total = AmountField(currency_field="currency")
    available = AmountField(currency_field="currency", help_text="Negative when the exposure exceeds the limit.")
