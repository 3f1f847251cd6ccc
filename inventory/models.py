"""Products, warehouses, stock (levels kept by an append-only move ledger), prices and taxes."""

import pgtrigger
from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateRangeField, RangeOperators
from django.db import models
from django.db.models import F, Func, Q, Value
from django.utils.translation import gettext_lazy as _

from customers.models import Customer, CustomerGroup
from customers.validators import validate_country
from inventory.validators import validate_gtin
from otc.audit import tracked
from otc.countries import COUNTRY_CHOICES
from otc.money import CurrencyField, MoneyField


class QuantityField(models.DecimalField):
    """A quantity in the product's unit: up to 3 decimals (kg, m, h), never float."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 3)
        super().__init__(*args, **kwargs)


class Unit(models.TextChoices):
    PIECE = "pc", "Piece"
    BOX = "box", "Box"
    KILOGRAM = "kg", "Kilogram"
    METRE = "m", "Metre"
    LITRE = "l", "Litre"
    HOUR = "h", "Hour"


class ProductKind(models.TextChoices):
    STOCKED = "stocked", "Stocked good"
    SERVICE = "service", "Service"


class TaxCategoryCode(models.TextChoices):
    """UNCL 5305 VAT categories, as EN 16931 uses them: the tax decision of a line, as a code."""

    STANDARD = "S", _("Standard rate")
    ZERO = "Z", _("Zero rated")
    EXEMPT = "E", _("Exempt")
    REVERSE_CHARGE = "AE", _("Reverse charge")
    INTRA_COMMUNITY = "K", _("Intra-community supply")
    EXPORT = "G", _("Export outside the EU")
    NOT_SUBJECT = "O", _("Not subject to VAT")


REVERSE_CHARGE_CODES = frozenset({TaxCategoryCode.REVERSE_CHARGE, TaxCategoryCode.INTRA_COMMUNITY})


class TaxCategory(models.Model):
    code = models.SlugField(max_length=30, unique=True)
    name = models.CharField(max_length=100)

    class Meta:
        verbose_name_plural = "tax categories"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class DateRange(Func):
    """PostgreSQL's daterange(lower, upper, bounds); an open upper end is unbounded."""

    function = "DATERANGE"
    output_field = DateRangeField()


@tracked()
class TaxRate(models.Model):
    """Rate of a tax category in a destination country over a validity period (end exclusive)."""

    category = models.ForeignKey(TaxCategory, on_delete=models.PROTECT, related_name="rates")
    country = models.CharField(max_length=2, choices=COUNTRY_CHOICES, validators=[validate_country])
    rate = models.DecimalField(max_digits=5, decimal_places=2, help_text="Percent, e.g. 19.00")
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True, help_text="First day it no longer applies.")

    class Meta:
        ordering = ["country", "category", "-valid_from"]
        constraints = [
            models.CheckConstraint(condition=Q(rate__gte=0, rate__lte=100), name="tax_rate_between_0_and_100"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=F("valid_from")), name="tax_rate_period_not_empty"
            ),
            # Periods of one category and country never overlap (btree_gist for the equality parts).
            ExclusionConstraint(
                name="tax_rates_do_not_overlap",
                expressions=[
                    ("category", RangeOperators.EQUAL),
                    ("country", RangeOperators.EQUAL),
                    (DateRange("valid_from", "valid_to", Value("[)")), RangeOperators.OVERLAPS),
                ],
                violation_error_message="This period overlaps another rate of the same category and country.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category} {self.country} {self.rate}%"


@tracked()
class Product(models.Model):
    sku = models.CharField("SKU", max_length=40, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    unit = models.CharField(max_length=5, choices=Unit.choices, default=Unit.PIECE)
    kind = models.CharField(max_length=10, choices=ProductKind.choices, default=ProductKind.STOCKED)
    tax_category = models.ForeignKey(TaxCategory, on_delete=models.PROTECT, related_name="products")
    gtin = models.CharField("GTIN / barcode", max_length=14, blank=True, validators=[validate_gtin])
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sku"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=ProductKind.values), name="product_kind_valid"),
            models.UniqueConstraint(fields=["gtin"], condition=~Q(gtin=""), name="product_gtin_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"

    @property
    def is_stocked(self) -> bool:
        return self.kind == ProductKind.STOCKED


class Warehouse(models.Model):
    code = models.SlugField(max_length=20, unique=True)
    name = models.CharField(max_length=100)
    country = models.CharField(max_length=2, choices=COUNTRY_CHOICES, validators=[validate_country])
    is_active = models.BooleanField(default=True)
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="one_default_warehouse")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class StockLevel(models.Model):
    """Current on-hand and reserved quantity; a cache of the move ledger that the database keeps sane."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="stock_levels")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="stock_levels")
    on_hand = QuantityField(default=0)
    reserved = QuantityField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["product", "warehouse"], name="one_stock_level_per_place"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="stock_reserved_not_negative"),
            models.CheckConstraint(condition=Q(on_hand__gte=F("reserved")), name="stock_available_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.warehouse_id}: {self.on_hand} on hand, {self.reserved} reserved"

    @property
    def available(self):
        return self.on_hand - self.reserved


class MoveKind(models.TextChoices):
    RECEIPT = "receipt", "Receipt"
    RESERVATION = "reservation", "Reservation"
    RELEASE = "release", "Release of reservation"
    SHIPMENT = "shipment", "Shipment"
    RETURN = "return", "Return"
    ADJUSTMENT = "adjustment", "Adjustment"


@pgtrigger.register(pgtrigger.Protect(name="stock_moves_append_only", operation=pgtrigger.Update | pgtrigger.Delete))
class StockMove(models.Model):
    """The stock ledger. Append-only (a trigger refuses UPDATE and DELETE); levels are its sums."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="moves")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="moves")
    kind = models.CharField(max_length=12, choices=MoveKind.choices)
    on_hand_delta = QuantityField()
    reserved_delta = QuantityField()
    reason = models.CharField(max_length=300, blank=True)
    reference = models.CharField(
        max_length=60, blank=True, db_index=True, help_text="What caused it, e.g. order-line:123 or shipment:45."
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["product", "warehouse", "created_at"], name="stock_move_place_time")]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=MoveKind.values), name="stock_move_kind_valid"),
            models.CheckConstraint(condition=~Q(on_hand_delta=0, reserved_delta=0), name="stock_move_moves_something"),
            models.CheckConstraint(condition=~Q(kind="adjustment", reason=""), name="stock_adjustment_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.product_id}@{self.warehouse_id}"


class ReorderPoint(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="reorder_points")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="reorder_points")
    minimum = QuantityField(help_text="Below this available quantity the product needs reordering.")
    reorder_quantity = QuantityField(default=0)

    class Meta:
        permissions = [("receive_low_stock_alerts", "Receives low stock alerts by email")]
        constraints = [
            models.UniqueConstraint(fields=["product", "warehouse"], name="one_reorder_point_per_place"),
            models.CheckConstraint(condition=Q(minimum__gte=0), name="reorder_minimum_not_negative"),
        ]

    def __str__(self) -> str:
        return f"Reorder {self.product_id}@{self.warehouse_id} below {self.minimum}"


@tracked()
class PriceList(models.Model):
    """Prices in one currency for a period; for everyone, or for one customer group."""

    name = models.CharField(max_length=100)
    currency = CurrencyField()
    customer_group = models.ForeignKey(
        CustomerGroup,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="price_lists",
        help_text="Empty: the list for everyone.",
    )
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True, help_text="First day it no longer applies.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["currency", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=F("valid_from")), name="price_list_period_not_empty"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.currency})"


@tracked()
class PriceListItem(models.Model):
    """A unit price from a minimum quantity on (quantity breaks are several items)."""

    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="price_list_items")
    min_quantity = QuantityField(default=1)
    unit_price = MoneyField()

    class Meta:
        ordering = ["product", "min_quantity"]
        constraints = [
            models.UniqueConstraint(fields=["price_list", "product", "min_quantity"], name="one_price_per_break"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="list_price_not_negative"),
            models.CheckConstraint(condition=Q(min_quantity__gt=0), name="list_break_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} from {self.min_quantity}: {self.unit_price}"


@tracked()
class CustomerPrice(models.Model):
    """A negotiated price or discount for one customer; beats every price list."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="prices")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="customer_prices")
    currency = CurrencyField()
    min_quantity = QuantityField(default=1)
    unit_price = MoneyField(null=True, blank=True, help_text="Fixed price; or leave empty and give a discount.")
    discount_percent = models.DecimalField(
        max_digits=5, decimal_places=2, default=0, help_text="Line discount off the list price."
    )
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["customer", "product", "min_quantity"]
        constraints = [
            models.CheckConstraint(
                condition=Q(unit_price__isnull=True) | Q(unit_price__gte=0), name="customer_price_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0, discount_percent__lte=100), name="customer_discount_0_to_100"
            ),
            models.CheckConstraint(
                condition=Q(unit_price__isnull=False) | Q(discount_percent__gt=0),
                name="customer_price_gives_price_or_discount",
            ),
            models.CheckConstraint(condition=Q(min_quantity__gt=0), name="customer_price_break_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}/{self.product_id} from {self.min_quantity}"


def format_quantity(quantity) -> str:
    """12.500 -> '12.5', 10.000 -> '10': quantities as people write them."""
    return format(quantity.normalize(), "f")
