"""Input serializers check the shape of a request (unknown fields are errors); output serializers render.
Amounts, taxes, numbering and credit limits are invoicing.services' to compute and check."""

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from customers.models import Customer
from inventory.api.serializers import QUANTITY_DECIMAL_PLACES, QUANTITY_MAX_DIGITS, quantity_field
from inventory.models import Product
from invoicing import selectors
from invoicing.documents.statements import CurrencyAccount
from invoicing.models import (
    DocumentKind,
    Invoice,
    InvoicedShipment,
    InvoiceLine,
    InvoiceStatus,
    TaxBreakdown,
    TaxCategoryCode,
)
from orders.api.serializers import AddressSnapshotSerializer, CustomerRefSerializer, percent_field
from otc.api.serializers import AmountField, StrictSerializer, currency_field, unique_lines
from otc.money import quantize

ZERO = Decimal("0")
HUNDRED = Decimal("100")


# Input


class ManualLineInputSerializer(StrictSerializer):
    description = serializers.CharField(max_length=300)
    quantity = quantity_field()
    unit_price = serializers.DecimalField(max_digits=19, decimal_places=4, min_value=ZERO, help_text="Net, per unit.")
    tax_rate = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=ZERO,
        max_value=HUNDRED,
        required=False,
        allow_null=True,
        default=None,
        help_text="VAT rate in percent; omitted: the product's rate for the customer (then `product` is required).",
    )
    tax_category = serializers.ChoiceField(
        choices=TaxCategoryCode.choices,
        required=False,
        default="",
        help_text="UNCL 5305 VAT category; omitted: derived from the rate.",
    )
    tax_note = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="", help_text="Exemption or reverse-charge wording."
    )
    product = serializers.CharField(
        max_length=40, required=False, allow_null=True, default=None, help_text="The product's SKU, if any."
    )
    discount_percent = percent_field(default=ZERO)


class InvoiceCreateSerializer(StrictSerializer):
    """A manual invoice (services, fees, corrections upward), issued at once unless `issue` is false."""

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
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    issue = serializers.BooleanField(required=False, default=True, help_text="Issue at once (numbered); default true.")
    lines = ManualLineInputSerializer(many=True, allow_empty=False)

    def validate_lines(self, lines: list[dict]) -> list[dict]:
        """Turn SKUs into products in one query."""
        skus = {line["product"] for line in lines if line["product"]}
        products = Product.objects.select_related("tax_category").in_bulk(skus, field_name="sku") if skus else {}
        errors = {
            index: {"product": [f"No product with SKU {line['product']}."]}
            for index, line in enumerate(lines)
            if line["product"] and line["product"] not in products
        }
        if errors:
            raise serializers.ValidationError(errors)
        return [{**line, "product": products.get(line["product"])} for line in lines]


class CreditLineInputSerializer(StrictSerializer):
    invoice_line = serializers.IntegerField(min_value=1, help_text="The invoice line's number (`line_no`).")
    quantity = quantity_field(required=False, help_text="Quantity to credit at the line's price.")
    amount = serializers.DecimalField(
        max_digits=19,
        decimal_places=4,
        min_value=Decimal("0.01"),
        required=False,
        help_text="Or: a net price reduction on the line, in the invoice's currency.",
    )

    def validate(self, data: dict) -> dict:
        if ("quantity" in data) == ("amount" in data):
            raise serializers.ValidationError({"non_field_errors": ["Give a quantity or an amount, not both."]})
        return data


class CreditNoteCreateSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=300, help_text="Printed on the credit note and kept in the audit trail.")
    lines = CreditLineInputSerializer(
        many=True, required=False, default=list, help_text="Omitted or empty: credit everything not yet credited."
    )

    def validate_lines(self, lines: list[dict]) -> list[dict]:
        return unique_lines(lines, key="invoice_line")


class StatementQuerySerializer(StrictSerializer):
    start = serializers.DateField(help_text="First day, YYYY-MM-DD.")
    end = serializers.DateField(help_text="Last day, YYYY-MM-DD, inclusive.")
    format = serializers.ChoiceField(
        choices=[("json", "JSON"), ("pdf", "PDF")], required=False, default="json", help_text="json (default) or pdf."
    )

    def validate(self, data: dict) -> dict:
        if data["start"] > data["end"]:
            raise serializers.ValidationError({"end": ["The end is before the start."]})
        return data


# Output


def kind_field() -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=DocumentKind.choices, read_only=True)


def status_field() -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=InvoiceStatus.choices, read_only=True)


class DocumentAmountField(serializers.DecimalField):
    """An amount of a line or tax group, in its document's currency minor units ("100.55")."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=19, decimal_places=4, read_only=True, **kwargs)

    def get_attribute(self, row: InvoiceLine | TaxBreakdown):
        return quantize(super().get_attribute(row), row.invoice.currency)

    def to_representation(self, value) -> str:
        return str(value)


class InvoiceLineSerializer(serializers.ModelSerializer):
    product = serializers.SlugRelatedField(slug_field="sku", read_only=True, allow_null=True)
    net_amount = DocumentAmountField()
    quantity = serializers.DecimalField(
        max_digits=QUANTITY_MAX_DIGITS, decimal_places=QUANTITY_DECIMAL_PLACES, read_only=True
    )

    class Meta:
        model = InvoiceLine
        fields = [
            "line_no",
            "product",
            "sku",
            "gtin",
            "description",
            "quantity",
            "unit",
            "unit_price",
            "discount_percent",
            "tax_category",
            "tax_rate",
            "tax_note",
            "net_amount",
        ]
        read_only_fields = fields


class TaxBreakdownSerializer(serializers.ModelSerializer):
    taxable_amount = DocumentAmountField()
    tax_amount = DocumentAmountField()

    class Meta:
        model = TaxBreakdown
        fields = ["tax_category", "tax_rate", "taxable_amount", "tax_amount", "exemption_reason"]
        read_only_fields = fields


class DocumentRefSerializer(serializers.ModelSerializer):
    """Another invoice or credit note, as a reference."""

    kind = kind_field()
    status = status_field()
    gross_total = AmountField(currency_field="currency")
    open_amount = AmountField(currency_field="currency")

    class Meta:
        model = Invoice
        fields = ["id", "number", "kind", "status", "issue_date", "currency", "gross_total", "open_amount"]
        read_only_fields = fields


class InvoicedShipmentSerializer(serializers.ModelSerializer):
    number = serializers.CharField(source="shipment.number", read_only=True)
    dispatched_at = serializers.DateTimeField(source="shipment.dispatched_at", read_only=True, allow_null=True)

    class Meta:
        model = InvoicedShipment
        fields = ["number", "dispatched_at"]
        read_only_fields = fields


class InvoiceLinksSerializer(serializers.Serializer):
    self = serializers.URLField(read_only=True)
    pdf = serializers.URLField(read_only=True)
    ubl = serializers.URLField(read_only=True)
    facturx = serializers.URLField(read_only=True)
    xrechnung = serializers.URLField(read_only=True)
    credit_notes = serializers.URLField(read_only=True)


class InvoiceSerializer(serializers.ModelSerializer):
    kind = kind_field()
    status = status_field()
    customer = CustomerRefSerializer(read_only=True)
    order = serializers.SlugRelatedField(slug_field="number", read_only=True, allow_null=True)
    credited_invoice = serializers.SlugRelatedField(slug_field="number", read_only=True, allow_null=True)
    net_total = AmountField(currency_field="currency")
    tax_total = AmountField(currency_field="currency")
    gross_total = AmountField(currency_field="currency")
    open_amount = AmountField(currency_field="currency")
    credited_amount = AmountField(currency_field="currency")
    links = serializers.SerializerMethodField()

    class Meta:
        model = Invoice
        fields = [
            "id",
            "number",
            "kind",
            "status",
            "customer",
            "currency",
            "issue_date",
            "due_date",
            "delivery_date",
            "po_number",
            "order",
            "credited_invoice",
            "reason",
            "net_total",
            "tax_total",
            "gross_total",
            "open_amount",
            "credited_amount",
            "created_at",
            "issued_at",
            "links",
        ]
        read_only_fields = fields

    @extend_schema_field(InvoiceLinksSerializer)
    def get_links(self, invoice: Invoice) -> dict[str, str]:
        request = self.context.get("request")
        kwargs = {"pk": invoice.pk}
        return {
            "self": reverse("invoice-detail", kwargs=kwargs, request=request),
            "pdf": reverse("invoice-pdf", kwargs=kwargs, request=request),
            "ubl": reverse("invoice-ubl", kwargs=kwargs, request=request),
            "facturx": reverse("invoice-facturx", kwargs=kwargs, request=request),
            "xrechnung": reverse("invoice-xrechnung", kwargs=kwargs, request=request),
            "credit_notes": reverse("invoice-credit-notes", kwargs=kwargs, request=request),
        }


class InvoiceDetailSerializer(InvoiceSerializer):
    billing_address = AddressSnapshotSerializer(read_only=True, allow_null=True)
    shipping_address = AddressSnapshotSerializer(read_only=True, allow_null=True)
    lines = InvoiceLineSerializer(many=True, read_only=True)
    tax_breakdown = TaxBreakdownSerializer(many=True, read_only=True)
    credit_notes = DocumentRefSerializer(many=True, read_only=True)
    shipments = InvoicedShipmentSerializer(many=True, read_only=True)
    einvoice_problems = serializers.SerializerMethodField(
        help_text="Why the e-invoice cannot reach a Peppol access point (no Peppol ID for seller or buyer); empty when "
        "it can. The UBL is validated against EN 16931 and Peppol BIS 3 when it is fetched or sent."
    )

    class Meta(InvoiceSerializer.Meta):
        fields = [
            *InvoiceSerializer.Meta.fields[:-1],
            "company_currency",
            "exchange_rate",
            "payment_terms_days",
            "notes",
            "billing_address",
            "shipping_address",
            "lines",
            "tax_breakdown",
            "credit_notes",
            "shipments",
            "einvoice_problems",
            "links",
        ]
        read_only_fields = fields

    def get_einvoice_problems(self, invoice: Invoice) -> list[str]:
        return selectors.peppol_endpoint_problems(invoice)


class OpenItemSerializer(DocumentRefSerializer):
    """An invoice the customer still owes on, or a credit note not yet used."""

    class Meta(DocumentRefSerializer.Meta):
        fields = ["id", "number", "kind", "status", "issue_date", "due_date", "currency", "gross_total", "open_amount"]
        read_only_fields = fields


class AccountAmountField(serializers.DecimalField):
    """An amount of a statement row, in the minor units of the currency account it belongs to."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=19, decimal_places=4, read_only=True, **kwargs)

    def get_attribute(self, row):
        return quantize(super().get_attribute(row), self.context["currency"])

    def to_representation(self, value) -> str:
        return str(value)


class MovementSerializer(serializers.Serializer):
    posted_on = serializers.DateField(read_only=True)
    document = serializers.CharField(read_only=True, help_text="The invoice or credit note number, or the memo.")
    kind = serializers.CharField(read_only=True, help_text="invoice, credit_note, payment, ...")
    kind_label = serializers.CharField(read_only=True)
    debit = AccountAmountField()
    credit = AccountAmountField()
    balance = AccountAmountField(help_text="The running balance after this movement.")


class AgingSerializer(serializers.Serializer):
    """Open items at the end of the period by days past due; unused credit is negative."""

    not_due = AccountAmountField()
    days_1_30 = AccountAmountField()
    days_31_60 = AccountAmountField()
    days_61_90 = AccountAmountField()
    over_90 = AccountAmountField()
    unapplied_credit = AccountAmountField()
    total = AccountAmountField()


class CurrencyAccountSerializer(serializers.Serializer):
    currency = serializers.CharField(read_only=True)
    opening_balance = AmountField(currency_field="currency")
    total_debit = AmountField(currency_field="currency")
    total_credit = AmountField(currency_field="currency")
    closing_balance = AmountField(currency_field="currency")
    movements = serializers.SerializerMethodField()
    aging = serializers.SerializerMethodField()

    @extend_schema_field(MovementSerializer(many=True))
    def get_movements(self, account: CurrencyAccount) -> list[dict]:
        return MovementSerializer(account.movements, many=True, context={"currency": account.currency}).data

    @extend_schema_field(AgingSerializer)
    def get_aging(self, account: CurrencyAccount) -> dict:
        return AgingSerializer(account.aging, context={"currency": account.currency}).data


class StatementSerializer(serializers.Serializer):
    customer = CustomerRefSerializer(read_only=True)
    start = serializers.DateField(read_only=True)
    end = serializers.DateField(read_only=True)
    accounts = CurrencyAccountSerializer(many=True, read_only=True, help_text="One per currency, by code.")
