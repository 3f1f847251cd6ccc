"""A customer group and a customer may choose a document style (customer over group over default); groups are audited."""

import django.db.models.deletion
import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0012_preferences_facturx_profile"),
        ("otc", "0010_document_styles"),
        ("pghistory", "0007_auto_20250421_0444"),
    ]

    operations = [
        migrations.CreateModel(
            name="CustomerGroupEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("id", models.BigIntegerField()),
                ("code", models.SlugField(db_index=False, max_length=30)),
                ("name", models.CharField(max_length=100)),
            ],
            options={
                "abstract": False,
            },
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="preferences",
            name="insert_insert",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="preferences",
            name="update_update",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="preferences",
            name="delete_delete",
        ),
        migrations.AddField(
            model_name="customergroup",
            name="document_style",
            field=models.ForeignKey(
                blank=True,
                help_text="Look of the documents its customers receive; empty: the default style.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="customer_groups",
                to="otc.documentstyle",
            ),
        ),
        migrations.AddField(
            model_name="preferences",
            name="document_style",
            field=models.ForeignKey(
                blank=True,
                help_text="Look of this customer's documents; empty: the style of the customer's group, else the default.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="otc.documentstyle",
            ),
        ),
        migrations.AddField(
            model_name="preferencesevent",
            name="document_style",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                help_text="Look of this customer's documents; empty: the style of the customer's group, else the default.",
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="otc.documentstyle",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="customergroup",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "customers_customergroupevent" ("code", "document_style_id", "id", "name", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id") VALUES (NEW."code", NEW."document_style_id", NEW."id", NEW."name", _pgh_attach_context(), NOW(), \'insert\', NEW."id"); RETURN NULL;',
                    hash="a266b757ca0c0b05aaf661e4711ade2fc7d960eb",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_b12b0",
                    table="customers_customergroup",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="customergroup",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "customers_customergroupevent" ("code", "document_style_id", "id", "name", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id") VALUES (NEW."code", NEW."document_style_id", NEW."id", NEW."name", _pgh_attach_context(), NOW(), \'update\', NEW."id"); RETURN NULL;',
                    hash="8608ed5fa9ce0acbd8f2e4eb1c2481a035c7818a",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_41f88",
                    table="customers_customergroup",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="customergroup",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "customers_customergroupevent" ("code", "document_style_id", "id", "name", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id") VALUES (OLD."code", OLD."document_style_id", OLD."id", OLD."name", _pgh_attach_context(), NOW(), \'delete\', OLD."id"); RETURN NULL;',
                    hash="d82deec1173d6dc324cac4ca51836625e3ca7bb4",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_a8e8a",
                    table="customers_customergroup",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="preferences",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "customers_preferencesevent" ("channels", "customer_id", "document_layout", "document_style_id", "invoice_delivery", "invoicing_schedule", "opt_outs", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "po_number_required", "portal_mfa_required") VALUES (NEW."channels", NEW."customer_id", NEW."document_layout", NEW."document_style_id", NEW."invoice_delivery", NEW."invoicing_schedule", NEW."opt_outs", _pgh_attach_context(), NOW(), \'insert\', NEW."customer_id", NEW."po_number_required", NEW."portal_mfa_required"); RETURN NULL;',
                    hash="838774d1ed65007006281473af3523b001b0536b",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_e19f6",
                    table="customers_preferences",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="preferences",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "customers_preferencesevent" ("channels", "customer_id", "document_layout", "document_style_id", "invoice_delivery", "invoicing_schedule", "opt_outs", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "po_number_required", "portal_mfa_required") VALUES (NEW."channels", NEW."customer_id", NEW."document_layout", NEW."document_style_id", NEW."invoice_delivery", NEW."invoicing_schedule", NEW."opt_outs", _pgh_attach_context(), NOW(), \'update\', NEW."customer_id", NEW."po_number_required", NEW."portal_mfa_required"); RETURN NULL;',
                    hash="f637eb08c2a761d8cc3b362bebbfbe8b93e477c5",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_c432d",
                    table="customers_preferences",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="preferences",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "customers_preferencesevent" ("channels", "customer_id", "document_layout", "document_style_id", "invoice_delivery", "invoicing_schedule", "opt_outs", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "po_number_required", "portal_mfa_required") VALUES (OLD."channels", OLD."customer_id", OLD."document_layout", OLD."document_style_id", OLD."invoice_delivery", OLD."invoicing_schedule", OLD."opt_outs", _pgh_attach_context(), NOW(), \'delete\', OLD."customer_id", OLD."po_number_required", OLD."portal_mfa_required"); RETURN NULL;',
                    hash="b91ee0ca0d04a6a9ea3010da18753bcd839b0efc",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_4269a",
                    table="customers_preferences",
                    when="AFTER",
                ),
            ),
        ),
        migrations.AddField(
            model_name="customergroupevent",
            name="document_style",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                help_text="Look of the documents its customers receive; empty: the default style.",
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="otc.documentstyle",
            ),
        ),
        migrations.AddField(
            model_name="customergroupevent",
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
            model_name="customergroupevent",
            name="pgh_obj",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="events",
                to="customers.customergroup",
            ),
        ),
    ]
