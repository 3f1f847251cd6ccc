from datetime import timedelta

from django.db import migrations
from django.utils import timezone

DISPUTE_DAYS = 60


def disputes_from_holds(apps, schema_editor):
    """Each active dispute hold that no dispute placed (the text holds turned typed) gets its dispute."""
    InvoiceHold = apps.get_model("invoicing", "InvoiceHold")
    Dispute = apps.get_model("service", "Dispute")
    expires_on = timezone.localdate() + timedelta(days=DISPUTE_DAYS)
    for hold in InvoiceHold.objects.filter(kind="dispute", released_at__isnull=True, source="").select_related(
        "invoice"
    ):
        dispute = Dispute.objects.create(
            customer_id=hold.invoice.customer_id,
            invoice_id=hold.invoice_id,
            reason="other",
            description=hold.text or "Dispute",
            currency=hold.invoice.currency,
            expires_on=expires_on,
            opened_by_id=hold.placed_by_id,
            opened_at=hold.placed_at,
        )
        InvoiceHold.objects.filter(pk=hold.pk).update(source=f"dispute:{dispute.pk}")


class Migration(migrations.Migration):
    dependencies = [
        ("service", "0001_disputes"),
        ("invoicing", "0005_invoice_hold_records"),
    ]

    operations = [migrations.RunPython(disputes_from_holds, migrations.RunPython.noop)]
