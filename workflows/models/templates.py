"""Notification templates staff edit in the admin (they override the files in templates/emails), their
version history, the suppression list fed by the mail provider's bounces and complaints, and staff
members' quiet hours and daily digest."""

from pathlib import Path
from zoneinfo import available_timezones

from django.conf import settings
from django.db import models
from django.db.models import Q

from otc.audit import tracked

EMAIL_TEMPLATES_DIR = Path(settings.BASE_DIR) / "templates" / "emails"


def template_keys() -> list[tuple[str, str]]:
    """The notification keys in use today: one per email template file set in templates/emails."""
    keys = sorted(path.name.removesuffix(".subject.txt") for path in EMAIL_TEMPLATES_DIR.glob("*.subject.txt"))
    return [(key, key.replace("_", " ").capitalize()) for key in keys]


def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(available_timezones())]


class NotificationChannel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"


@tracked()
class NotificationTemplate(models.Model):
    """Staff's wording of one notification for one channel and language. The active one replaces the
    file default; every save is a new version, kept in NotificationTemplateVersion."""

    key = models.CharField(max_length=60, choices=template_keys, help_text="Which notification this words.")
    channel = models.CharField(max_length=10, choices=NotificationChannel.choices, default=NotificationChannel.EMAIL)
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE)
    subject = models.CharField(max_length=300, blank=True, help_text="Email only; a Jinja template of one line.")
    body_text = models.TextField(help_text="The plain-text body (the whole message for SMS).")
    body_html = models.TextField(blank=True, help_text="Email only; left empty, the email has no HTML part.")
    is_active = models.BooleanField("active", default=False)
    version = models.PositiveIntegerField(default=0, editable=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, editable=False, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key", "channel", "language"]
        constraints = [
            models.UniqueConstraint(fields=["key", "channel", "language"], name="notification_template_once"),
            models.CheckConstraint(
                condition=Q(channel__in=NotificationChannel.values), name="notification_template_channel_valid"
            ),
            models.CheckConstraint(
                condition=Q(channel="email") | (Q(subject="") & Q(body_html="")),
                name="notification_template_sms_is_text_only",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.get_channel_display()}, {self.language}) v{self.version}"


class NotificationTemplateVersion(models.Model):
    """One saved version of a template, as it was written, by whom and when."""

    template = models.ForeignKey(NotificationTemplate, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    subject = models.CharField(max_length=300, blank=True)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    is_active = models.BooleanField()
    saved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    saved_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["template", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["template", "version"], name="notification_template_version_once")
        ]

    def __str__(self) -> str:
        return f"{self.template.key} v{self.version}"


class SuppressionReason(models.TextChoices):
    BOUNCED = "bounced", "Hard bounce"
    COMPLAINED = "complained", "Spam complaint"


@tracked()
class Suppression(models.Model):
    """An address the mail provider told us not to mail again; queue_email queues nothing to it.
    Removing the row (in the admin) lets mail flow again."""

    address = models.EmailField(unique=True, help_text="Stored in lower case.")
    reason = models.CharField(max_length=20, choices=SuppressionReason.choices)
    detail = models.TextField(blank=True, help_text="What the provider said.")
    delivery = models.ForeignKey(
        "workflows.Delivery", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(reason__in=SuppressionReason.values), name="suppression_reason_valid"),
            models.CheckConstraint(condition=Q(address=models.functions.Lower("address")), name="suppression_lower"),
        ]

    def __str__(self) -> str:
        return f"{self.address} ({self.get_reason_display()})"


@tracked()
class StaffNotificationSettings(models.Model):
    """How one staff member takes their notifications: not during quiet hours (in their time zone),
    or gathered into one email a day."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="notification_settings"
    )
    time_zone = models.CharField(max_length=60, choices=time_zone_choices, default="UTC")
    quiet_hours_start = models.TimeField(null=True, blank=True, help_text="From this local time ...")
    quiet_hours_end = models.TimeField(null=True, blank=True, help_text="... until this one (may pass midnight).")
    daily_digest = models.BooleanField(
        default=False, help_text="One email a day listing the notifications instead of one email each."
    )

    class Meta:
        verbose_name = "staff notification settings"
        verbose_name_plural = "staff notification settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(quiet_hours_start__isnull=True, quiet_hours_end__isnull=True)
                | (
                    Q(quiet_hours_start__isnull=False, quiet_hours_end__isnull=False)
                    & ~Q(quiet_hours_start=models.F("quiet_hours_end"))
                ),
                name="staff_quiet_hours_both_or_none",
                violation_error_message="Give both the start and the end of quiet hours (different times), or neither.",
            )
        ]

    def __str__(self) -> str:
        return f"Notification settings of {self.user}"


class StaffDigest(models.Model):
    """One staff member's digest of one day: the email listing the notifications held for it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    delivery = models.OneToOneField("workflows.Delivery", on_delete=models.PROTECT, related_name="digest_of")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="staff_digest_once_a_day")]

    def __str__(self) -> str:
        return f"Digest of {self.user} for {self.day}"
