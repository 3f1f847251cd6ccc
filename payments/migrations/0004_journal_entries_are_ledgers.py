"""Allocations and refunds point at the ledger app's journal entries (the same table, renamed)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0003_collections"),
        ("ledger", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="allocation",
                    name="journal_entry",
                    field=models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT, related_name="allocation", to="ledger.journalentry"
                    ),
                ),
                migrations.AlterField(
                    model_name="refund",
                    name="journal_entry",
                    field=models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="refund",
                        to="ledger.journalentry",
                    ),
                ),
                migrations.AlterField(
                    model_name="refundevent",
                    name="journal_entry",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="ledger.journalentry",
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
