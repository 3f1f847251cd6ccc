"""What the operations view reads beyond the outbox: the last run of each scheduled job, and the
proxy the view hangs off in the admin (so it has a sidebar entry and the outbox's permissions)."""

from django.db import models
from django.db.models import Q

from workflows.models.outbox import OutboxEvent


class JobOutcome(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class ScheduledJobRun(models.Model):
    """The latest run of one scheduled job (an entry of CELERY_BEAT_SCHEDULE): one row per job, kept
    current by Celery's task signals, so an operator sees when each job last ran, how it ended and how
    long it took, and a job that stopped running stands out."""

    job = models.CharField(max_length=200, unique=True, help_text="The entry's name in the beat schedule.")
    task = models.CharField(max_length=200)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=JobOutcome.choices, default=JobOutcome.RUNNING)
    duration = models.DurationField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["job"]
        constraints = [
            models.CheckConstraint(condition=Q(outcome__in=JobOutcome.values), name="scheduled_job_outcome_valid")
        ]

    def __str__(self) -> str:
        return f"{self.job} ({self.get_outcome_display()} {self.started_at:%Y-%m-%d %H:%M:%S})"


class OperationsView(OutboxEvent):
    """No rows of its own: the admin's operations page is this proxy's list, gated by the outbox's
    view permission (workflows.view_outboxevent)."""

    class Meta:
        proxy = True
        default_permissions = ()
        verbose_name = verbose_name_plural = "operations"
