"""Bank statements as the bank sent them: one row per statement and one per booked movement.

A statement is imported once: the same account, statement id and period, or the same file, is
refused by a unique constraint as well as by the import service (which names who imported it).
Lines are the raw material of cash application; the matching engine books a payment from a line
and links it, so a line is never applied twice.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from customers.validators import mask_iban, normalize_iban
from otc.audit import tracked
from otc.crypto import EncryptedBinaryField, EncryptedTextField
from otc.money import CurrencyField, MoneyField, quantize
from payments.models.payments import Payment


class StatementFormat(models.TextChoices):
    CAMT053 = "camt053", "ISO 20022 CAMT.053 (statement)"
    CAMT052 = "camt052", "ISO 20022 CAMT.052 (intraday account report)"
    CAMT054 = "camt054", "ISO 20022 CAMT.054 (debit/credit notification)"
    MT940 = "mt940", "SWIFT MT940"
    BAI2 = "bai2", "BAI2 (US banks, lockbox)"
    CSV = "csv", "CSV"


class StatementLineStatus(models.TextChoices):
    UNMATCHED = "unmatched", "Not matched yet"
    APPLIED = "applied", "Applied to a payment"
    IGNORED = "ignored", "Ignored"


@tracked()
class BankStatement(models.Model):
    """One account statement of one of the company's bank accounts, for one period."""

    bank_account = models.ForeignKey(
        "payments.CompanyBankAccount",
        on_delete=models.PROTECT,
        null=True,
        related_name="statements",
        help_text="The company's account the statement is of; empty only on statements imported before accounts "
        "were kept.",
    )
    account_iban = models.CharField(
        "account", max_length=34, help_text="The account's IBAN, or its bank code and number where it has none."
    )
    statement_id = models.CharField(max_length=35, help_text="The bank's statement id (CAMT Stmt/Id, MT940 :20:).")
    period_start = models.DateField()
    period_end = models.DateField()
    currency = CurrencyField()
    opening_balance = MoneyField(null=True, blank=True, help_text="Empty when the file carries no balances (CSV).")
    closing_balance = MoneyField(null=True, blank=True, help_text="Empty when the file carries no balances (CSV).")
    format = models.CharField(max_length=10, choices=StatementFormat.choices)
    file_sha256 = models.CharField(
        "file SHA-256", max_length=64, db_index=True, editable=False, help_text="Shared by the statements of one file."
    )
    filename = models.CharField(max_length=255)
    line_count = models.PositiveIntegerField()
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-period_end", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["account_iban", "statement_id", "period_start", "period_end"], name="bank_statement_once"
            ),
            models.CheckConstraint(condition=Q(period_start__lte=F("period_end")), name="bank_statement_period_valid"),
            models.CheckConstraint(condition=Q(format__in=StatementFormat.values), name="bank_statement_format_valid"),
            models.CheckConstraint(
                condition=Q(opening_balance__isnull=True, closing_balance__isnull=True)
                | Q(opening_balance__isnull=False, closing_balance__isnull=False),
                name="bank_statement_balances_both_or_none",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.statement_id} ({self.period_start}–{self.period_end})"


@tracked()
class BankStatementLine(models.Model):
    """One booked movement: credit positive, debit negative, in the statement's currency."""

    statement = models.ForeignKey(BankStatement, on_delete=models.CASCADE, related_name="lines")
    line_no = models.PositiveIntegerField(help_text="Position in the statement, from 1.")
    booking_date = models.DateField()
    value_date = models.DateField(null=True, blank=True)
    amount = MoneyField(help_text="Credit positive, debit negative.")
    currency = CurrencyField()
    counterparty_name = models.CharField(max_length=140, blank=True)
    counterparty_iban = EncryptedTextField(
        "counterparty IBAN",
        blank=True,
        null=True,
        validators=[normalize_iban],
        help_text="The payer's IBAN, encrypted at rest (in the history rows too); lists and the API show it masked.",
    )
    counterparty_iban_fingerprint = models.CharField(
        max_length=64,
        blank=True,
        editable=False,
        db_index=True,
        help_text="Keyed hash of the payer's IBAN, to find the customer who owns it without decrypting.",
    )
    counterparty_bic = models.CharField("counterparty BIC", max_length=11, blank=True)
    remittance_information = models.TextField(blank=True, help_text="Unstructured remittance text as sent.")
    structured_reference = models.CharField(
        max_length=35, blank=True, help_text="Structured creditor reference, e.g. an RF reference."
    )
    end_to_end_id = models.CharField("end-to-end id", max_length=140, blank=True)
    bank_reference = models.CharField(max_length=35, blank=True)
    status = models.CharField(max_length=10, choices=StatementLineStatus.choices, default=StatementLineStatus.UNMATCHED)
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="statement_lines"
    )
    applied_automatically = models.BooleanField(
        default=False, help_text="Applied by the matching engine on its own, with no clerk's decision (touchless)."
    )
    match_confidence = models.FloatField(
        null=True, blank=True, help_text="The matching engine's confidence in the proposal it applied on its own."
    )
    match_reasons = models.JSONField(
        default=list, blank=True, help_text="Why the matching engine applied the line, as a clerk reads it."
    )

    class Meta:
        ordering = ["statement", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["statement", "line_no"], name="bank_statement_line_once"),
            models.CheckConstraint(
                condition=Q(status__in=StatementLineStatus.values), name="bank_statement_line_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Line {self.line_no} of {self.booking_date}: {quantize(self.amount, self.currency)} {self.currency}"

    @property
    def counterparty_iban_masked(self) -> str:
        return mask_iban(self.counterparty_iban or "")


class UploadStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    IMPORTING = "importing", "Importing"
    RECONCILING = "reconciling", "Reconciling"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


UNFINISHED_UPLOAD = (UploadStatus.QUEUED, UploadStatus.IMPORTING, UploadStatus.RECONCILING)


class BankStatementUpload(models.Model):
    """A statement file too long to import and reconcile within a web request: stored (encrypted, in
    parts) when uploaded, then imported and reconciled by a worker, its progress counted batch by batch.

    The file is kept only until the upload is done or failed. One file is in progress (or done) at
    most once; a failed upload of it does not stop the next.
    """

    filename = models.CharField(max_length=255)
    format = models.CharField(max_length=10, choices=StatementFormat.choices)
    csv_layout = models.CharField("CSV layout", max_length=40, blank=True)
    csv_account_iban = models.CharField("CSV account IBAN", max_length=42, blank=True)
    csv_statement_id = models.CharField("CSV statement id", max_length=35, blank=True)
    csv_period_start = models.DateField("CSV period from", null=True, blank=True)
    csv_period_end = models.DateField("CSV period to", null=True, blank=True)
    file_sha256 = models.CharField("file SHA-256", max_length=64, editable=False)
    status = models.CharField(max_length=12, choices=UploadStatus.choices, default=UploadStatus.QUEUED)
    lines_read = models.PositiveIntegerField(default=0, help_text="Lines imported, of every statement in the file.")
    lines_reconciled = models.PositiveIntegerField(
        default=0, help_text="Lines the reconciliation has been through so far (applied, waiting or set aside)."
    )
    applied_automatically = models.PositiveIntegerField(default=0)
    waiting = models.PositiveIntegerField(default=0, help_text="Incoming lines left in the reconciliation queue.")
    set_aside = models.PositiveIntegerField(default=0, help_text="Outgoing lines ignored, and lines a clerk ignored.")
    error = models.TextField(blank=True, help_text="Why the upload failed, as the import or reconciliation said.")
    statements = models.ManyToManyField(BankStatement, blank=True, related_name="uploads")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    progressed_at = models.DateTimeField(help_text="When a worker last reported progress (or the upload was queued).")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=UploadStatus.values), name="statement_upload_status_valid"),
            models.CheckConstraint(
                condition=Q(format__in=StatementFormat.values), name="statement_upload_format_valid"
            ),
            models.CheckConstraint(
                condition=Q(lines_reconciled__lte=F("lines_read")), name="statement_upload_reconciles_what_it_read"
            ),
            models.UniqueConstraint(
                fields=["file_sha256"], condition=~Q(status=UploadStatus.FAILED), name="statement_upload_file_once"
            ),
        ]
        indexes = [
            models.Index(
                fields=["progressed_at"], condition=Q(status__in=UNFINISHED_UPLOAD), name="statement_upload_unfinished"
            )
        ]

    def __str__(self) -> str:
        return f"{self.filename} ({self.uploaded_at:%Y-%m-%d %H:%M})" if self.uploaded_at else self.filename

    @property
    def is_finished(self) -> bool:
        return self.status not in UNFINISHED_UPLOAD


class BankStatementUploadPart(models.Model):
    """One part of an upload's file, encrypted on its own, so that a worker reads the file a part at a
    time instead of decrypting it whole (payments.cash_application.upload_files). Kept until the upload
    is processed."""

    upload = models.ForeignKey(BankStatementUpload, on_delete=models.CASCADE, related_name="file_parts")
    number = models.PositiveIntegerField(help_text="From 0, in the order of the file.")
    content = EncryptedBinaryField(editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["upload", "number"], name="statement_upload_part_once")]

    def __str__(self) -> str:
        return f"{self.upload_id}/{self.number}"
