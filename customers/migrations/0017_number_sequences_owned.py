"""Numbering sequences belong to their columns, so a training reset (TRUNCATE ... RESTART IDENTITY) restarts them."""

from django.db import migrations

PAIRS = [
    ("customers_customer_number_seq", "customers_customer.number"),
]


class Migration(migrations.Migration):
    dependencies = [("customers", "0016_list_search_indexes")]

    operations = [
        migrations.RunSQL(f"ALTER SEQUENCE {sequence} OWNED BY {column}", f"ALTER SEQUENCE {sequence} OWNED BY NONE")
        for sequence, column in PAIRS
    ]
