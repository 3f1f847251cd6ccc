"""Serializers of the reconciliation API: bank statement upload, statement lines with their ranked
proposals, a clerk's decisions on a line. Input serializers check the
shape (unknown fields are errors); payments.cash_application.services checks the rules."""

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from orders.api.serializers import CustomerRefSerializer
from otc.api.serializers import AmountField, OptionalAmountField, StrictSerializer
from otc.uploads import megabytes
from payments.cash_application.bank_formats.csv_layout import CSV_LAYOUTS
from payments.models import (
    BankStatement,
    BankStatementLine,
    BankStatementUpload,
    StatementFormat,
    StatementLineStatus,
    UploadStatus,
)
from payments.money.api.serializers import (
    AllocationCreateSerializer,
    ApplicationInputSerializer,
    customer_field,
)

# Input


class StatementUploadSerializer(StrictSerializer):
    """multipart/form-data: the bank's file as it came, and for CSV what the file does not say."""

    file = serializers.FileField(help_text=f"The statement file, at most {megabytes(settings.OTC_MAX_UPLOAD_BYTES)}.")
    format = serializers.ChoiceField(choices=StatementFormat.choices)
    csv_layout = serializers.ChoiceField(
        choices=[(name, name) for name in CSV_LAYOUTS],
        required=False,
        default="generic",
        help_text="CSV only: which bank's column layout.",
    )
    account_iban = serializers.CharField(
        max_length=42, required=False, allow_blank=True, default="", help_text="CSV only (required): the account."
    )
    statement_id = serializers.CharField(
        max_length=35,
        required=False,
        allow_blank=True,
        default="",
        help_text="CSV only: the bank's statement id. Default: the period as YYYYMMDD-YYYYMMDD.",
    )
    period_start = serializers.DateField(required=False, default=None, help_text="CSV only; with `period_end`.")
    period_end = serializers.DateField(
        required=False, default=None, help_text="CSV only. Default: the first to the last booking date."
    )

    def validate_file(self, file):
        if file.size > settings.OTC_MAX_UPLOAD_BYTES:
            raise serializers.ValidationError(f"At most {megabytes(settings.OTC_MAX_UPLOAD_BYTES)}.")
        return file

    def validate(self, data: dict) -> dict:
        if (data["period_start"] is None) != (data["period_end"] is None):
            raise serializers.ValidationError({"period_end": ["Give both period_start and period_end, or neither."]})
        if data["format"] == StatementFormat.CSV and not data["account_iban"].strip():
            raise serializers.ValidationError({"account_iban": ["A CSV statement needs the account's IBAN."]})
        return data


class AcceptProposalSerializer(StrictSerializer):
    rank = serializers.IntegerField(min_value=1, help_text="The proposal's rank as listed, 1 = best.")
    invoices = serializers.ListField(
        child=serializers.CharField(max_length=20),
        required=False,
        help_text=(
            "Optional: the proposal's invoice numbers as shown. If the proposal of that rank now names "
            "other invoices, nothing is applied: 409 `proposals_changed`."
        ),
    )


class LineApplySerializer(StrictSerializer):
    customer = customer_field()
    applications = ApplicationInputSerializer(
        many=True, required=False, default=list, help_text="Empty: the money stays on the customer's account."
    )

    validate_applications = AllocationCreateSerializer.validate_applications


class ReasonSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=300, help_text="Why; kept in the audit trail.")


class ReconciliationCountsSerializer(serializers.Serializer):
    applied = serializers.IntegerField(read_only=True, help_text="Lines applied automatically.")
    queued = serializers.IntegerField(read_only=True, help_text="Incoming lines left for a clerk.")
    ignored = serializers.IntegerField(read_only=True, help_text="Outgoing lines set aside.")


class LineCountsSerializer(serializers.Serializer):
    unmatched = serializers.IntegerField(read_only=True)
    applied = serializers.IntegerField(read_only=True)
    ignored = serializers.IntegerField(read_only=True)


class BankStatementSerializer(serializers.ModelSerializer):
    format = serializers.ChoiceField(choices=StatementFormat.choices, read_only=True)
    opening_balance = OptionalAmountField(currency_field="currency", help_text="Null when the file has none (CSV).")
    closing_balance = OptionalAmountField(currency_field="currency", help_text="Null when the file has none (CSV).")
    imported_by = serializers.StringRelatedField(read_only=True)
    lines_by_status = serializers.SerializerMethodField()

    class Meta:
        model = BankStatement
        fields = [
            "id",
            "account_iban",
            "statement_id",
            "period_start",
            "period_end",
            "currency",
            "opening_balance",
            "closing_balance",
            "format",
            "filename",
            "line_count",
            "lines_by_status",
            "imported_by",
            "imported_at",
        ]
        read_only_fields = fields

    @extend_schema_field(LineCountsSerializer)
    def get_lines_by_status(self, statement: BankStatement) -> dict[str, int]:
        return {
            "unmatched": statement.unmatched_lines,
            "applied": statement.applied_lines,
            "ignored": statement.ignored_lines,
        }


class ProposalSerializer(serializers.Serializer):
    """Apply `amounts` of the line to `invoices` (parallel lists) of the customer."""

    rank = serializers.IntegerField(read_only=True, help_text="1 = best; accept it by this rank.")
    customer = CustomerRefSerializer(read_only=True)
    invoices = serializers.ListField(child=serializers.CharField(), read_only=True, help_text="Invoice numbers.")
    amounts = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text='Applied to each invoice: decimal strings in the line\'s currency minor units ("119.00").',
    )
    confidence = serializers.DecimalField(
        max_digits=3, decimal_places=2, read_only=True, help_text="0.00 to 0.99, as a decimal string."
    )
    reasons = serializers.ListField(child=serializers.CharField(), read_only=True, help_text="Why, for the clerk.")
    difference = serializers.CharField(
        read_only=True,
        help_text="Line amount less the invoices' open total: negative paid short, positive left as credit.",
    )
    write_off = serializers.BooleanField(read_only=True, help_text="The short rest of the last invoice is written off.")


class BankStatementLineSerializer(serializers.ModelSerializer):
    """A booked movement as the bank reported it, and what became of it."""

    statement = serializers.PrimaryKeyRelatedField(read_only=True)
    amount = AmountField(currency_field="currency", help_text="Credit positive, debit negative.")
    status = serializers.ChoiceField(choices=StatementLineStatus.choices, read_only=True)
    payment = serializers.SlugRelatedField(
        slug_field="number", read_only=True, allow_null=True, help_text="The payment booked from the line."
    )
    proposals = serializers.SerializerMethodField(
        help_text="Ranked, best first, worked out now; empty unless the line is unmatched and incoming."
    )
    counterparty_iban = serializers.CharField(
        source="counterparty_iban_masked",
        read_only=True,
        help_text="The payer's IBAN masked to its country, check digits and last four (DE89 •••• 3000).",
    )

    class Meta:
        model = BankStatementLine
        fields = [
            "id",
            "statement",
            "line_no",
            "booking_date",
            "value_date",
            "amount",
            "currency",
            "counterparty_name",
            "counterparty_iban",
            "counterparty_bic",
            "remittance_information",
            "structured_reference",
            "end_to_end_id",
            "bank_reference",
            "status",
            "payment",
            "proposals",
        ]
        read_only_fields = fields

    @extend_schema_field(ProposalSerializer(many=True))
    def get_proposals(self, line: BankStatementLine) -> list[dict]:
        return ProposalSerializer(self.context["proposals"].get(line.pk, []), many=True).data


class BankStatementDetailSerializer(BankStatementSerializer):
    lines = BankStatementLineSerializer(many=True, read_only=True, help_text="In statement order.")

    class Meta(BankStatementSerializer.Meta):
        fields = [*BankStatementSerializer.Meta.fields, "lines"]
        read_only_fields = fields


class BankStatementImportedSerializer(BankStatementDetailSerializer):
    reconciliation = ReconciliationCountsSerializer(read_only=True, help_text="What reconciling right away did.")
    file_statements = serializers.SerializerMethodField(
        help_text="Every statement the file held (banks export several accounts or days in one file), this one first."
    )

    class Meta(BankStatementDetailSerializer.Meta):
        fields = [*BankStatementDetailSerializer.Meta.fields, "reconciliation", "file_statements"]
        read_only_fields = fields

    @extend_schema_field(BankStatementSerializer(many=True))
    def get_file_statements(self, statement: BankStatement) -> list[dict]:
        return BankStatementSerializer(self.context["file_statements"], many=True).data


class BankStatementUploadSerializer(serializers.ModelSerializer):
    """A long statement file being imported and reconciled by a worker, and how far it got."""

    format = serializers.ChoiceField(choices=StatementFormat.choices, read_only=True)
    status = serializers.ChoiceField(
        choices=UploadStatus.choices,
        read_only=True,
        help_text="queued, importing, reconciling, then done; failed when the file was refused (see `error`).",
    )
    statements = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True, help_text="The statements imported from the file (ids), once imported."
    )
    uploaded_by = serializers.StringRelatedField(read_only=True)

    class Meta:
        model = BankStatementUpload
        fields = [
            "id",
            "filename",
            "format",
            "status",
            "lines_read",
            "lines_reconciled",
            "applied_automatically",
            "waiting",
            "set_aside",
            "error",
            "statements",
            "uploaded_by",
            "uploaded_at",
            "finished_at",
        ]
        read_only_fields = fields
