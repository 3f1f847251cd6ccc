"""Notification becomes Delivery: renamed in place (rows, attachments and headers kept), with a channel,
a claim stamp, an idempotency key, and statuses for sending, failed-will-retry and given up."""

import uuid

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Q


class Migration(migrations.Migration):
    dependencies = [
        ("invoicing", "0001_initial"),
        ("workflows", "0004_notification_headers"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="notification", name="notification_once_per_recipient"),
        migrations.RemoveConstraint(model_name="notification", name="notification_status_valid"),
        migrations.RemoveIndex(model_name="notification", name="notification_queued"),
        migrations.RenameModel(old_name="Notification", new_name="Delivery"),
        migrations.AlterModelOptions(
            name="delivery", options={"ordering": ["-created_at"], "verbose_name_plural": "deliveries"}
        ),
        migrations.RenameField(model_name="delivery", old_name="available_at", new_name="next_attempt_at"),
        migrations.AlterField(
            model_name="delivery",
            name="next_attempt_at",
            field=models.DateTimeField(blank=True, help_text="Not retried before this time (back-off).", null=True),
        ),
        migrations.AddField(
            model_name="delivery",
            name="channel",
            field=models.CharField(choices=[("email", "Email")], default="email", max_length=10),
        ),
        migrations.AddField(
            model_name="delivery",
            name="claimed_at",
            field=models.DateTimeField(
                blank=True, help_text="When a worker took it to send; a claim older than the lease lapses.", null=True
            ),
        ),
        migrations.AddField(model_name="delivery", name="idempotency_key", field=models.UUIDField(null=True)),
        migrations.RunSQL("UPDATE workflows_delivery SET idempotency_key = gen_random_uuid()", migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="delivery",
            name="idempotency_key",
            field=models.UUIDField(
                default=uuid.uuid4,
                help_text="Stable across retries, so a receiver can drop a duplicate.",
                unique=True,
            ),
        ),
        migrations.AlterField(
            model_name="delivery",
            name="recipient",
            field=models.CharField(help_text="The email address it goes to.", max_length=320),
        ),
        migrations.AlterField(
            model_name="delivery",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "Pending"),
                    ("sending", "Sending"),
                    ("sent", "Sent"),
                    ("failed", "Failed (will retry)"),
                    ("given_up", "Given up"),
                ],
                default="pending",
                max_length=10,
            ),
        ),
        migrations.RunSQL(
            "UPDATE workflows_delivery SET status = CASE"
            " WHEN status = 'failed' THEN 'given_up'"
            " WHEN status = 'queued' AND attempts > 0 THEN 'failed'"
            " WHEN status = 'queued' THEN 'pending' ELSE status END",
            "UPDATE workflows_delivery SET status = CASE"
            " WHEN status = 'given_up' THEN 'failed'"
            " WHEN status IN ('pending', 'sending', 'failed') THEN 'queued' ELSE status END",
        ),
        migrations.AlterField(
            model_name="delivery",
            name="event",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="deliveries", to="workflows.outboxevent"
            ),
        ),
        migrations.AlterField(
            model_name="delivery",
            name="documents",
            field=models.ManyToManyField(
                blank=True, help_text="Attached to the email.", related_name="deliveries", to="invoicing.storeddocument"
            ),
        ),
        migrations.AddConstraint(
            model_name="delivery",
            constraint=models.UniqueConstraint(
                fields=("event", "handler", "recipient"), name="outbound_delivery_once_per_recipient"
            ),
        ),
        migrations.AddConstraint(
            model_name="delivery",
            constraint=models.CheckConstraint(
                condition=Q(status__in=["pending", "sending", "sent", "failed", "given_up"]),
                name="outbound_delivery_status_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="delivery",
            constraint=models.CheckConstraint(
                condition=Q(channel__in=["email"]), name="outbound_delivery_channel_valid"
            ),
        ),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(
                condition=Q(status__in=["pending", "failed", "sending"]),
                fields=["created_at"],
                name="outbound_delivery_open",
            ),
        ),
    ]
