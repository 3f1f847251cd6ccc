"""Document styles: the look of the documents a customer receives, audited."""

import django.core.validators
import django.db.models.deletion
import otc.fonts
import otc.models
import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("otc", "0009_company_profile_moves_to_the_kernel"),
        ("pghistory", "0007_auto_20250421_0444"),
    ]

    operations = [
        migrations.CreateModel(
            name="DocumentStyleEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("id", models.BigIntegerField()),
                ("name", models.CharField(max_length=100)),
                (
                    "is_default",
                    models.BooleanField(default=False, help_text="Used for customers with no style of their own."),
                ),
                (
                    "logo",
                    models.FileField(
                        blank=True,
                        help_text="PNG, JPEG or SVG, at most 512 KB; empty: the company profile's logo.",
                        upload_to="document-styles/",
                        validators=[
                            django.core.validators.FileExtensionValidator(["png", "jpg", "jpeg", "svg"]),
                            otc.models.validate_logo_size,
                        ],
                    ),
                ),
                (
                    "accent_colour",
                    models.CharField(default="#1f2933", max_length=7, validators=[otc.models.validate_hex_colour]),
                ),
                (
                    "text_colour",
                    models.CharField(default="#1f2933", max_length=7, validators=[otc.models.validate_hex_colour]),
                ),
                (
                    "font_family",
                    models.CharField(default="DejaVu Sans", max_length=60, validators=[otc.fonts.validate_font_family]),
                ),
                ("header_text_en", models.TextField(blank=True, verbose_name="header text (English)")),
                ("header_text_de", models.TextField(blank=True, verbose_name="header text (German)")),
                ("header_text_fr", models.TextField(blank=True, verbose_name="header text (French)")),
                ("footer_text_en", models.TextField(blank=True, verbose_name="footer text (English)")),
                ("footer_text_de", models.TextField(blank=True, verbose_name="footer text (German)")),
                ("footer_text_fr", models.TextField(blank=True, verbose_name="footer text (French)")),
                ("payment_terms_en", models.TextField(blank=True, verbose_name="payment terms text (English)")),
                ("payment_terms_de", models.TextField(blank=True, verbose_name="payment terms text (German)")),
                ("payment_terms_fr", models.TextField(blank=True, verbose_name="payment terms text (French)")),
                ("show_sku", models.BooleanField(default=True, verbose_name="SKU column")),
                ("show_gtin", models.BooleanField(default=False, verbose_name="GTIN column")),
                ("show_discount", models.BooleanField(default=True, verbose_name="discount column")),
                ("show_unit", models.BooleanField(default=True, verbose_name="unit column")),
                ("show_tax_rate", models.BooleanField(default=True, verbose_name="tax rate column")),
                ("show_po_number", models.BooleanField(default=True, verbose_name="PO number")),
                ("show_delivery_address", models.BooleanField(default=True, verbose_name="delivery address")),
                ("show_customer_number", models.BooleanField(default=True, verbose_name="customer number")),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="DocumentStyle",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=100, unique=True)),
                (
                    "is_default",
                    models.BooleanField(default=False, help_text="Used for customers with no style of their own."),
                ),
                (
                    "logo",
                    models.FileField(
                        blank=True,
                        help_text="PNG, JPEG or SVG, at most 512 KB; empty: the company profile's logo.",
                        upload_to="document-styles/",
                        validators=[
                            django.core.validators.FileExtensionValidator(["png", "jpg", "jpeg", "svg"]),
                            otc.models.validate_logo_size,
                        ],
                    ),
                ),
                (
                    "accent_colour",
                    models.CharField(default="#1f2933", max_length=7, validators=[otc.models.validate_hex_colour]),
                ),
                (
                    "text_colour",
                    models.CharField(default="#1f2933", max_length=7, validators=[otc.models.validate_hex_colour]),
                ),
                (
                    "font_family",
                    models.CharField(default="DejaVu Sans", max_length=60, validators=[otc.fonts.validate_font_family]),
                ),
                ("header_text_en", models.TextField(blank=True, verbose_name="header text (English)")),
                ("header_text_de", models.TextField(blank=True, verbose_name="header text (German)")),
                ("header_text_fr", models.TextField(blank=True, verbose_name="header text (French)")),
                ("footer_text_en", models.TextField(blank=True, verbose_name="footer text (English)")),
                ("footer_text_de", models.TextField(blank=True, verbose_name="footer text (German)")),
                ("footer_text_fr", models.TextField(blank=True, verbose_name="footer text (French)")),
                ("payment_terms_en", models.TextField(blank=True, verbose_name="payment terms text (English)")),
                ("payment_terms_de", models.TextField(blank=True, verbose_name="payment terms text (German)")),
                ("payment_terms_fr", models.TextField(blank=True, verbose_name="payment terms text (French)")),
                ("show_sku", models.BooleanField(default=True, verbose_name="SKU column")),
                ("show_gtin", models.BooleanField(default=False, verbose_name="GTIN column")),
                ("show_discount", models.BooleanField(default=True, verbose_name="discount column")),
                ("show_unit", models.BooleanField(default=True, verbose_name="unit column")),
                ("show_tax_rate", models.BooleanField(default=True, verbose_name="tax rate column")),
                ("show_po_number", models.BooleanField(default=True, verbose_name="PO number")),
                ("show_delivery_address", models.BooleanField(default=True, verbose_name="delivery address")),
                ("show_customer_number", models.BooleanField(default=True, verbose_name="customer number")),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={
                "ordering": ["name"],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("is_default", True)), fields=("is_default",), name="one_default_style"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("accent_colour__regex", "^#[0-9a-fA-F]{6}$"), ("text_colour__regex", "^#[0-9a-fA-F]{6}$")
                        ),
                        name="document_style_colours_hex",
                    ),
                ],
            },
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="documentstyle",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "otc_documentstyleevent" ("accent_colour", "font_family", "footer_text_de", "footer_text_en", "footer_text_fr", "header_text_de", "header_text_en", "header_text_fr", "id", "is_default", "logo", "name", "payment_terms_de", "payment_terms_en", "payment_terms_fr", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "show_customer_number", "show_delivery_address", "show_discount", "show_gtin", "show_po_number", "show_sku", "show_tax_rate", "show_unit", "text_colour", "updated_at") VALUES (NEW."accent_colour", NEW."font_family", NEW."footer_text_de", NEW."footer_text_en", NEW."footer_text_fr", NEW."header_text_de", NEW."header_text_en", NEW."header_text_fr", NEW."id", NEW."is_default", NEW."logo", NEW."name", NEW."payment_terms_de", NEW."payment_terms_en", NEW."payment_terms_fr", _pgh_attach_context(), NOW(), \'insert\', NEW."id", NEW."show_customer_number", NEW."show_delivery_address", NEW."show_discount", NEW."show_gtin", NEW."show_po_number", NEW."show_sku", NEW."show_tax_rate", NEW."show_unit", NEW."text_colour", NEW."updated_at"); RETURN NULL;',
                    hash="bb80d0e67a07fd5b04bb8db8a06298716bcdb945",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_b0918",
                    table="otc_documentstyle",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="documentstyle",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "otc_documentstyleevent" ("accent_colour", "font_family", "footer_text_de", "footer_text_en", "footer_text_fr", "header_text_de", "header_text_en", "header_text_fr", "id", "is_default", "logo", "name", "payment_terms_de", "payment_terms_en", "payment_terms_fr", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "show_customer_number", "show_delivery_address", "show_discount", "show_gtin", "show_po_number", "show_sku", "show_tax_rate", "show_unit", "text_colour", "updated_at") VALUES (NEW."accent_colour", NEW."font_family", NEW."footer_text_de", NEW."footer_text_en", NEW."footer_text_fr", NEW."header_text_de", NEW."header_text_en", NEW."header_text_fr", NEW."id", NEW."is_default", NEW."logo", NEW."name", NEW."payment_terms_de", NEW."payment_terms_en", NEW."payment_terms_fr", _pgh_attach_context(), NOW(), \'update\', NEW."id", NEW."show_customer_number", NEW."show_delivery_address", NEW."show_discount", NEW."show_gtin", NEW."show_po_number", NEW."show_sku", NEW."show_tax_rate", NEW."show_unit", NEW."text_colour", NEW."updated_at"); RETURN NULL;',
                    hash="76c3ca47c31d58fa15c3595a40b86266a20086f7",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_0ad97",
                    table="otc_documentstyle",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="documentstyle",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "otc_documentstyleevent" ("accent_colour", "font_family", "footer_text_de", "footer_text_en", "footer_text_fr", "header_text_de", "header_text_en", "header_text_fr", "id", "is_default", "logo", "name", "payment_terms_de", "payment_terms_en", "payment_terms_fr", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "show_customer_number", "show_delivery_address", "show_discount", "show_gtin", "show_po_number", "show_sku", "show_tax_rate", "show_unit", "text_colour", "updated_at") VALUES (OLD."accent_colour", OLD."font_family", OLD."footer_text_de", OLD."footer_text_en", OLD."footer_text_fr", OLD."header_text_de", OLD."header_text_en", OLD."header_text_fr", OLD."id", OLD."is_default", OLD."logo", OLD."name", OLD."payment_terms_de", OLD."payment_terms_en", OLD."payment_terms_fr", _pgh_attach_context(), NOW(), \'delete\', OLD."id", OLD."show_customer_number", OLD."show_delivery_address", OLD."show_discount", OLD."show_gtin", OLD."show_po_number", OLD."show_sku", OLD."show_tax_rate", OLD."show_unit", OLD."text_colour", OLD."updated_at"); RETURN NULL;',
                    hash="d3a36dfdd7e414d8a035068540b2743356884670",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_46ea8",
                    table="otc_documentstyle",
                    when="AFTER",
                ),
            ),
        ),
        migrations.AddField(
            model_name="documentstyleevent",
            name="pgh_context",
            field=models.ForeignKey(
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="pghistory.context",
            ),
        ),
        migrations.AddField(
            model_name="documentstyleevent",
            name="pgh_obj",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="events",
                to="otc.documentstyle",
            ),
        ),
    ]
