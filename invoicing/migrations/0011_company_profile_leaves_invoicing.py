"""The company profile leaves invoicing's state; its table is the kernel's model now (otc 0009)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("invoicing", "0010_tax_category_not_subject_to_vat"),
        ("otc", "0009_company_profile_moves_to_the_kernel"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="CompanyProfile")],
            database_operations=[],
        ),
    ]
