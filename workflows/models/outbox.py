"""The transactional outbox: an event row per domain signal, written in the sender's transaction,
the record of which handler has run for it, and the deliveries (emails) handlers queue."""

import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q


class EventStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DONE = "done", "Done"
    FAILED = "failed", "Failed (gave up)"


class OutboxEvent(models.Model):
    event_type = models.CharField(max_length=60, db_index=True)
    version = models.PositiveSmallIntegerField(
        default=1, db_default=1, help_text="The version of the event type's payload schema."
    )
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=EventStatus.choices, default=EventStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    available_at = models.DateTimeField(
        null=True, blank=True, help_text="Not claimable before this time (lease of a running worker, or back-off)."
    )
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    swept_at = models.DateTimeField(
        null=True, blank=True, help_text="When the sweeper last re-enqueued it; it waits a lease before doing so again."
    )
    rule_chain = ArrayField(
        models.BigIntegerField(),
        default=list,
        blank=True,
        help_text="The automation rules whose actions caused this event, outermost first (the loop guard).",
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=Q(status__in=EventStatus.values), name="outbox_status_valid")]
        indexes = [
            models.Index(fields=["created_at"], condition=Q(status="pending"), name="outbox_pending"),
            # The operations view lists and counts the events given up without reading the done ones.
            models.Index(fields=["created_at"], condition=Q(status="failed"), name="outbox_failed"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} #{self.pk}"


class HandlerRun(models.Model):
    """Written in the handler's own transaction: its existence means the handler's effects committed."""

    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="handler_runs")
    handler = models.CharField(max_length=100)
    completed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "handler"], name="handler_runs_once_per_event")]

    def __str__(self) -> str:
        return f"{self.handler} for event {self.event_id}"


class DeliveryChannel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed (will retry)"
    GIVEN_UP = "given_up", "Given up"
    HELD = "held", "Held for the daily digest"
    DIGESTED = "digested", "Sent in a digest"


class DeliveryOutcome(models.TextChoices):
    """What the mail provider reported after sending."""

    BOUNCED = "bounced", "Bounced"
    COMPLAINED = "complained", "Marked as spam"


class Delivery(models.Model):
    """Something a handler decided to send to someone outside (today an email), with its attempts,
    back-off and outcome; one per event, handler and recipient."""

    event = models.ForeignKey(
        OutboxEvent,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deliveries",
        help_text="The event it tells of; none for a staff member's daily digest.",
    )
    handler = models.CharField(max_length=100)
    channel = models.CharField(max_length=10, choices=DeliveryChannel.choices, default=DeliveryChannel.EMAIL)
    recipient = models.CharField(max_length=320, help_text="The email address (or E.164 mobile number) it goes to.")
    template_key = models.CharField(
        max_length=60, blank=True, help_text="The notification it is, e.g. order_confirmation."
    )
    template = models.ForeignKey(
        "workflows.NotificationTemplate",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deliveries",
        help_text="The staff template that worded it; empty when the file default did.",
    )
    template_version = models.PositiveIntegerField(null=True, blank=True)
    language = models.CharField(max_length=8, blank=True)
    context = models.JSONField(
        default=dict, blank=True, help_text="The plain data it was worded from (what a template preview renders)."
    )
    digest = models.ForeignKey(
        "workflows.StaffDigest", on_delete=models.SET_NULL, null=True, blank=True, related_name="items"
    )
    provider_message_id = models.CharField(max_length=200, blank=True, db_index=True)
    outcome = models.CharField(max_length=20, choices=DeliveryOutcome.choices, blank=True)
    outcome_reason = models.TextField(blank=True, help_text="The provider's reason for a bounce or complaint.")
    outcome_at = models.DateTimeField(null=True, blank=True)
    subject = models.CharField(max_length=300)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    documents = models.ManyToManyField(
        "invoicing.StoredDocument", blank=True, related_name="deliveries", help_text="Attached to the email."
    )
    order_documents = models.ManyToManyField(
        "orders.OrderDocument",
        blank=True,
        related_name="deliveries",
        help_text="Order confirmations and delivery notes attached to the email.",
    )
    headers = models.JSONField(
        default=dict, blank=True, help_text="Extra email headers, e.g. the Message-ID a reply threads back to."
    )
    idempotency_key = models.UUIDField(
        default=uuid.uuid4, unique=True, help_text="Stable across retries, so a receiver can drop a duplicate."
    )
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, help_text="Not retried before this time (back-off).")
    claimed_at = models.DateTimeField(
        null=True, blank=True, help_text="When a worker took it to send; a claim older than the lease lapses."
    )
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "handler", "recipient"], name="outbound_delivery_once_per_recipient"
            ),
            models.CheckConstraint(
                condition=Q(status__in=DeliveryStatus.values), name="outbound_delivery_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=DeliveryChannel.values), name="outbound_delivery_channel_valid"
            ),
            models.CheckConstraint(
                condition=Q(event__isnull=False) | Q(handler="staff_digest"), name="outbound_delivery_has_event"
            ),
            models.CheckConstraint(
                condition=~Q(channel="sms") | Q(recipient__regex=r"^\+[1-9][0-9]{6,14}$"),
                name="outbound_delivery_sms_to_e164",
            ),
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(status__in=["pending", "failed", "sending"]),
                name="outbound_delivery_open",
            ),
            models.Index(
                fields=["created_at"],
                condition=Q(status__in=["failed", "given_up"]),
                name="outbound_delivery_failing",
            ),
            models.Index(fields=["recipient", "created_at"], condition=Q(status="held"), name="outbound_delivery_held"),
            models.Index(fields=["template_key", "-created_at"], name="outbound_delivery_by_key"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.recipient}"
