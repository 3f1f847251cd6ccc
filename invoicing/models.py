"""Invoices and credit notes with their lines and tax breakdown, number series, the company's document
settings, stored documents and their delivery log. The receivables ledger they post to is the
ledger app's.

Issued documents are enforced immutable by triggers, not by the UI.
"""

import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _

from customers.models import Customer, DocumentLayout
from inventory.models import Product, QuantityField, TaxCategoryCode
from orders.models import Order, OrderLine, ReturnOrder, Shipment, ShipmentLine
from otc.audit import tracked
from otc.money import CurrencyField, MoneyField


class DocumentKind(models.TextChoices):
    INVOICE = "invoice", "Invoice"
    CREDIT_NOTE = "credit_note", "Credit note"


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ISSUED = "issued", _("Issued (open)")
    PARTIALLY_PAID = "partially_paid", _("Partially paid")
    PAID = "paid", _("Paid")
    CREDITED = "credited", _("Cancelled by credit note")
    SETTLED = "settled", _("Settled (credit note used up)")


# Columns of an issued document that later business (payments, credit notes, documents) may change.
SETTLEMENT_COLUMNS = ["status", "open_amount", "credited_amount", "updated_at"]


class IssuedAndChanged(pgtrigger.Condition):
    """An issued document had a column changed other than the settlement columns."""

    sql = "OLD.status <> 'draft'"

    def resolve(self, model: type[models.Model]) -> str:
        changed = pgtrigger.AnyChange(exclude=SETTLEMENT_COLUMNS).resolve(model)
        return f"{self.sql} AND ({changed})"


class NumberSeries(models.Model):
    """The last number given in a series and year; the row lock taken to raise it keeps numbers gapless."""

    code = models.CharField(max_length=10, help_text="INV or CN")
    year = models.PositiveSmallIntegerField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "number series"
        ordering = ["code", "-year"]
        constraints = [models.UniqueConstraint(fields=["code", "year"], name="number_series_unique_per_year")]

    def __str__(self) -> str:
        return f"{self.code}-{self.year}: {self.last_value}"


@tracked()
class Invoice(models.Model):
    """An invoice or a credit note; amounts are positive for both, `kind` gives the sign."""

    kind = models.CharField(max_length=12, choices=DocumentKind.choices, default=DocumentKind.INVOICE)
    number = models.CharField(max_length=20, unique=True, null=True, blank=True, editable=False)
    status = models.CharField(max_length=15, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="invoices")
    currency = CurrencyField()
    company_currency = CurrencyField()
    exchange_rate = models.DecimalField(
        max_digits=18, decimal_places=8, default=1, help_text="Company currency per one unit, on the issue date."
    )
    issue_date = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    delivery_date = models.DateField(null=True, blank=True, help_text="When the goods left (last shipment).")
    payment_terms_days = models.PositiveSmallIntegerField(default=30)
    customer_snapshot = models.JSONField(default=dict, help_text="Name, number, tax ID and country when issued.")
    billing_address = models.JSONField(default=dict)
    shipping_address = models.JSONField(default=dict)
    po_number = models.CharField("PO number", max_length=60, blank=True)
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.PROTECT, related_name="invoices")
    credited_invoice = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="credit_notes"
    )
    return_order = models.ForeignKey(
        ReturnOrder, null=True, blank=True, on_delete=models.PROTECT, related_name="credit_notes"
    )
    reason = models.CharField(max_length=300, blank=True, help_text="Why a credit note was issued.")
    net_total = MoneyField(default=0)
    tax_total = MoneyField(default=0)
    gross_total = MoneyField(default=0)
    open_amount = MoneyField(default=0, help_text="Still to be paid (invoice) or to be used (credit note).")
    credited_amount = MoneyField(default=0, help_text="Gross of the credit notes issued against this invoice.")
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="en")
    layout = models.CharField(max_length=20, choices=DocumentLayout.choices, default=DocumentLayout.STANDARD)
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-pk"]
        permissions = [
            ("issue_invoice", "Can issue invoices"),
            ("issue_credit_note", "Can issue credit notes"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=DocumentKind.values), name="invoice_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=InvoiceStatus.values), name="invoice_status_valid"),
            models.CheckConstraint(
                condition=Q(status=InvoiceStatus.DRAFT, number__isnull=True)
                | (~Q(status=InvoiceStatus.DRAFT) & Q(number__isnull=False, issue_date__isnull=False)),
                name="invoice_numbered_once_issued",
            ),
            models.CheckConstraint(
                condition=Q(gross_total=F("net_total") + F("tax_total")), name="invoice_gross_is_net_plus_tax"
            ),
            models.CheckConstraint(
                condition=Q(net_total__gte=0, tax_total__gte=0, open_amount__gte=0, credited_amount__gte=0),
                name="invoice_amounts_not_negative",
            ),
            models.CheckConstraint(condition=Q(open_amount__lte=F("gross_total")), name="invoice_open_within_gross"),
            models.CheckConstraint(
                condition=Q(credited_amount__lte=F("gross_total")), name="invoice_credited_within_gross"
            ),
            models.CheckConstraint(
                condition=Q(kind=DocumentKind.INVOICE, credited_invoice__isnull=True)
                | Q(kind=DocumentKind.CREDIT_NOTE, credited_invoice__isnull=False),
                name="credit_note_credits_an_invoice",
            ),
            models.CheckConstraint(condition=Q(exchange_rate__gt=0), name="invoice_exchange_rate_positive"),
        ]
        indexes = [
            # A customer's open items oldest first (statements, dunning, the sums cash application
            # tries), and those a payment's amount settles (cash application's amount windows).
            models.Index(
                fields=["customer", "currency", "due_date", "id"],
                condition=Q(open_amount__gt=0),
                name="invoice_open_items",
            ),
            models.Index(
                fields=["customer", "currency", "open_amount"],
                condition=Q(open_amount__gt=0),
                name="invoice_open_amounts",
            ),
            models.Index(fields=["status", "due_date"], name="invoice_status_due"),
            models.Index(fields=["-issue_date", "-id"], name="invoice_recent"),
            # What list search uses (otc.search): numbers by their start (the varchar_pattern_ops index
            # Django gives every unique CharField), PO numbers whole in any case.
            models.Index(Upper("po_number"), name="invoice_po_number"),
        ]
        triggers = [
            pgtrigger.Protect(
                name="issued_invoice_is_immutable",
                operation=pgtrigger.Update,
                condition=IssuedAndChanged(),
            ),
            pgtrigger.Protect(
                name="issued_invoice_is_not_deleted",
                operation=pgtrigger.Delete,
                condition=pgtrigger.Q(old__status__df="draft"),
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"Draft {self.get_kind_display().lower()} #{self.pk}"

    @property
    def is_credit_note(self) -> bool:
        return self.kind == DocumentKind.CREDIT_NOTE


class HoldKind(models.TextChoices):
    DISPUTE = "dispute", "Dispute"
    QUERY = "query", "Query"
    PROMISE = "promise", "Promise to pay"
    MANUAL = "manual", "Manual"


class InvoiceHold(models.Model):
    """Keeps collections (dunning, reminders) away from an issued invoice while it is active, i.e. not
    released. Placed and released only through invoicing's services; at most one active hold per kind."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="holds")
    kind = models.CharField(max_length=10, choices=HoldKind.choices)
    reason_code = models.CharField(max_length=40, help_text="Why, as a code of whoever placed it (a dispute reason).")
    text = models.CharField(max_length=300, blank=True, help_text="Why, in words.")
    source = models.CharField(max_length=60, blank=True, help_text='What placed it, as "kind:id" (e.g. "dispute:12").')
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    placed_at = models.DateTimeField()
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    released_at = models.DateTimeField(null=True, blank=True)
    release_note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-placed_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=HoldKind.values), name="invoice_hold_kind_valid"),
            models.CheckConstraint(condition=~Q(reason_code=""), name="invoice_hold_has_reason_code"),
            models.CheckConstraint(
                condition=Q(released_at__isnull=True, released_by__isnull=True)
                | Q(released_at__isnull=False, released_by__isnull=False, released_at__gte=F("placed_at")),
                name="invoice_hold_released_by_someone_after_placing",
            ),
            models.UniqueConstraint(
                fields=["invoice", "kind"],
                condition=Q(released_at__isnull=True),
                name="invoice_hold_one_active_per_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} hold on {self.invoice}"

    @property
    def is_active(self) -> bool:
        return self.released_at is None


# Lines of an issued document refuse every change: the check runs in the database, not the UI.
_LINES_OF_ISSUED_DOCUMENTS_ARE_IMMUTABLE = """
    IF EXISTS (
        SELECT 1 FROM invoicing_invoice
         WHERE id IN (COALESCE(NEW.invoice_id, OLD.invoice_id), COALESCE(OLD.invoice_id, NEW.invoice_id))
           AND status <> 'draft'
    ) THEN
        RAISE EXCEPTION 'The lines of issued invoice % cannot change; issue a credit note.',
            COALESCE(NEW.invoice_id, OLD.invoice_id) USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN COALESCE(NEW, OLD);
"""


def _immutable_with_issued_invoice(name: str) -> pgtrigger.Trigger:
    return pgtrigger.Trigger(
        name=name,
        when=pgtrigger.Before,
        operation=pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete,
        func=_LINES_OF_ISSUED_DOCUMENTS_ARE_IMMUTABLE,
    )


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    line_no = models.PositiveSmallIntegerField()
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    sku = models.CharField(max_length=40, blank=True)
    gtin = models.CharField(max_length=14, blank=True)
    description = models.CharField(max_length=300)
    quantity = QuantityField()
    unit = models.CharField(max_length=5, default="C62", help_text="UN/ECE rec. 20 unit code.")
    unit_price = MoneyField()
    discount_percent = models.DecimalField(
        max_digits=9, decimal_places=4, default=0, help_text="Line and order discount combined."
    )
    tax_category = models.CharField(max_length=2, choices=TaxCategoryCode.choices, default=TaxCategoryCode.STANDARD)
    tax_rate = models.DecimalField(max_digits=5, decimal_places=2)
    tax_note = models.CharField(max_length=200, blank=True, help_text="Exemption or reverse-charge wording.")
    net_amount = MoneyField()
    order_line = models.ForeignKey(OrderLine, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    shipment_line = models.ForeignKey(
        ShipmentLine, null=True, blank=True, on_delete=models.PROTECT, related_name="invoice_lines"
    )
    credited_line = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="credit_lines"
    )
    is_price_reduction = models.BooleanField(
        default=False, help_text="A credit of an amount on the credited line, not of goods: no quantity comes back."
    )

    class Meta:
        ordering = ["invoice", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "line_no"], name="invoice_line_no_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="invoice_line_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="invoice_line_price_not_negative"),
            models.CheckConstraint(condition=Q(net_amount__gte=0), name="invoice_line_net_not_negative"),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0, discount_percent__lte=100), name="invoice_line_discount_0_to_100"
            ),
            models.CheckConstraint(
                condition=Q(tax_category__in=TaxCategoryCode.values), name="invoice_line_tax_category_valid"
            ),
        ]
        triggers = [_immutable_with_issued_invoice("invoice_line_immutable_once_issued")]

    def __str__(self) -> str:
        return f"{self.invoice_id}/{self.line_no} {self.description}"


class TaxBreakdown(models.Model):
    """Taxable amount and tax per category and rate: the tax is computed here, on the sum of the lines."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="tax_breakdown")
    tax_category = models.CharField(max_length=2, choices=TaxCategoryCode.choices)
    tax_rate = models.DecimalField(max_digits=5, decimal_places=2)
    taxable_amount = MoneyField()
    tax_amount = MoneyField()
    exemption_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["invoice", "-tax_rate", "tax_category"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "tax_category", "tax_rate"], name="tax_breakdown_once_per_category_rate"
            ),
            models.CheckConstraint(
                condition=Q(taxable_amount__gte=0, tax_amount__gte=0), name="tax_breakdown_positive"
            ),
        ]
        triggers = [_immutable_with_issued_invoice("tax_breakdown_immutable_once_issued")]

    def __str__(self) -> str:
        return f"{self.tax_category} {self.tax_rate}%: {self.tax_amount} on {self.taxable_amount}"


class InvoicedShipment(models.Model):
    """The shipment is on this invoice. The unique shipment is what makes invoicing exactly-once."""

    shipment = models.OneToOneField(Shipment, on_delete=models.PROTECT, related_name="invoicing")
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="shipments")

    def __str__(self) -> str:
        return f"{self.shipment_id} → {self.invoice_id}"


class DocumentFormat(models.TextChoices):
    PDF = "pdf", "PDF"
    UBL = "ubl", "UBL 2.1 XML (EN 16931)"
    FACTURX = "facturx", "Factur-X PDF/A-3"
    XRECHNUNG = "xrechnung", "XRechnung 3.0 UBL XML (German public sector)"
    STATEMENT = "statement", "Statement of account PDF"


class StoredDocument(models.Model):
    """A rendered file, stored once; served from here from then on."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="documents")
    invoice = models.ForeignKey(Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="documents")
    format = models.CharField(max_length=10, choices=DocumentFormat.choices)
    file = models.FileField(upload_to="documents/%Y/%m/")
    filename = models.CharField(max_length=120)
    content_type = models.CharField(max_length=60)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    period_start = models.DateField(null=True, blank=True, help_text="Statements: first day covered.")
    period_end = models.DateField(null=True, blank=True, help_text="Statements: last day covered.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "format"], condition=Q(invoice__isnull=False), name="document_once_per_format"
            ),
            models.CheckConstraint(condition=Q(format__in=DocumentFormat.values), name="document_format_valid"),
        ]

    def __str__(self) -> str:
        return self.filename


class DeliveryChannel(models.TextChoices):
    EMAIL = "email", "Email"
    PORTAL = "portal", "Portal only"


class InvoiceDeliveryLog(models.Model):
    """How an issued document reached the customer; the first delivery is unique, resends are logged too."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="deliveries")
    channel = models.CharField(max_length=10, choices=DeliveryChannel.choices)
    recipients = ArrayField(models.EmailField(), default=list, blank=True)
    formats = ArrayField(models.CharField(max_length=10, choices=DocumentFormat.choices), default=list)
    is_resend = models.BooleanField(default=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "invoice delivery"
        verbose_name_plural = "invoice deliveries"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice"], condition=Q(is_resend=False), name="invoice_delivered_once_automatically"
            ),
            models.CheckConstraint(condition=Q(channel__in=DeliveryChannel.values), name="delivery_channel_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id} via {self.channel}"
