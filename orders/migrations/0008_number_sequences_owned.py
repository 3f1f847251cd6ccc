"""Numbering sequences belong to their columns, so a training reset (TRUNCATE ... RESTART IDENTITY) restarts them."""

from django.db import migrations

PAIRS = [
    ("orders_order_number_seq", "orders_order.number"),
    ("orders_shipment_number_seq", "orders_shipment.number"),
    ("orders_return_number_seq", "orders_returnorder.number"),
    ("orders_return_request_number_seq", "orders_returnrequest.number"),
]


class Migration(migrations.Migration):
    dependencies = [("orders", "0007_list_search_indexes")]

    operations = [
        migrations.RunSQL(f"ALTER SEQUENCE {sequence} OWNED BY {column}", f"ALTER SEQUENCE {sequence} OWNED BY NONE")
        for sequence, column in PAIRS
    ]
