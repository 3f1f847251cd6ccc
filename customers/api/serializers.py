"""Input serializers parse and check the shape of a request (unknown fields are errors); output
serializers render. Business rules (tax IDs, duplicates, IBANs, four eyes) live in the services."""

from decimal import Decimal

from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from customers.models import (
    Address,
    AddressKind,
    BankAccount,
    ChangeRequest,
    ChangeRequestKind,
    Channel,
    Contact,
    ContactRole,
    CreditProfile,
    Customer,
    CustomerGroup,
    DocumentLayout,
    FacturXProfile,
    InvoiceDelivery,
    InvoicingSchedule,
    NotificationType,
    Preferences,
    RiskClass,
)
from otc.api.serializers import AmountField, StrictSerializer, currency_field
from otc.countries import COUNTRY_CHOICES
from otc.eas import EAS_CHOICES
from otc.models import User

# Audit diffs of these columns hold ciphertext or fingerprints of bank details: never shown.
SECRET_COLUMNS = frozenset({"iban", "iban_fingerprint", "proposed_iban"})


def country_field(**kwargs) -> serializers.ChoiceField:
    return serializers.ChoiceField(
        choices=COUNTRY_CHOICES,
        error_messages={"invalid_choice": "{input} is not a known ISO 3166 country code."},
        **kwargs,
    )


# Input


class ContactWriteSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200)
    email = serializers.EmailField(max_length=254)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    roles = serializers.ListField(child=serializers.ChoiceField(choices=ContactRole.choices), required=False)
    is_active = serializers.BooleanField(required=False)


class AddressWriteSerializer(StrictSerializer):
    kind = serializers.ChoiceField(choices=AddressKind.choices)
    is_default = serializers.BooleanField(required=False)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    line1 = serializers.CharField(max_length=200)
    line2 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    postal_code = serializers.CharField(max_length=20)
    city = serializers.CharField(max_length=100)
    region = serializers.CharField(max_length=100, required=False, allow_blank=True)
    country = country_field()


class PreferencesWriteSerializer(StrictSerializer):
    channels = serializers.ListField(child=serializers.ChoiceField(choices=Channel.choices), required=False)
    opt_outs = serializers.ListField(child=serializers.ChoiceField(choices=NotificationType.choices), required=False)
    invoice_delivery = serializers.ChoiceField(choices=InvoiceDelivery.choices, required=False)
    po_number_required = serializers.BooleanField(required=False)
    portal_mfa_required = serializers.BooleanField(
        required=False, help_text="Portal users must set up an authenticator app (TOTP) before using the portal."
    )
    invoicing_schedule = serializers.ChoiceField(choices=InvoicingSchedule.choices, required=False)
    document_layout = serializers.ChoiceField(choices=DocumentLayout.choices, required=False)
    facturx_profile = serializers.ChoiceField(choices=FacturXProfile.choices, required=False)


class CustomerWriteSerializer(StrictSerializer):
    """The customer's own fields; PATCH takes any subset of them."""

    legal_name = serializers.CharField(max_length=200)
    trading_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    country = country_field()
    tax_id = serializers.CharField(
        max_length=40, required=False, allow_blank=True, help_text="VAT ID (EU) or national tax number."
    )
    peppol_scheme = serializers.CharField(
        max_length=4,
        required=False,
        allow_blank=True,
        help_text="Peppol Electronic Address Scheme (EAS), e.g. 9930 (German VAT ID), 0088 (GLN).",
    )
    peppol_id = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        help_text="Peppol participant identifier in that scheme; empty to look it up from the VAT ID.",
    )
    leitweg_id = serializers.CharField(
        max_length=46,
        required=False,
        allow_blank=True,
        help_text="Leitweg-ID of a German public-sector buyer (XRechnung buyer reference, BT-10), "
        "e.g. 04011000-1234512345-06; check digits are verified.",
    )
    default_currency = currency_field(required=False)
    language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False)
    payment_terms_days = serializers.IntegerField(min_value=0, max_value=365, required=False)
    sales_rep = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_staff=True, is_active=True), required=False, allow_null=True
    )
    group = serializers.PrimaryKeyRelatedField(
        queryset=CustomerGroup.objects.all(), required=False, allow_null=True, help_text="Customer group (pricing)."
    )
    notes = serializers.CharField(required=False, allow_blank=True)


class CustomerCreateSerializer(CustomerWriteSerializer):
    """A new customer with its contacts, addresses and preferences. A credit limit is never set here:
    it goes through a change request."""

    contacts = ContactWriteSerializer(many=True, required=False)
    addresses = AddressWriteSerializer(many=True, required=False)
    preferences = PreferencesWriteSerializer(required=False)
    confirm_duplicate = serializers.BooleanField(
        required=False, help_text="Create even though a customer with this tax ID or a near-identical name exists."
    )


class CreditHoldSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=500)


# Which kind-specific fields a change request takes: (required, optional).
CHANGE_REQUEST_FIELDS = {
    ChangeRequestKind.CREDIT_LIMIT: ({"credit_limit"}, {"currency"}),
    ChangeRequestKind.BANK_ACCOUNT_ADD: ({"holder_name", "iban"}, {"bic"}),
    ChangeRequestKind.BANK_ACCOUNT_DEACTIVATE: ({"bank_account"}, set()),
}
_KIND_SPECIFIC = set().union(*(required | optional for required, optional in CHANGE_REQUEST_FIELDS.values()))


class ChangeRequestCreateSerializer(StrictSerializer):
    """A proposed change to a credit limit or to bank details; another person approves it."""

    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.all())
    kind = serializers.ChoiceField(choices=ChangeRequestKind.choices)
    reason = serializers.CharField(max_length=500)
    credit_limit = serializers.DecimalField(
        max_digits=19, decimal_places=4, min_value=0, required=False, help_text="kind credit_limit"
    )
    currency = currency_field(required=False, help_text="kind credit_limit; default: the current credit currency")
    holder_name = serializers.CharField(max_length=200, required=False, help_text="kind bank_account_add")
    iban = serializers.CharField(max_length=64, required=False, help_text="kind bank_account_add")
    bic = serializers.CharField(max_length=20, required=False, allow_blank=True, help_text="kind bank_account_add")
    bank_account = serializers.PrimaryKeyRelatedField(
        queryset=BankAccount.objects.all(), required=False, help_text="kind bank_account_deactivate"
    )

    def validate(self, data):
        kind = data["kind"]
        required, optional = CHANGE_REQUEST_FIELDS[kind]
        errors = {name: [f"Required for kind {kind}."] for name in sorted(required) if name not in data}
        errors |= {
            name: [f"Not used for kind {kind}."]
            for name in sorted(_KIND_SPECIFIC - required - optional)
            if name in data
        }
        account = data.get("bank_account")
        if account is not None and account.customer_id != data["customer"].pk:
            errors["bank_account"] = ["This bank account belongs to another customer."]
        if errors:
            raise serializers.ValidationError(errors)
        return data


class ApprovalSerializer(StrictSerializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class RejectionSerializer(StrictSerializer):
    note = serializers.CharField(max_length=500, help_text="Why the change is rejected.")


# Output


class ContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ["id", "customer", "name", "email", "phone", "roles", "is_active"]
        read_only_fields = fields


class AddressSerializer(serializers.ModelSerializer):
    class Meta:
        model = Address
        fields = [
            "id",
            "customer",
            "kind",
            "is_default",
            "name",
            "line1",
            "line2",
            "postal_code",
            "city",
            "region",
            "country",
        ]
        read_only_fields = fields


class PreferencesSerializer(serializers.ModelSerializer):
    class Meta:
        model = Preferences
        fields = [
            "customer",
            "channels",
            "opt_outs",
            "invoice_delivery",
            "po_number_required",
            "portal_mfa_required",
            "invoicing_schedule",
            "document_layout",
            "facturx_profile",
        ]
        read_only_fields = fields


class BankAccountSerializer(serializers.ModelSerializer):
    """Masked only: the plaintext IBAN never leaves the server."""

    class Meta:
        model = BankAccount
        fields = ["id", "customer", "holder_name", "iban_masked", "bic", "is_active", "created_at"]
        read_only_fields = fields


class CreditProfileSerializer(serializers.ModelSerializer):
    credit_limit = AmountField(currency_field="credit_currency")
    risk_class = serializers.ChoiceField(choices=RiskClass.choices, read_only=True)

    class Meta:
        model = CreditProfile
        fields = [
            "credit_limit",
            "credit_currency",
            "risk_class",
            "hold_reason",
            "hold_set_by",
            "hold_set_at",
            "review_date",
        ]
        read_only_fields = fields


class CustomerSerializer(serializers.ModelSerializer):
    credit = CreditProfileSerializer(read_only=True)
    # Read-only choice fields lose allow_blank, and the schema then refuses the "" of a customer
    # without a Peppol ID.
    peppol_scheme = serializers.ChoiceField(choices=EAS_CHOICES, allow_blank=True, read_only=True)

    class Meta:
        model = Customer
        fields = [
            "id",
            "number",
            "legal_name",
            "trading_name",
            "country",
            "tax_id",
            "peppol_scheme",
            "peppol_id",
            "leitweg_id",
            "default_currency",
            "language",
            "payment_terms_days",
            "sales_rep",
            "group",
            "status",
            "notes",
            "credit",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CustomerDetailSerializer(CustomerSerializer):
    preferences = PreferencesSerializer(read_only=True)
    contacts = ContactSerializer(many=True, read_only=True)
    addresses = AddressSerializer(many=True, read_only=True)
    bank_accounts = BankAccountSerializer(many=True, read_only=True)

    class Meta(CustomerSerializer.Meta):
        fields = [*CustomerSerializer.Meta.fields, "preferences", "contacts", "addresses", "bank_accounts"]
        read_only_fields = fields


class TimelineWhatSerializer(serializers.Serializer):
    label = serializers.CharField(source="pgh_label", help_text="insert, update or delete")
    model = serializers.CharField(source="pgh_obj_model", help_text="e.g. customers.Customer")
    object_id = serializers.CharField(source="pgh_obj_id", allow_null=True)


class TimelineActorSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="user", allow_null=True, default=None)
    email = serializers.CharField(source="user_email", default="")


class TimelineEntrySerializer(serializers.Serializer):
    when = serializers.DateTimeField(source="pgh_created_at")
    what = TimelineWhatSerializer(source="*")
    diff = serializers.SerializerMethodField(
        help_text="{field: [before, after]}; numbers as decimal strings with the column's places; "
        "bank details are left out."
    )
    actor = TimelineActorSerializer(source="pgh_context", allow_null=True)
    reason = serializers.CharField(source="pgh_context.reason", default="")

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_diff(self, event) -> dict | None:
        if event.pgh_diff is None:
            return None
        model = apps.get_model(event.pgh_obj_model)
        return {
            name: [_exact(model, name, value) for value in change]
            for name, change in event.pgh_diff.items()
            if name not in SECRET_COLUMNS
        }


def _exact(model: type[models.Model], column: str, value):
    """The audit diff comes from jsonb, where numbers arrive as floats: the API gives them as decimal
    strings with the places of their column ("15000.5000" for a numeric(18, 4)), never as floats."""
    if not isinstance(value, float):
        return value
    number = Decimal(repr(value))
    try:
        places = getattr(model._meta.get_field(column), "decimal_places", None)
    except FieldDoesNotExist:
        places = None
    return str(number if places is None else number.quantize(Decimal(1).scaleb(-places)))


class ChangeRequestSerializer(serializers.ModelSerializer):
    """The proposal as the approver sees it: a proposed IBAN appears masked only."""

    proposed = serializers.JSONField(
        read_only=True, help_text="credit_limit + currency, or holder_name, bic, iban_masked"
    )

    class Meta:
        model = ChangeRequest
        fields = [
            "id",
            "customer",
            "kind",
            "status",
            "proposed",
            "bank_account",
            "reason",
            "requested_by",
            "requested_at",
            "decided_by",
            "decided_at",
            "decision_note",
        ]
        read_only_fields = fields
