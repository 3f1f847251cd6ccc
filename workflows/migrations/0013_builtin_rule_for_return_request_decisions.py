"""The return-request decision email (orders' RMA) is a fixed notification like the others: it gets its
built-in rule, on and without conditions."""

import importlib

from django.db import migrations

RULES = [
    (
        "send_return_request_decision",
        "order.return_request_decided",
        "Email the customer how their return request was decided.",
    )
]


def create_builtin_rules(apps, schema_editor):
    importlib.import_module("workflows.migrations.0010_builtin_rules").create_rules(apps, RULES)


def remove_rules(apps, schema_editor):
    handlers = [handler for handler, _event_type, _description in RULES]
    apps.get_model("workflows", "AutomationRule").objects.filter(builtin_handler__in=handlers).delete()


class Migration(migrations.Migration):
    dependencies = [("workflows", "0012_audit_templates_suppressions_and_sms_numbers")]

    operations = [migrations.RunPython(create_builtin_rules, remove_rules)]
