"""Partner webhooks: what an API client subscribed to, each event's delivery to it, and every attempt.

A subscription belongs to one API key (the partner system), names the https URL and the event types
it wants (or all of them), and holds its signing secret encrypted at rest, with the previous secret
still valid until the end of a rotation's overlap. A delivery is one event for one subscription (once
per handler), its body fixed when it was queued and its id stable across retries; each attempt is a
row of its own with the response code, an excerpt of the answer and the time it took.
"""

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from otc.audit import tracked
from otc.crypto import EncryptedTextField
from workflows.models.outbox import OutboxEvent

ALL_EVENTS = "*"
"""In a subscription's event types: every event in the catalogue, present and future."""


@tracked(exclude=["secret", "previous_secret", "consecutive_failures", "updated_at"])
class WebhookSubscription(models.Model):
    api_key = models.ForeignKey(
        "otc.ApiKey",
        on_delete=models.PROTECT,
        related_name="webhook_subscriptions",
        help_text="The partner system (API client) the deliveries are for; only it manages them through the API.",
    )
    url = models.URLField("URL", max_length=2000, help_text="Where the events are POSTed: https, on a public address.")
    description = models.CharField(max_length=200, blank=True)
    event_types = ArrayField(
        models.CharField(max_length=60),
        help_text=f'Event types from the catalogue, or "{ALL_EVENTS}" for all of them.',
    )
    contact_email = models.EmailField(
        blank=True, help_text="The partner's technical contact, told when the subscription is disabled."
    )
    secret = EncryptedTextField(help_text="whsec_ + base64; signs every delivery. Shown once, when created or rotated.")
    previous_secret = EncryptedTextField(blank=True, null=True)
    previous_secret_expires_at = models.DateTimeField(
        null=True, blank=True, help_text="Until then deliveries are signed with the previous secret too."
    )
    is_active = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    consecutive_failures = models.PositiveIntegerField(
        default=0, help_text="Deliveries given up in a row since the last one delivered."
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_active=True, disabled_at__isnull=True) | Q(is_active=False, disabled_at__isnull=False),
                name="webhook_subscription_disabled_has_time",
            ),
            models.CheckConstraint(
                condition=Q(previous_secret__isnull=True) | Q(previous_secret_expires_at__isnull=False),
                name="webhook_subscription_previous_secret_expires",
            ),
        ]
        indexes = [models.Index(fields=["api_key", "is_active"], name="webhook_subscription_key")]

    def __str__(self) -> str:
        return self.url

    @property
    def receives_all_events(self) -> bool:
        return ALL_EVENTS in self.event_types


class WebhookDeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed (will retry)"
    GIVEN_UP = "given_up", "Given up (dead letter)"


class WebhookDelivery(models.Model):
    """One event for one subscription: the exact body signed and sent on every attempt, its back-off
    and outcome. A test-send has no outbox event."""

    event = models.ForeignKey(
        OutboxEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="webhook_deliveries"
    )
    subscription = models.ForeignKey(
        WebhookSubscription,
        on_delete=models.CASCADE,
        related_name="deliveries",
        help_text="Deleting a subscription deletes its delivery log.",
    )
    handler = models.CharField(max_length=100, help_text="What queued it: the fan-out handler, a rule, a test-send.")
    event_type = models.CharField(max_length=60)
    body = models.TextField(help_text='The JSON sent: {"type", "version", "timestamp", "data"}.')
    idempotency_key = models.UUIDField(
        default=uuid.uuid4, unique=True, help_text="Sent as webhook-id (msg_<hex>), the same on every attempt."
    )
    is_test = models.BooleanField(default=False, help_text="A test-send: one attempt, never counted as a failure.")
    status = models.CharField(
        max_length=10, choices=WebhookDeliveryStatus.choices, default=WebhookDeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, help_text="Not retried before this time (back-off).")
    claimed_at = models.DateTimeField(
        null=True, blank=True, help_text="When a worker took it to send; a claim older than the lease lapses."
    )
    last_response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    given_up_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "subscription", "handler"], name="webhook_delivery_once_per_subscription"
            ),
            models.CheckConstraint(
                condition=Q(status__in=WebhookDeliveryStatus.values), name="webhook_delivery_status_valid"
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "failed", "sending"]),
                name="webhook_delivery_open",
            ),
            models.Index(fields=["subscription", "-created_at"], name="webhook_delivery_by_sub"),
            models.Index(fields=["-given_up_at"], condition=Q(status="given_up"), name="webhook_delivery_dead"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.subscription.url}"

    @property
    def message_id(self) -> str:
        """The webhook-id header: the receiver's idempotency key."""
        return f"msg_{self.idempotency_key.hex}"


class WebhookAttempt(models.Model):
    """One POST of a delivery (or the reason none was made), as the partner's server answered it."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    url = models.URLField(max_length=2000)
    remote_address = models.GenericIPAddressField(null=True, blank=True, help_text="The address connected to.")
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True, help_text="The first kilobyte of the answer.")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_numbered")]

    def __str__(self) -> str:
        return f"attempt {self.number} of delivery {self.delivery_id}"

    @property
    def succeeded(self) -> bool:
        return self.response_status is not None and 200 <= self.response_status < 300


class WebhookDeadLetter(WebhookDelivery):
    """Deliveries given up: the admin's dead-letter list (a view of WebhookDelivery, no table of its own)."""

    class Meta:
        proxy = True
        verbose_name = "webhook dead letter"
