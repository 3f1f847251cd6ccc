"""The receivables ledger moves to the ledger app: its triggers come off the invoicing tables here
(ledger 0001 installs them again on the renamed tables), and browsing it becomes ledger's permission."""

import pgtrigger.migrations
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("invoicing", "0002_invoice_holds"),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(model_name="journalentry", name="journal_entry_append_only"),
        pgtrigger.migrations.RemoveTrigger(model_name="journalline", name="journal_line_append_only"),
        pgtrigger.migrations.RemoveTrigger(model_name="journalline", name="journal_entry_balances"),
        migrations.AlterModelOptions(
            name="invoice",
            options={
                "ordering": ["-pk"],
                "permissions": [
                    ("issue_invoice", "Can issue invoices"),
                    ("issue_credit_note", "Can issue credit notes"),
                ],
            },
        ),
    ]
