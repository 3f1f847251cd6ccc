"""Customer master data: the account, its contacts and addresses, credit profile, preferences,
bank accounts, four-eyes change requests, and portal membership."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _

from customers.validators import mask_iban, validate_country, validate_e164
from otc.audit import tracked
from otc.countries import COUNTRY_CHOICES
from otc.crypto import EncryptedTextField
from otc.eas import EAS_CHOICES
from otc.models import DocumentStyle
from otc.money import CurrencyField, MoneyField

CUSTOMER_NUMBER_SEQUENCE = "customers_customer_number_seq"


class CustomerStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    ON_HOLD = "on_hold", "On credit hold"
    BLOCKED = "blocked", "Blocked"


class RiskClass(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class ContactRole(models.TextChoices):
    BILLING = "billing", _("Billing")
    SHIPPING = "shipping", _("Shipping")
    PURCHASING = "purchasing", _("Purchasing")
    DUNNING = "dunning", _("Dunning")


class AddressKind(models.TextChoices):
    BILLING = "billing", _("Billing")
    SHIPPING = "shipping", _("Shipping")


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    PORTAL = "portal", _("Portal")
    POST = "post", _("Post")


class NotificationType(models.TextChoices):
    """Customer-facing notifications a customer may opt out of (legal notices are not listed)."""

    ORDER_CONFIRMATION = "order_confirmation", _("Order confirmation")
    SHIPMENT_NOTIFICATION = "shipment_notification", _("Shipment notification")
    PAYMENT_RECEIPT = "payment_receipt", _("Payment receipt")
    PAYMENT_REMINDER = "payment_reminder", _("Payment reminder before due date")
    SURVEY = "survey", _("Customer survey")
    NEWSLETTER = "newsletter", _("Newsletter")


class InvoiceDelivery(models.TextChoices):
    PDF_EMAIL = "pdf_email", _("PDF by email")
    E_INVOICE = "e_invoice", _("E-invoice (UBL / Factur-X)")
    XRECHNUNG = "xrechnung", _("XRechnung (German public sector)")
    PORTAL_ONLY = "portal_only", _("Portal only")


class InvoicingSchedule(models.TextChoices):
    PER_SHIPMENT = "per_shipment", "One invoice per shipment"
    WEEKLY = "weekly", "Consolidated weekly (shipments up to Sunday)"
    MONTHLY = "monthly", "Consolidated monthly (shipments of the month)"


class DocumentLayout(models.TextChoices):
    """Template variants of invoices, credit notes and statements (templates/documents/<layout>/)."""

    STANDARD = "standard", "Standard"
    COMPACT = "compact", "Compact (one page, small print)"
    DETAILED = "detailed", "Detailed (order, shipment, SKU and GTIN on every line)"


class FacturXProfile(models.TextChoices):
    """Factur-X profiles, from the least content to the full EN 16931 invoice: MINIMUM and BASIC WL carry
    no lines (the PDF stays the invoice for tax purposes), BASIC and EN 16931 carry every line."""

    MINIMUM = "minimum", "MINIMUM"
    BASIC_WL = "basicwl", "BASIC WL"
    BASIC = "basic", "BASIC"
    EN16931 = "en16931", "EN 16931"


def _choices_check(field: str, choices: type[models.TextChoices], name: str) -> models.CheckConstraint:
    return models.CheckConstraint(condition=Q(**{f"{field}__in": choices.values}), name=name)


@tracked()
class CustomerGroup(models.Model):
    """A segment of customers sharing a price list (wholesale, retail, distributors...)."""

    code = models.SlugField(max_length=30, unique=True)
    name = models.CharField(max_length=100)
    document_style = models.ForeignKey(
        DocumentStyle,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="customer_groups",
        help_text="Look of the documents its customers receive; empty: the default style.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


@tracked()
class Customer(models.Model):
    number = models.CharField(max_length=20, unique=True, editable=False)
    legal_name = models.CharField(max_length=200)
    trading_name = models.CharField(max_length=200, blank=True)
    country = models.CharField(max_length=2, choices=COUNTRY_CHOICES, validators=[validate_country])
    tax_id = models.CharField(
        "tax ID",
        max_length=32,
        blank=True,
        db_index=True,
        help_text="VAT ID (EU) or national tax number, validated for the country.",
    )
    peppol_scheme = models.CharField(
        "Peppol scheme",
        max_length=4,
        blank=True,
        choices=EAS_CHOICES,
        help_text="Electronic Address Scheme (EAS) of the customer's Peppol participant ID, e.g. 9930, 0208, 0088.",
    )
    peppol_id = models.CharField(
        "Peppol ID",
        max_length=100,
        blank=True,
        help_text="Identifier in that scheme; left empty, it is looked up from the VAT ID where the scheme allows.",
    )
    leitweg_id = models.CharField(
        "Leitweg-ID",
        max_length=46,
        blank=True,
        help_text="Buyer reference (BT-10) of a German public-sector buyer, e.g. 04011000-1234512345-06; "
        "XRechnung delivery needs it.",
    )
    # Indexed in Meta (prefix and trigram): a plain index as well would be a third copy to keep up to date.
    name_key = models.CharField(max_length=200, editable=False, help_text="Normalized name used to spot duplicates.")
    default_currency = CurrencyField(default="EUR")
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="en")
    payment_terms_days = models.PositiveSmallIntegerField(default=30)
    sales_rep = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="customers",
        limit_choices_to={"is_staff": True},
    )
    status = models.CharField(max_length=10, choices=CustomerStatus.choices, default=CustomerStatus.ACTIVE)
    group = models.ForeignKey(CustomerGroup, null=True, blank=True, on_delete=models.PROTECT, related_name="customers")
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            _choices_check("status", CustomerStatus, "customer_status_valid"),
            models.CheckConstraint(condition=Q(payment_terms_days__lte=365), name="customer_payment_terms_max_365"),
            models.CheckConstraint(
                condition=Q(peppol_scheme="", peppol_id="") | (~Q(peppol_scheme="") & ~Q(peppol_id="")),
                name="customer_peppol_scheme_with_id",
            ),
        ]
        # Prefix look-ups (LIKE 'abc%') and equal names for the duplicate guard and cash application.
        indexes = [
            models.Index(fields=["name_key"], name="customer_name_key_prefix", opclasses=["varchar_pattern_ops"]),
            GinIndex(fields=["name_key"], name="customer_name_key_trigram", opclasses=["gin_trgm_ops"]),
            # What list search uses (otc.search): numbers by their start (the varchar_pattern_ops index
            # Django gives every unique CharField), names and tax IDs by any part.
            GinIndex(OpClass(Upper("tax_id"), name="gin_trgm_ops"), name="customer_tax_id_trigram"),
            GinIndex(OpClass(Upper("legal_name"), name="gin_trgm_ops"), name="customer_legal_name_trigram"),
            GinIndex(OpClass(Upper("trading_name"), name="gin_trgm_ops"), name="customer_trading_name_trigram"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.display_name}"

    @property
    def display_name(self) -> str:
        return self.trading_name or self.legal_name


@tracked()
class CreditProfile(models.Model):
    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, primary_key=True, related_name="credit")
    credit_limit = MoneyField(default=0)
    credit_currency = CurrencyField(default="EUR")
    risk_class = models.CharField(max_length=10, choices=RiskClass.choices, default=RiskClass.MEDIUM)
    hold_reason = models.CharField(max_length=500, blank=True)
    hold_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    hold_set_at = models.DateTimeField(null=True, blank=True)
    review_date = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(credit_limit__gte=0), name="credit_limit_not_negative"),
            _choices_check("risk_class", RiskClass, "credit_risk_class_valid"),
        ]

    def __str__(self) -> str:
        return f"Credit profile of {self.customer_id}"


@tracked()
class Contact(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    email = models.EmailField()
    phone = models.CharField(max_length=40, blank=True)
    mobile = models.CharField(
        max_length=16, blank=True, validators=[validate_e164], help_text="For SMS, in E.164 form: +4915112345678."
    )
    sms_opt_in = models.BooleanField(
        "SMS wanted",
        default=False,
        help_text="The contact agreed to get notifications by SMS too (only those with an SMS template).",
    )
    roles = ArrayField(models.CharField(max_length=20, choices=ContactRole.choices), default=list, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(sms_opt_in=False) | ~Q(mobile=""),
                name="contact_sms_needs_mobile",
                violation_error_message="A contact who wants SMS needs a mobile number.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


@tracked()
class Address(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="addresses")
    kind = models.CharField(max_length=10, choices=AddressKind.choices)
    is_default = models.BooleanField(default=True)
    name = models.CharField(max_length=200, blank=True, help_text="Recipient, if not the customer's legal name.")
    line1 = models.CharField(max_length=200)
    line2 = models.CharField(max_length=200, blank=True)
    postal_code = models.CharField(max_length=20)
    city = models.CharField(max_length=100)
    region = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, choices=COUNTRY_CHOICES, validators=[validate_country])

    class Meta:
        verbose_name_plural = "addresses"
        ordering = ["kind", "-is_default", "pk"]
        constraints = [
            _choices_check("kind", AddressKind, "address_kind_valid"),
            models.UniqueConstraint(
                fields=["customer", "kind"], condition=Q(is_default=True), name="one_default_address_per_kind"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.line1}, {self.postal_code} {self.city}, {self.country}"


@tracked()
class Preferences(models.Model):
    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, primary_key=True, related_name="preferences")
    channels = ArrayField(models.CharField(max_length=10, choices=Channel.choices), default=list, blank=True)
    opt_outs = ArrayField(
        models.CharField(max_length=30, choices=NotificationType.choices),
        default=list,
        blank=True,
        help_text="Notification types the customer does not want.",
    )
    invoice_delivery = models.CharField(
        max_length=20, choices=InvoiceDelivery.choices, default=InvoiceDelivery.PDF_EMAIL
    )
    po_number_required = models.BooleanField("PO number required", default=False)
    portal_mfa_required = models.BooleanField(
        "two-factor sign-in required in the portal",
        default=False,
        help_text="Portal users must set up an authenticator app (TOTP) before they can use the portal.",
    )
    invoicing_schedule = models.CharField(
        max_length=20, choices=InvoicingSchedule.choices, default=InvoicingSchedule.PER_SHIPMENT
    )
    document_layout = models.CharField(
        max_length=20,
        choices=DocumentLayout.choices,
        default=DocumentLayout.STANDARD,
        help_text="Template variant of this customer's invoices, credit notes and statements.",
    )
    facturx_profile = models.CharField(
        "Factur-X profile",
        max_length=10,
        choices=FacturXProfile.choices,
        default=FacturXProfile.EN16931,
        help_text="How much of the invoice the XML inside its Factur-X PDF carries; EN 16931 is the full invoice.",
    )
    document_style = models.ForeignKey(
        DocumentStyle,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Look of this customer's documents; empty: the style of the customer's group, else the default.",
    )

    class Meta:
        verbose_name_plural = "preferences"
        constraints = [
            _choices_check("facturx_profile", FacturXProfile, "preferences_facturx_profile_valid"),
            _choices_check("invoice_delivery", InvoiceDelivery, "preferences_invoice_delivery_valid"),
            _choices_check("invoicing_schedule", InvoicingSchedule, "preferences_invoicing_schedule_valid"),
            _choices_check("document_layout", DocumentLayout, "preferences_document_layout_valid"),
        ]

    def __str__(self) -> str:
        return f"Preferences of {self.customer_id}"


@tracked()
class BankAccount(models.Model):
    """A customer's account; the IBAN is encrypted at rest and found through its fingerprint."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="bank_accounts")
    holder_name = models.CharField(max_length=200)
    iban = EncryptedTextField("IBAN")
    iban_fingerprint = models.CharField(max_length=64, editable=False, db_index=True)
    iban_masked = models.CharField("IBAN", max_length=20, editable=False)
    bic = models.CharField("BIC", max_length=11, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "iban_fingerprint"], name="bank_account_unique_per_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.iban_masked} ({self.holder_name})"


class ChangeRequestKind(models.TextChoices):
    CREDIT_LIMIT = "credit_limit", "Credit limit"
    BANK_ACCOUNT_ADD = "bank_account_add", "Add bank account"
    BANK_ACCOUNT_DEACTIVATE = "bank_account_deactivate", "Deactivate bank account"


class ChangeRequestStatus(models.TextChoices):
    PENDING = "pending", "Pending approval"
    APPROVED = "approved", "Approved and applied"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"


@tracked()
class ChangeRequest(models.Model):
    """Four eyes on sensitive customer data: one person proposes, another approves.

    `proposed` holds the non-secret part of the proposal; a proposed IBAN is kept encrypted apart.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="change_requests")
    kind = models.CharField(max_length=30, choices=ChangeRequestKind.choices)
    proposed = models.JSONField(default=dict)
    proposed_iban = EncryptedTextField("proposed IBAN", blank=True, null=True)
    bank_account = models.ForeignKey(BankAccount, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=500)
    status = models.CharField(max_length=10, choices=ChangeRequestStatus.choices, default=ChangeRequestStatus.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        permissions = [("approve_changerequest", "Can approve or reject change requests")]
        constraints = [
            _choices_check("kind", ChangeRequestKind, "change_request_kind_valid"),
            _choices_check("status", ChangeRequestStatus, "change_request_status_valid"),
            models.CheckConstraint(condition=~Q(decided_by=F("requested_by")), name="change_request_four_eyes"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "withdrawn"], decided_at__isnull=True)
                | Q(status__in=["approved", "rejected"], decided_by__isnull=False, decided_at__isnull=False),
                name="change_request_decision_recorded",
            ),
        ]
        indexes = [models.Index(fields=["status", "-requested_at"], name="change_request_queue")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.customer_id} ({self.get_status_display()})"

    @property
    def proposed_iban_masked(self) -> str:
        return mask_iban(self.proposed_iban or "")


class PortalRole(models.TextChoices):
    """What a portal user may do for their company: order, settle invoices, or manage the account."""

    BUYER = "buyer", _("Buyer (orders)")
    ACCOUNTS_PAYABLE = "accounts_payable", _("Accounts payable (invoices, payments, disputes)")
    ADMIN = "admin", _("Admin (users and profile)")


ALL_PORTAL_ROLES = [role.value for role in PortalRole]


def portal_role_labels(roles: list[str]) -> list[str]:
    """Short role names for lists: "Buyer", "Accounts payable", "Admin"."""
    labels = dict(PortalRole.choices)
    return [str(labels.get(role, role)).split(" (")[0] for role in roles]


def _roles_check(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(condition=Q(roles__contained_by=ALL_PORTAL_ROLES) & ~Q(roles=[]), name=name)


@tracked()
class PortalMembership(models.Model):
    """Makes a user a portal user of exactly one customer, with the roles they hold there."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="portal_membership")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="portal_members")
    roles = ArrayField(models.CharField(max_length=20, choices=PortalRole.choices), default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [_roles_check("portal_membership_roles_valid")]

    def __str__(self) -> str:
        return f"{self.user} → {self.customer}"

    @property
    def role_labels(self) -> list[str]:
        return portal_role_labels(self.roles)


class InvitationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    REVOKED = "revoked", "Revoked"


@tracked()
class PortalInvitation(models.Model):
    """An invitation to the portal: the emailed link carries a signature over the id and `nonce`, so a
    resend (new nonce) kills the previous link, and the link works once, until `expires_at`."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="portal_invitations")
    email = models.EmailField()
    full_name = models.CharField(max_length=200, blank=True)
    roles = ArrayField(models.CharField(max_length=20, choices=PortalRole.choices))
    status = models.CharField(max_length=10, choices=InvitationStatus.choices, default=InvitationStatus.PENDING)
    nonce = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    sent_count = models.PositiveSmallIntegerField(default=1)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_sent_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            _choices_check("status", InvitationStatus, "portal_invitation_status_valid"),
            _roles_check("portal_invitation_roles_valid"),
            models.UniqueConstraint(
                "customer",
                "email",
                condition=Q(status="pending"),
                name="portal_invitation_one_pending_per_email",
            ),
        ]

    def __str__(self) -> str:
        return f"Invitation of {self.email} to {self.customer}"

    @property
    def role_labels(self) -> list[str]:
        return portal_role_labels(self.roles)


TAG_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,39}$"


@tracked()
class CustomerTag(models.Model):
    """A short label on a customer ("vip", "new-de", "slow-payer"), added by staff or by an automation
    rule, so lists, reports and rules can pick such customers out."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=40, help_text="Lower case letters, digits, - and _; e.g. vip or new-de.")
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "name"], name="customer_tag_once_per_customer"),
            models.CheckConstraint(condition=Q(name__regex=TAG_PATTERN), name="customer_tag_name_valid"),
        ]
        indexes = [models.Index(fields=["name"], name="customer_tag_name")]

    def __str__(self) -> str:
        return self.name


class CustomerBehaviour(models.Model):
    """How a customer pays, as analytics last scored it: its RFM segment and the days late its next
    payment is predicted to be. Analytics (above every app) writes it; rules and screens below read it."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, primary_key=True, related_name="behaviour")
    segment = models.CharField(max_length=40, blank=True)
    predicted_days_late = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    scored_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "customer behaviour"

    def __str__(self) -> str:
        return f"Behaviour of {self.customer_id}: {self.segment or 'no segment'}"
