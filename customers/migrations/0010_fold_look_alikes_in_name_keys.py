"""Recompute customers' name keys now that look-alike letters of other scripts fold to Latin ones."""

from django.db import migrations

from customers.validators import name_key


def fold_name_keys(apps, schema_editor):
    Customer = apps.get_model("customers", "Customer")
    changed = []
    for customer in Customer.objects.only("pk", "legal_name", "name_key").iterator(chunk_size=2000):
        key = name_key(customer.legal_name)
        if key != customer.name_key:
            customer.name_key = key
            changed.append(customer)
    Customer.objects.bulk_update(changed, ["name_key"], batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [("customers", "0009_customer_tags_and_behaviour")]

    operations = [migrations.RunPython(fold_name_keys, migrations.RunPython.noop)]
