"""The ledger's models leave invoicing's state; their tables are ledger's now (ledger 0001)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("invoicing", "0003_ledger_moves_out"),
        ("ledger", "0001_initial"),
        ("payments", "0004_journal_entries_are_ledgers"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="JournalLine"),
                migrations.DeleteModel(name="JournalEntry"),
                migrations.DeleteModel(name="LedgerAccount"),
            ],
            database_operations=[],
        ),
    ]
