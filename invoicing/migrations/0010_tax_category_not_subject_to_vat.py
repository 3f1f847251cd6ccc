from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0002_tax_rates_do_not_overlap"),
        ("invoicing", "0009_invoice_deliveries_plural_name"),
        ("orders", "0003_return_requests"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="invoiceline",
            name="invoice_line_tax_category_valid",
        ),
        migrations.AlterField(
            model_name="invoiceline",
            name="tax_category",
            field=models.CharField(
                choices=[
                    ("S", "Standard rate"),
                    ("Z", "Zero rated"),
                    ("E", "Exempt"),
                    ("AE", "Reverse charge"),
                    ("K", "Intra-community supply"),
                    ("G", "Export outside the EU"),
                    ("O", "Not subject to VAT"),
                ],
                default="S",
                max_length=2,
            ),
        ),
        migrations.AlterField(
            model_name="taxbreakdown",
            name="tax_category",
            field=models.CharField(
                choices=[
                    ("S", "Standard rate"),
                    ("Z", "Zero rated"),
                    ("E", "Exempt"),
                    ("AE", "Reverse charge"),
                    ("K", "Intra-community supply"),
                    ("G", "Export outside the EU"),
                    ("O", "Not subject to VAT"),
                ],
                max_length=2,
            ),
        ),
        migrations.AddConstraint(
            model_name="invoiceline",
            constraint=models.CheckConstraint(
                condition=models.Q(("tax_category__in", ["S", "Z", "E", "AE", "K", "G", "O"])),
                name="invoice_line_tax_category_valid",
            ),
        ),
    ]
