"""Service levels: a working calendar (weekly hours, holidays, time zone) and policies giving the
first-response and resolution targets in business hours per customer group and priority. Alerts
are recorded once per ticket and kind, so a re-run of the sweep never notifies twice."""

from zoneinfo import available_timezones

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from customers.models import CustomerGroup
from service.models.tickets import Ticket, TicketPriority


def validate_time_zone(name: str) -> None:
    if name not in available_timezones():
        raise ValidationError(f"{name!r} is not an IANA time zone such as Europe/Berlin.")


class WorkingCalendar(models.Model):
    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(max_length=64, default="Europe/Berlin", validators=[validate_time_zone])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class WorkingHours(models.Model):
    """The hours worked on one weekday, local time; a weekday without a row is not worked."""

    calendar = models.ForeignKey(WorkingCalendar, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens_at = models.TimeField()
    closes_at = models.TimeField()

    class Meta:
        ordering = ["calendar", "weekday"]
        verbose_name_plural = "working hours"
        constraints = [
            models.UniqueConstraint(fields=["calendar", "weekday"], name="working_hours_once_per_weekday"),
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")), name="working_hours_close_after_open"
            ),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="working_hours_weekday_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens_at:%H:%M}-{self.closes_at:%H:%M}"


class Holiday(models.Model):
    calendar = models.ForeignKey(WorkingCalendar, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["calendar", "date"]
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="holiday_once_per_day")]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class SlaPolicy(models.Model):
    """Targets for tickets of one customer group (empty: every customer without a policy of their own
    group) and priority, counted in the calendar's business hours."""

    name = models.CharField(max_length=100)
    customer_group = models.ForeignKey(
        CustomerGroup, null=True, blank=True, on_delete=models.PROTECT, related_name="sla_policies"
    )
    priority = models.CharField(max_length=10, choices=TicketPriority.choices)
    first_response_hours = models.DecimalField(max_digits=6, decimal_places=2)
    resolution_hours = models.DecimalField(max_digits=6, decimal_places=2)
    calendar = models.ForeignKey(WorkingCalendar, on_delete=models.PROTECT, related_name="policies")

    class Meta:
        ordering = ["customer_group__name", "priority"]
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        constraints = [
            models.UniqueConstraint(
                fields=["customer_group", "priority"], nulls_distinct=False, name="sla_policy_one_per_group_priority"
            ),
            models.CheckConstraint(condition=Q(first_response_hours__gt=0), name="sla_first_response_positive"),
            models.CheckConstraint(
                condition=Q(resolution_hours__gte=models.F("first_response_hours")),
                name="sla_resolution_not_before_first_response",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SlaAlertKind(models.TextChoices):
    FIRST_RESPONSE_SOON = "first_response_soon", "First response due soon"
    FIRST_RESPONSE_BREACHED = "first_response_breached", "First response overdue"
    RESOLUTION_SOON = "resolution_soon", "Resolution due soon"
    RESOLUTION_BREACHED = "resolution_breached", "Resolution overdue"


class SlaAlert(models.Model):
    """One per ticket and kind: the assignee and the team lead are told once."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="sla_alerts")
    kind = models.CharField(max_length=30, choices=SlaAlertKind.choices)
    due_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "kind"], name="sla_alert_once_per_ticket_kind"),
            models.CheckConstraint(condition=Q(kind__in=SlaAlertKind.values), name="sla_alert_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket}: {self.get_kind_display()}"
