"""Numbering sequences belong to their columns, so a training reset (TRUNCATE ... RESTART IDENTITY) restarts them."""

from django.db import migrations

PAIRS = [
    ("payments_payment_number_seq", "payments_payment.number"),
]


class Migration(migrations.Migration):
    dependencies = [("payments", "0013_payment_list_search_indexes")]

    operations = [
        migrations.RunSQL(f"ALTER SEQUENCE {sequence} OWNED BY {column}", f"ALTER SEQUENCE {sequence} OWNED BY NONE")
        for sequence, column in PAIRS
    ]
