"""The receivables ledger moves out of invoicing with its data: the tables are taken over as they
are (state only), given their open items (one per issued document; each receivable line names the
item it raises or settles, a credit note's line split into what it settled on the credited invoice
and what stays open on the note), renamed to ledger_*, and their triggers installed again under the
new names (invoicing 0003 removed them)."""

import django.db.models.deletion
import otc.money
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models

ITEMS_FROM_INVOICES = """
INSERT INTO ledger_openitem (customer_id, kind, document_id, reference, currency, issued_on, due_on)
SELECT customer_id, kind, id, number, currency, issue_date, COALESCE(due_date, issue_date)
  FROM invoicing_invoice WHERE status <> 'draft';

UPDATE invoicing_journalentry e SET item_id = i.id FROM ledger_openitem i WHERE i.document_id = e.invoice_id;

UPDATE invoicing_journalline l SET item_id = e.item_id
  FROM invoicing_journalentry e, invoicing_ledgeraccount a
 WHERE l.entry_id = e.id AND a.id = l.account_id AND a.role = 'receivable' AND e.kind <> 'credit_note';

CREATE TEMPORARY TABLE credit_applied ON COMMIT DROP AS
SELECT l.id AS line_id, e.item_id AS note_item_id, i.id AS invoice_item_id,
       n.gross_total - n.open_amount AS applied,
       ROUND((n.gross_total - n.open_amount) * n.exchange_rate, 2) AS applied_company
  FROM invoicing_journalline l
  JOIN invoicing_journalentry e ON e.id = l.entry_id
  JOIN invoicing_ledgeraccount a ON a.id = l.account_id
  JOIN invoicing_invoice n ON n.id = e.invoice_id
  JOIN ledger_openitem i ON i.document_id = n.credited_invoice_id
 WHERE e.kind = 'credit_note' AND a.role = 'receivable';

INSERT INTO invoicing_journalline (entry_id, account_id, customer_id, currency, amount, amount_company, item_id)
SELECT l.entry_id, l.account_id, l.customer_id, l.currency, -c.applied, -c.applied_company, c.invoice_item_id
  FROM credit_applied c JOIN invoicing_journalline l ON l.id = c.line_id
 WHERE c.applied > 0;

UPDATE invoicing_journalline l
   SET amount = l.amount + c.applied, amount_company = l.amount_company + c.applied_company, item_id = c.note_item_id
  FROM credit_applied c WHERE l.id = c.line_id;

DELETE FROM invoicing_journalline WHERE amount = 0 AND amount_company = 0;
"""


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("invoicing", "0003_ledger_moves_out"),
        ("customers", "0004_invoicing_preferences"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="LedgerAccount",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("code", models.CharField(max_length=10, unique=True)),
                        ("name", models.CharField(max_length=100)),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("asset", "Asset"),
                                    ("liability", "Liability"),
                                    ("income", "Income"),
                                    ("expense", "Expense"),
                                ],
                                max_length=10,
                            ),
                        ),
                        (
                            "role",
                            models.CharField(
                                choices=[
                                    ("receivable", "Trade receivables"),
                                    ("revenue", "Revenue"),
                                    ("tax_payable", "VAT payable"),
                                    ("cash", "Bank"),
                                    ("customer_credit", "Unapplied customer payments"),
                                    ("write_off", "Write-offs"),
                                    ("bank_fees", "Bank fees"),
                                    ("fee_income", "Dunning fees and interest"),
                                ],
                                max_length=20,
                                unique=True,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "invoicing_ledgeraccount",
                        "ordering": ["code"],
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(("kind__in", ["asset", "liability", "income", "expense"])),
                                name="account_kind_valid",
                            )
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="JournalEntry",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("posted_on", models.DateField()),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("invoice", "Invoice issued"),
                                    ("credit_note", "Credit note issued"),
                                    ("payment", "Payment received"),
                                    ("allocation", "Payment allocated"),
                                    ("write_off", "Write-off"),
                                    ("refund", "Refund"),
                                    ("fee", "Fee or interest"),
                                    ("reversal", "Reversal"),
                                ],
                                max_length=12,
                            ),
                        ),
                        ("memo", models.CharField(max_length=300)),
                        (
                            "source",
                            models.CharField(blank=True, db_index=True, help_text="e.g. payment:42", max_length=60),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "created_by",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "reverses",
                            models.OneToOneField(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="reversed_by",
                                to="ledger.journalentry",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "invoicing_journalentry",
                        "verbose_name_plural": "journal entries",
                        "ordering": ["-pk"],
                        "permissions": [("view_ledger", "Can browse the journal and trial balance")],
                    },
                ),
                migrations.CreateModel(
                    name="JournalLine",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "currency",
                            otc.money.CurrencyField(
                                choices=[
                                    ("AED", "AED"),
                                    ("ARS", "ARS"),
                                    ("AUD", "AUD"),
                                    ("BGN", "BGN"),
                                    ("BHD", "BHD"),
                                    ("BIF", "BIF"),
                                    ("BRL", "BRL"),
                                    ("CAD", "CAD"),
                                    ("CHF", "CHF"),
                                    ("CLF", "CLF"),
                                    ("CLP", "CLP"),
                                    ("CNY", "CNY"),
                                    ("CZK", "CZK"),
                                    ("DJF", "DJF"),
                                    ("DKK", "DKK"),
                                    ("EGP", "EGP"),
                                    ("EUR", "EUR"),
                                    ("GBP", "GBP"),
                                    ("GNF", "GNF"),
                                    ("HKD", "HKD"),
                                    ("HUF", "HUF"),
                                    ("IDR", "IDR"),
                                    ("ILS", "ILS"),
                                    ("INR", "INR"),
                                    ("IQD", "IQD"),
                                    ("ISK", "ISK"),
                                    ("JOD", "JOD"),
                                    ("JPY", "JPY"),
                                    ("KMF", "KMF"),
                                    ("KRW", "KRW"),
                                    ("KWD", "KWD"),
                                    ("LYD", "LYD"),
                                    ("MAD", "MAD"),
                                    ("MXN", "MXN"),
                                    ("MYR", "MYR"),
                                    ("NGN", "NGN"),
                                    ("NOK", "NOK"),
                                    ("NZD", "NZD"),
                                    ("OMR", "OMR"),
                                    ("PEN", "PEN"),
                                    ("PHP", "PHP"),
                                    ("PKR", "PKR"),
                                    ("PLN", "PLN"),
                                    ("PYG", "PYG"),
                                    ("QAR", "QAR"),
                                    ("RON", "RON"),
                                    ("RSD", "RSD"),
                                    ("RWF", "RWF"),
                                    ("SAR", "SAR"),
                                    ("SEK", "SEK"),
                                    ("SGD", "SGD"),
                                    ("THB", "THB"),
                                    ("TND", "TND"),
                                    ("TRY", "TRY"),
                                    ("TWD", "TWD"),
                                    ("UAH", "UAH"),
                                    ("UGX", "UGX"),
                                    ("USD", "USD"),
                                    ("UYI", "UYI"),
                                    ("UYW", "UYW"),
                                    ("VND", "VND"),
                                    ("VUV", "VUV"),
                                    ("XAF", "XAF"),
                                    ("XOF", "XOF"),
                                    ("XPF", "XPF"),
                                    ("ZAR", "ZAR"),
                                ],
                                max_length=3,
                                validators=[otc.money.validate_currency],
                            ),
                        ),
                        ("amount", otc.money.MoneyField(decimal_places=4, max_digits=19)),
                        ("amount_company", otc.money.MoneyField(decimal_places=4, max_digits=19)),
                        (
                            "customer",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="customers.customer",
                            ),
                        ),
                        (
                            "entry",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="lines",
                                to="ledger.journalentry",
                            ),
                        ),
                        (
                            "account",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="lines",
                                to="ledger.ledgeraccount",
                            ),
                        ),
                    ],
                    options={"db_table": "invoicing_journalline"},
                ),
                migrations.AddIndex(
                    model_name="journalentry",
                    index=models.Index(fields=["-posted_on", "-id"], name="journal_entry_recent"),
                ),
                migrations.AddConstraint(
                    model_name="journalentry",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            (
                                "kind__in",
                                [
                                    "invoice",
                                    "credit_note",
                                    "payment",
                                    "allocation",
                                    "write_off",
                                    "refund",
                                    "fee",
                                    "reversal",
                                ],
                            )
                        ),
                        name="entry_kind_valid",
                    ),
                ),
                migrations.AddIndex(
                    model_name="journalline",
                    index=models.Index(fields=["account", "customer", "currency"], name="journal_line_balance"),
                ),
                migrations.AddConstraint(
                    model_name="journalline",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("amount", 0), _negated=True),
                            models.Q(("amount_company", 0), _negated=True),
                            _connector="OR",
                        ),
                        name="journal_line_not_zero",
                    ),
                ),
            ],
            database_operations=[],
        ),
        migrations.CreateModel(
            name="OpenItem",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(choices=[("invoice", "Invoice"), ("credit_note", "Credit note")], max_length=12),
                ),
                ("document_id", models.BigIntegerField(help_text="The document's id in the app that issued it.")),
                (
                    "reference",
                    models.CharField(help_text="The document's number, as the customer knows it.", max_length=40),
                ),
                (
                    "currency",
                    otc.money.CurrencyField(
                        choices=[
                            ("AED", "AED"),
                            ("ARS", "ARS"),
                            ("AUD", "AUD"),
                            ("BGN", "BGN"),
                            ("BHD", "BHD"),
                            ("BIF", "BIF"),
                            ("BRL", "BRL"),
                            ("CAD", "CAD"),
                            ("CHF", "CHF"),
                            ("CLF", "CLF"),
                            ("CLP", "CLP"),
                            ("CNY", "CNY"),
                            ("CZK", "CZK"),
                            ("DJF", "DJF"),
                            ("DKK", "DKK"),
                            ("EGP", "EGP"),
                            ("EUR", "EUR"),
                            ("GBP", "GBP"),
                            ("GNF", "GNF"),
                            ("HKD", "HKD"),
                            ("HUF", "HUF"),
                            ("IDR", "IDR"),
                            ("ILS", "ILS"),
                            ("INR", "INR"),
                            ("IQD", "IQD"),
                            ("ISK", "ISK"),
                            ("JOD", "JOD"),
                            ("JPY", "JPY"),
                            ("KMF", "KMF"),
                            ("KRW", "KRW"),
                            ("KWD", "KWD"),
                            ("LYD", "LYD"),
                            ("MAD", "MAD"),
                            ("MXN", "MXN"),
                            ("MYR", "MYR"),
                            ("NGN", "NGN"),
                            ("NOK", "NOK"),
                            ("NZD", "NZD"),
                            ("OMR", "OMR"),
                            ("PEN", "PEN"),
                            ("PHP", "PHP"),
                            ("PKR", "PKR"),
                            ("PLN", "PLN"),
                            ("PYG", "PYG"),
                            ("QAR", "QAR"),
                            ("RON", "RON"),
                            ("RSD", "RSD"),
                            ("RWF", "RWF"),
                            ("SAR", "SAR"),
                            ("SEK", "SEK"),
                            ("SGD", "SGD"),
                            ("THB", "THB"),
                            ("TND", "TND"),
                            ("TRY", "TRY"),
                            ("TWD", "TWD"),
                            ("UAH", "UAH"),
                            ("UGX", "UGX"),
                            ("USD", "USD"),
                            ("UYI", "UYI"),
                            ("UYW", "UYW"),
                            ("VND", "VND"),
                            ("VUV", "VUV"),
                            ("XAF", "XAF"),
                            ("XOF", "XOF"),
                            ("XPF", "XPF"),
                            ("ZAR", "ZAR"),
                        ],
                        max_length=3,
                        validators=[otc.money.validate_currency],
                    ),
                ),
                ("issued_on", models.DateField()),
                ("due_on", models.DateField()),
                (
                    "customer",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="customers.customer"
                    ),
                ),
            ],
            options={
                "ordering": ["due_on", "pk"],
            },
        ),
        migrations.AddIndex(
            model_name="openitem",
            index=models.Index(fields=["customer", "currency"], name="open_item_customer"),
        ),
        migrations.AddConstraint(
            model_name="openitem",
            constraint=models.UniqueConstraint(fields=("kind", "document_id"), name="open_item_once_per_document"),
        ),
        migrations.AddConstraint(
            model_name="openitem",
            constraint=models.CheckConstraint(
                condition=models.Q(("kind__in", ["invoice", "credit_note"])), name="open_item_kind_valid"
            ),
        ),
        migrations.AddField(
            model_name="journalentry",
            name="item",
            field=models.ForeignKey(
                blank=True,
                help_text="The document the entry is about.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="journal_entries",
                to="ledger.openitem",
            ),
        ),
        migrations.AddField(
            model_name="journalline",
            name="item",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="lines",
                to="ledger.openitem",
            ),
        ),
        migrations.RunSQL(ITEMS_FROM_INVOICES),
        migrations.RunSQL("ALTER TABLE invoicing_journalentry DROP COLUMN invoice_id"),
        migrations.AlterModelTable(name="ledgeraccount", table=None),
        migrations.AlterModelTable(name="journalentry", table=None),
        migrations.AlterModelTable(name="journalline", table=None),
        pgtrigger.migrations.AddTrigger(
            model_name="journalline",
            trigger=pgtrigger.compiler.Trigger(
                name="journal_line_append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="a4e2463f2579fc27e6875cfb5691d117b2f6e572",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_journal_line_append_only_c246f",
                    table="ledger_journalline",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="journalline",
            trigger=pgtrigger.compiler.Trigger(
                name="journal_entry_balances",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    constraint="CONSTRAINT",
                    func="\n                    IF (SELECT SUM(amount) <> 0 OR SUM(amount_company) <> 0\n                          FROM ledger_journalline WHERE entry_id = NEW.entry_id) THEN\n                        RAISE EXCEPTION 'Journal entry % does not balance.', NEW.entry_id\n                            USING ERRCODE = 'integrity_constraint_violation';\n                    END IF;\n                    RETURN NULL;\n                ",
                    hash="4cd33d1ee50bb2c8fdd2ada57c80829293ef79ba",
                    operation="INSERT",
                    pgid="pgtrigger_journal_entry_balances_c6156",
                    table="ledger_journalline",
                    timing="DEFERRABLE INITIALLY DEFERRED",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="journalentry",
            trigger=pgtrigger.compiler.Trigger(
                name="journal_entry_append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="6a33294e110c8f10a4e20f96e091a94e94180b6c",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_journal_entry_append_only_0fa2d",
                    table="ledger_journalentry",
                    when="BEFORE",
                ),
            ),
        ),
    ]
