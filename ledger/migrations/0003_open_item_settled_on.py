"""Each open item knows since when nothing is open on it (`settled_on`), so reports as of a date read
only the lines of the items not settled by then instead of every receivable line. Existing items are
filled from their lines in SQL before the trigger that keeps it from now on is added."""

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations, models

BACKFILL = """
UPDATE ledger_openitem i SET settled_on = s.settled_on
  FROM (SELECT item_id, MAX(posted_on) AS settled_on FROM ledger_journalline
         WHERE item_id IS NOT NULL GROUP BY item_id HAVING SUM(amount) = 0) s
 WHERE i.id = s.item_id;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0016_list_search_indexes"),
        ("ledger", "0002_journal_line_posting_date"),
    ]

    operations = [
        migrations.AddField(
            model_name="openitem",
            name="settled_on",
            field=models.DateField(
                blank=True, editable=False, help_text="Since when nothing is open on it; empty while open.", null=True
            ),
        ),
        migrations.RunSQL(sql=BACKFILL, reverse_sql=migrations.RunSQL.noop),
        migrations.AddIndex(
            model_name="openitem",
            index=models.Index(fields=["settled_on"], name="open_item_settled"),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="journalline",
            trigger=pgtrigger.compiler.Trigger(
                name="open_item_settled_on",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="\n                    PERFORM 1 FROM ledger_openitem\n                     WHERE id IN (SELECT item_id FROM new_lines WHERE item_id IS NOT NULL)\n                     ORDER BY id FOR UPDATE;\n                    UPDATE ledger_openitem i SET settled_on = s.settled_on\n                      FROM (SELECT l.item_id,\n                                   CASE WHEN SUM(l.amount) = 0 THEN MAX(l.posted_on) END AS settled_on\n                              FROM ledger_journalline l\n                             WHERE l.item_id IN (SELECT item_id FROM new_lines WHERE item_id IS NOT NULL)\n                             GROUP BY l.item_id) s\n                     WHERE i.id = s.item_id AND i.settled_on IS DISTINCT FROM s.settled_on;\n                    RETURN NULL;\n                ",
                    hash="d0d0efb643156b72902ac40f6454c697387b156a",
                    level="STATEMENT",
                    operation="INSERT",
                    pgid="pgtrigger_open_item_settled_on_05e14",
                    referencing="REFERENCING NEW TABLE AS new_lines ",
                    table="ledger_journalline",
                    when="AFTER",
                ),
            ),
        ),
    ]
