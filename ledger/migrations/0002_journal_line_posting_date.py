"""Each journal line repeats its entry's posting date and kind, so balances and reports as of a date
read the lines through an index instead of joining every line to its entry. Existing lines are
filled from their entries in SQL; the append-only trigger is lifted for that one statement only,
inside this migration's transaction."""

from django.db import migrations, models

ENTRY_KINDS = [
    ("invoice", "Invoice issued"),
    ("credit_note", "Credit note issued"),
    ("payment", "Payment received"),
    ("allocation", "Payment allocated"),
    ("write_off", "Write-off"),
    ("refund", "Refund"),
    ("fee", "Fee or interest"),
    ("reversal", "Reversal"),
]

BACKFILL = """
ALTER TABLE ledger_journalline DISABLE TRIGGER pgtrigger_journal_line_append_only_c246f;
UPDATE ledger_journalline l SET posted_on = e.posted_on, entry_kind = e.kind
  FROM ledger_journalentry e WHERE e.id = l.entry_id;
ALTER TABLE ledger_journalline ENABLE TRIGGER pgtrigger_journal_line_append_only_c246f;
"""


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="journalline",
            name="posted_on",
            field=models.DateField(null=True, help_text="The entry's posting date."),
        ),
        migrations.AddField(
            model_name="journalline",
            name="entry_kind",
            field=models.CharField(choices=ENTRY_KINDS, max_length=12, null=True, help_text="The entry's kind."),
        ),
        migrations.RunSQL(sql=BACKFILL, reverse_sql=migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="journalline",
            name="posted_on",
            field=models.DateField(help_text="The entry's posting date."),
        ),
        migrations.AlterField(
            model_name="journalline",
            name="entry_kind",
            field=models.CharField(choices=ENTRY_KINDS, max_length=12, help_text="The entry's kind."),
        ),
        migrations.AddIndex(
            model_name="journalline",
            index=models.Index(
                condition=models.Q(item__isnull=False),
                fields=["item", "posted_on"],
                include=("amount", "amount_company"),
                name="journal_line_item_balance",
            ),
        ),
        migrations.AddIndex(
            model_name="journalline",
            index=models.Index(
                fields=["account", "posted_on"],
                include=("entry_kind", "item", "amount_company"),
                name="journal_line_account_posted",
            ),
        ),
        migrations.AddConstraint(
            model_name="journalline",
            constraint=models.CheckConstraint(
                condition=models.Q(entry_kind__in=[kind for kind, _label in ENTRY_KINDS]),
                name="journal_line_entry_kind_valid",
            ),
        ),
    ]
