"""Kernel models: the user account, partner API keys, stored idempotent responses, exchange rates and the
company profile and the document styles (kept in the kernel so documents of every app carry the letterhead
and the look chosen for their customer)."""

import ipaddress
import re

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from otc.audit import tracked
from otc.countries import COUNTRY_CHOICES
from otc.eas import EAS_CHOICES
from otc.fonts import validate_font_family
from otc.money import CURRENCY_CHOICES, validate_currency

API_SCOPES = [
    ("customers:read", "Read customers, contacts, addresses and preferences"),
    ("customers:write", "Create and change customers, contacts, addresses and preferences"),
    ("change_requests:write", "Request credit limit and bank detail changes"),
    ("change_requests:approve", "Approve or reject change requests (four eyes)"),
    ("inventory:read", "Read products, availability and prices"),
    ("inventory:write", "Record stock receipts and adjustments"),
    ("orders:read", "Read orders, their shipments and timelines"),
    ("orders:write", "Create, confirm and cancel orders; register returns"),
    ("shipments:write", "Dispatch shipments and confirm delivery"),
    ("invoices:read", "Read invoices, credit notes, their documents and statements"),
    ("invoices:write", "Create manual invoices and credit notes"),
    ("payments:read", "Read payments, allocations and customer balances"),
    ("payments:write", "Record and allocate payments"),
    ("tickets:read", "Read service desk tickets and their customer-visible messages"),
    ("tickets:write", "Open tickets, post messages and change their status"),
    ("analytics:read", "Read receivables and customer analytics reports"),
    ("webhooks:manage", "Manage this key's webhook subscriptions and read their deliveries"),
]


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra):
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """Staff, portal users and API service accounts alike; email is the login."""

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    is_staff = models.BooleanField(default=False, help_text="May sign in to the admin.")
    is_active = models.BooleanField(default=True)
    is_service_account = models.BooleanField(
        default=False, help_text="Acts for a partner system through API keys; cannot sign in."
    )
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.get_full_name()


class ApiKey(models.Model):
    """A partner system's credential. Only the SHA-256 of the secret is stored; the key is shown once."""

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, unique=True, editable=False)
    hashed_secret = models.CharField(max_length=64, editable=False)
    user = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        related_name="api_keys",
        help_text="The account the key acts as; audit entries name it.",
    )
    scopes = ArrayField(models.CharField(max_length=50, choices=API_SCOPES), default=list)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    allowed_networks = ArrayField(
        models.CharField(max_length=49),
        default=list,
        blank=True,
        help_text="Client address ranges (CIDR) the key may be used from; empty allows any address.",
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_usable(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    def allows_address(self, address: str) -> bool:
        if not self.allowed_networks:
            return True
        try:
            client = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(client in ipaddress.ip_network(network) for network in self.allowed_networks)


class IdempotencyRecord(models.Model):
    """The first response to a creating POST, replayed for the same key for 24 hours."""

    principal = models.CharField(max_length=64, help_text="api-key:<id> or user:<id>")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=500)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["principal", "key"], name="idempotency_key_unique_per_principal")
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"


class ExchangeRate(models.Model):
    """How much one unit of `currency` is worth in the company currency on a day (ECB-style reference)."""

    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, validators=[validate_currency])
    rate_date = models.DateField()
    rate = models.DecimalField(max_digits=18, decimal_places=8, help_text="Company currency per one unit.")
    source = models.CharField(max_length=60, blank=True, help_text="Where the rate came from, e.g. ECB.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["currency", "-rate_date"]
        constraints = [
            models.UniqueConstraint(fields=["currency", "rate_date"], name="exchange_rate_once_per_day"),
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="exchange_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"1 {self.currency} = {self.rate} on {self.rate_date}"


@tracked()
class CompanyProfile(models.Model):
    """Who issues the documents: name, address, tax and bank details, logo and legal wording (one row)."""

    legal_name = models.CharField(max_length=200)
    line1 = models.CharField("address", max_length=200)
    line2 = models.CharField(max_length=200, blank=True)
    postal_code = models.CharField(max_length=20)
    city = models.CharField(max_length=100)
    country = models.CharField(max_length=2, choices=COUNTRY_CHOICES)
    tax_id = models.CharField("VAT ID", max_length=32)
    peppol_scheme = models.CharField(
        "Peppol scheme",
        max_length=4,
        blank=True,
        choices=EAS_CHOICES,
        help_text="Electronic Address Scheme (EAS) of the company's Peppol participant ID; empty: from the VAT ID.",
    )
    peppol_id = models.CharField(
        "Peppol ID",
        max_length=100,
        blank=True,
        help_text="Identifier in that scheme; left empty with a scheme, it is looked up from the VAT ID.",
    )
    registration = models.CharField(
        max_length=120, blank=True, help_text="Commercial register and number, e.g. Amtsgericht Hamburg HRB 12345."
    )
    contact_name = models.CharField(
        max_length=100,
        default="Accounts receivable",
        help_text="Seller contact on e-invoices (BT-41): a person or a department.",
    )
    email = models.EmailField()
    phone = models.CharField(max_length=40, blank=True)
    website = models.URLField(blank=True)
    bank_name = models.CharField(max_length=100)
    iban = models.CharField("IBAN", max_length=34)
    bic = models.CharField("BIC", max_length=11, blank=True)
    logo = models.FileField(
        upload_to="company/",
        blank=True,
        validators=[FileExtensionValidator(["png", "jpg", "jpeg", "svg"])],
        help_text="PNG, JPEG or SVG; printed at the top of every document.",
    )
    legal_text = models.TextField(blank=True, help_text="Printed at the foot of every document.")
    payment_instructions = models.TextField(
        blank=True, help_text="Printed under the totals, e.g. 'Please quote the invoice number.'"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "invoicing_companyprofile"  # the table invoicing created; the model moved down to the kernel
        verbose_name = "company profile"
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="company_profile_single_row"),
            models.CheckConstraint(
                condition=Q(peppol_scheme="", peppol_id="") | (~Q(peppol_scheme="") & ~Q(peppol_id="")),
                name="company_peppol_scheme_with_id",
            ),
        ]

    def __str__(self) -> str:
        return self.legal_name


def validate_hex_colour(value: str) -> None:
    """A colour as #rrggbb, the one form WeasyPrint and every browser read alike."""
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", value or ""):
        raise ValidationError(f"{value!r} is not a colour in the form #rrggbb.", code="invalid_colour")


DOCUMENT_LOGO_MAX_BYTES = 512 * 1024


def validate_logo_size(file) -> None:
    """A logo small enough to embed in every document it prints on."""
    if file and file.size > DOCUMENT_LOGO_MAX_BYTES:
        raise ValidationError(
            f"The logo is {file.size // 1024} KB; at most {DOCUMENT_LOGO_MAX_BYTES // 1024} KB.", code="logo_too_large"
        )


@tracked()
class DocumentStyle(models.Model):
    """How the documents a customer receives look: logo, colours, font, texts per language and which
    optional columns and fields print. One style is the default; a customer group or a customer may
    use another (customer over group over default). A stored document keeps the look it was issued
    with: styles apply to documents rendered after the change."""

    name = models.CharField(max_length=100, unique=True)
    is_default = models.BooleanField(default=False, help_text="Used for customers with no style of their own.")
    logo = models.FileField(
        upload_to="document-styles/",
        blank=True,
        validators=[FileExtensionValidator(["png", "jpg", "jpeg", "svg"]), validate_logo_size],
        help_text="PNG, JPEG or SVG, at most 512 KB; empty: the company profile's logo.",
    )
    accent_colour = models.CharField(max_length=7, default="#1f2933", validators=[validate_hex_colour])
    text_colour = models.CharField(max_length=7, default="#1f2933", validators=[validate_hex_colour])
    font_family = models.CharField(max_length=60, default="DejaVu Sans", validators=[validate_font_family])
    header_text_en = models.TextField("header text (English)", blank=True)
    header_text_de = models.TextField("header text (German)", blank=True)
    header_text_fr = models.TextField("header text (French)", blank=True)
    footer_text_en = models.TextField("footer text (English)", blank=True)
    footer_text_de = models.TextField("footer text (German)", blank=True)
    footer_text_fr = models.TextField("footer text (French)", blank=True)
    payment_terms_en = models.TextField("payment terms text (English)", blank=True)
    payment_terms_de = models.TextField("payment terms text (German)", blank=True)
    payment_terms_fr = models.TextField("payment terms text (French)", blank=True)
    show_sku = models.BooleanField("SKU column", default=True)
    show_gtin = models.BooleanField("GTIN column", default=False)
    show_discount = models.BooleanField("discount column", default=True)
    show_unit = models.BooleanField("unit column", default=True)
    show_tax_rate = models.BooleanField("tax rate column", default=True)
    show_po_number = models.BooleanField("PO number", default=True)
    show_delivery_address = models.BooleanField("delivery address", default=True)
    show_customer_number = models.BooleanField("customer number", default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="one_default_style"),
            models.CheckConstraint(
                condition=Q(accent_colour__regex=r"^#[0-9a-fA-F]{6}$", text_colour__regex=r"^#[0-9a-fA-F]{6}$"),
                name="document_style_colours_hex",
            ),
        ]

    def __str__(self) -> str:
        return self.name
