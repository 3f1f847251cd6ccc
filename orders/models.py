"""Sales orders and their lines, shipments, returns, and the order's customer-visible timeline."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _

from customers.models import Customer
from inventory.models import Product, QuantityField, TaxCategoryCode, Warehouse
from otc.audit import tracked
from otc.money import CurrencyField, MoneyField


class OrderStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    CONFIRMED = "confirmed", _("Confirmed")
    ON_CREDIT_HOLD = "on_credit_hold", _("On credit hold")
    PARTIALLY_SHIPPED = "partially_shipped", _("Partially shipped")
    SHIPPED = "shipped", _("Shipped")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


# Which status may follow which; every transition in orders.services is checked against this.
ALLOWED_TRANSITIONS: dict[str, set[str]] = {
    OrderStatus.DRAFT: {OrderStatus.CONFIRMED, OrderStatus.ON_CREDIT_HOLD, OrderStatus.CANCELLED},
    OrderStatus.ON_CREDIT_HOLD: {OrderStatus.CONFIRMED, OrderStatus.CANCELLED},
    OrderStatus.CONFIRMED: {OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED, OrderStatus.CANCELLED},
    OrderStatus.PARTIALLY_SHIPPED: {OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED},
    OrderStatus.SHIPPED: {OrderStatus.COMPLETED},
    OrderStatus.COMPLETED: set(),
    OrderStatus.CANCELLED: set(),
}
OPEN_STATUSES = [OrderStatus.CONFIRMED, OrderStatus.ON_CREDIT_HOLD, OrderStatus.PARTIALLY_SHIPPED]


@tracked()
class Order(models.Model):
    number = models.CharField(max_length=20, unique=True, editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(max_length=20, choices=OrderStatus.choices, default=OrderStatus.DRAFT)
    currency = CurrencyField()
    po_number = models.CharField("PO number", max_length=60, blank=True)
    requested_delivery_date = models.DateField(null=True, blank=True)
    order_date = models.DateField()
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="orders")
    billing_address = models.JSONField(default=dict, help_text="Snapshot taken when the order was entered.")
    shipping_address = models.JSONField(default=dict, help_text="Snapshot taken when the order was entered.")
    discount_percent = models.DecimalField("order discount %", max_digits=5, decimal_places=2, default=0)
    net_total = MoneyField(default=0)
    tax_total = MoneyField(default=0)
    gross_total = MoneyField(default=0)
    notes = models.TextField(blank=True)
    hold_reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=OrderStatus.values), name="order_status_valid"),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0, discount_percent__lte=100), name="order_discount_0_to_100"
            ),
            models.CheckConstraint(
                condition=Q(gross_total=F("net_total") + F("tax_total")), name="order_gross_is_net_plus_tax"
            ),
        ]
        permissions = [
            ("release_credit_hold", "Can release or reject orders on credit hold"),
            ("override_price", "Can override a line's unit price on a draft order"),
        ]
        indexes = [
            models.Index(fields=["customer", "status"], name="order_customer_status"),
            models.Index(fields=["status", "-created_at"], name="order_status_recent"),
            # What list search uses (otc.search): numbers by their start (the varchar_pattern_ops index
            # Django gives every unique CharField), PO numbers whole in any case.
            models.Index(Upper("po_number"), name="order_po_number"),
        ]

    def __str__(self) -> str:
        return self.number


@tracked()
class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    line_no = models.PositiveSmallIntegerField()
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_lines")
    description = models.CharField(max_length=300)
    quantity = QuantityField()
    unit_price = MoneyField()
    price_rule = models.CharField(max_length=200, help_text="Why this price: the pricing rule that produced it.")
    price_overridden = models.BooleanField(
        default=False, help_text="The unit price was set by hand (who, why and the list price: see the price rule)."
    )
    discount_percent = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    tax_rate = models.DecimalField(max_digits=5, decimal_places=2)
    reverse_charge = models.BooleanField(default=False)
    tax_category = models.CharField(
        max_length=2,
        choices=TaxCategoryCode.choices,
        default=TaxCategoryCode.STANDARD,
        help_text="UNCL 5305 VAT category code of the tax decision.",
    )
    tax_note = models.CharField(max_length=200, blank=True)
    net_amount = MoneyField()
    tax_amount = MoneyField(help_text="The line's share of its VAT group's tax (the tax is rounded per group).")
    quantity_reserved = QuantityField(default=0)
    quantity_shipped = QuantityField(default=0)
    quantity_returned = QuantityField(default=0)

    class Meta:
        ordering = ["order", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["order", "line_no"], name="order_line_no_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(tax_category__in=TaxCategoryCode.values), name="order_line_tax_category_valid"
            ),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="order_line_price_not_negative"),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0, discount_percent__lte=100), name="order_line_discount_0_to_100"
            ),
            models.CheckConstraint(condition=Q(quantity_shipped__lte=F("quantity")), name="order_line_not_overshipped"),
            models.CheckConstraint(condition=Q(quantity_reserved__gte=0), name="order_line_reserved_not_negative"),
            models.CheckConstraint(
                condition=Q(quantity_reserved__lte=F("quantity") - F("quantity_shipped")),
                name="order_line_reserved_within_open",
            ),
            models.CheckConstraint(
                condition=Q(quantity_returned__lte=F("quantity_shipped")), name="order_line_returns_within_shipped"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}/{self.line_no} {self.product_id} × {self.quantity}"

    @property
    def quantity_open(self):
        return self.quantity - self.quantity_shipped

    @property
    def quantity_backordered(self):
        return self.quantity - self.quantity_shipped - self.quantity_reserved


class ShipmentStatus(models.TextChoices):
    DISPATCHED = "dispatched", _("Dispatched")
    DELIVERED = "delivered", _("Delivered")


@tracked()
class Shipment(models.Model):
    number = models.CharField(max_length=20, unique=True, editable=False)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="shipments")
    status = models.CharField(max_length=12, choices=ShipmentStatus.choices, default=ShipmentStatus.DISPATCHED)
    carrier = models.CharField(max_length=60, blank=True)
    tracking_number = models.CharField(max_length=80, blank=True)
    tracking_url = models.URLField(blank=True)
    dispatched_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-dispatched_at"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ShipmentStatus.values), name="shipment_status_valid")
        ]

    def __str__(self) -> str:
        return self.number


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="shipment_lines")
    quantity = QuantityField()

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="shipment_line_quantity_positive")]

    def __str__(self) -> str:
        return f"{self.shipment_id}: {self.order_line_id} × {self.quantity}"


class ReturnCondition(models.TextChoices):
    RESELLABLE = "resellable", "Resellable (back to stock)"
    DAMAGED = "damaged", "Damaged (written off)"


@tracked()
class ReturnOrder(models.Model):
    """A return merchandise authorization: goods coming back, with reason and condition."""

    number = models.CharField(max_length=20, unique=True, editable=False)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="returns")
    reason = models.CharField(max_length=300)
    received_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "return (RMA)"
        verbose_name_plural = "returns (RMA)"
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return self.number


class ReturnLine(models.Model):
    return_order = models.ForeignKey(ReturnOrder, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="return_lines")
    quantity = QuantityField()
    condition = models.CharField(max_length=12, choices=ReturnCondition.choices)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="return_line_quantity_positive"),
            models.CheckConstraint(condition=Q(condition__in=ReturnCondition.values), name="return_condition_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.return_order_id}: {self.order_line_id} × {self.quantity}"


class ReturnRequestStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")


class ReturnRequestReason(models.TextChoices):
    DAMAGED_IN_TRANSIT = "damaged_in_transit", _("Damaged in transit")
    DEFECTIVE = "defective", _("Defective")
    WRONG_ITEM = "wrong_item", _("Wrong item delivered")
    NOT_AS_DESCRIBED = "not_as_described", _("Not as described")
    TOO_MANY = "too_many", _("More delivered than ordered")
    NO_LONGER_NEEDED = "no_longer_needed", _("No longer needed")
    OTHER = "other", _("Other")


def return_photo_path(return_request: "ReturnRequest", filename: str) -> str:
    """A random name: the customer's file name is kept in `photo_name`, never used on disk."""
    return f"returns/{uuid.uuid4().hex}"


@tracked()
class ReturnRequest(models.Model):
    """A customer asks to send goods back (from the portal or a partner system). Sales approve it,
    which registers the return (ReturnOrder) and so the credit note, or refuse it with a reason."""

    number = models.CharField(max_length=20, unique=True, editable=False)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="return_requests")
    status = models.CharField(max_length=10, choices=ReturnRequestStatus.choices, default=ReturnRequestStatus.REQUESTED)
    reason = models.CharField(max_length=20, choices=ReturnRequestReason.choices)
    description = models.TextField(blank=True)
    photo = models.FileField(upload_to=return_photo_path, blank=True)
    photo_name = models.CharField(max_length=255, blank=True)
    photo_content_type = models.CharField(max_length=100, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    refusal_reason = models.CharField(max_length=300, blank=True)
    return_order = models.OneToOneField(
        ReturnOrder, null=True, blank=True, on_delete=models.PROTECT, related_name="request"
    )

    class Meta:
        ordering = ["-pk"]
        permissions = [("decide_returnrequest", "Can approve or refuse customers' return requests")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ReturnRequestStatus.values), name="return_request_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(reason__in=ReturnRequestReason.values), name="return_request_reason_valid"
            ),
            models.CheckConstraint(
                condition=Q(status=ReturnRequestStatus.REQUESTED, decided_at__isnull=True)
                | Q(status=ReturnRequestStatus.APPROVED, decided_at__isnull=False, return_order__isnull=False)
                | (Q(status=ReturnRequestStatus.REFUSED, decided_at__isnull=False) & ~Q(refusal_reason="")),
                name="return_request_decision_complete",
            ),
        ]
        indexes = [models.Index(fields=["status", "requested_at"], name="return_request_queue")]

    def __str__(self) -> str:
        return self.number


class ReturnRequestLine(models.Model):
    request = models.ForeignKey(ReturnRequest, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="return_request_lines")
    quantity = QuantityField()

    class Meta:
        ordering = ["request", "order_line__line_no"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="return_request_line_quantity_positive"),
            models.UniqueConstraint(fields=["request", "order_line"], name="return_request_line_once"),
        ]

    def __str__(self) -> str:
        return f"{self.request_id}: {self.order_line_id} × {self.quantity}"


class TimelineKind(models.TextChoices):
    CREATED = "created", "Created"
    CONFIRMED = "confirmed", "Confirmed"
    HELD = "held", "Put on credit hold"
    RELEASED = "released", "Credit hold released"
    REJECTED = "rejected", "Rejected by credit control"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    RETURNED = "returned", "Goods returned"
    RETURN_REQUESTED = "return_requested", "Return requested"
    RETURN_REFUSED = "return_refused", "Return refused"
    CANCELLED = "cancelled", "Cancelled"
    CHANGED = "changed", "Changed"


class OrderTimelineEntry(models.Model):
    """What happened to an order, in words a customer can read (the portal shows it too)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="timeline")
    kind = models.CharField(max_length=20, choices=TimelineKind.choices)
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    detail = models.CharField(max_length=300, blank=True)
    shipment = models.ForeignKey(Shipment, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["order", "at", "pk"]
        verbose_name_plural = "order timeline"

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"


class OrderDocumentKind(models.TextChoices):
    CONFIRMATION = "confirmation", _("Order confirmation")
    DELIVERY_NOTE = "delivery_note", _("Delivery note")


class OrderDocument(models.Model):
    """An order confirmation (one per order) or a delivery note (one per shipment) as the customer got
    it: rendered once, then served and attached from here."""

    kind = models.CharField(max_length=20, choices=OrderDocumentKind.choices)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="documents")
    shipment = models.ForeignKey(Shipment, null=True, blank=True, on_delete=models.PROTECT, related_name="documents")
    file = models.FileField(upload_to="order-documents/%Y/%m/")
    filename = models.CharField(max_length=120)
    content_type = models.CharField(max_length=60)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=OrderDocumentKind.values), name="order_document_kind_valid"),
            models.CheckConstraint(
                condition=Q(kind=OrderDocumentKind.CONFIRMATION, shipment__isnull=True)
                | Q(kind=OrderDocumentKind.DELIVERY_NOTE, shipment__isnull=False),
                name="order_document_shipment_for_delivery_note",
            ),
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(kind=OrderDocumentKind.CONFIRMATION),
                name="order_confirmation_once",
            ),
            models.UniqueConstraint(
                fields=["shipment"],
                condition=Q(kind=OrderDocumentKind.DELIVERY_NOTE),
                name="delivery_note_once_per_shipment",
            ),
        ]

    def __str__(self) -> str:
        return self.filename
