from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0002_tax_rates_do_not_overlap"),
        ("orders", "0004_order_documents"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="orderline",
            name="order_line_tax_category_valid",
        ),
        migrations.AlterField(
            model_name="orderline",
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
                help_text="UNCL 5305 VAT category code of the tax decision.",
                max_length=2,
            ),
        ),
        migrations.AlterField(
            model_name="orderlineevent",
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
                help_text="UNCL 5305 VAT category code of the tax decision.",
                max_length=2,
            ),
        ),
        migrations.AddConstraint(
            model_name="orderline",
            constraint=models.CheckConstraint(
                condition=models.Q(("tax_category__in", ["S", "Z", "E", "AE", "K", "G", "O"])),
                name="order_line_tax_category_valid",
            ),
        ),
    ]
