"""Automation rules: WHEN an event type, IF a condition tree, THEN actions in order. Every change
raises the rule's version and keeps the version (who, when) in its history; every run of a rule for
an event is logged once (a unique run row per event and rule), with the conditions' trace and each
action's outcome; a "wait" step is a delayed step row that the scheduler resumes."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from customers.models import Customer
from workflows.models.outbox import OutboxEvent


class AutomationRule(models.Model):
    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    event_type = models.CharField(max_length=60, help_text="WHEN: the event (from the catalogue) the rule runs on.")
    conditions = models.JSONField(
        default=dict, blank=True, help_text="IF: a condition tree ({} matches every event of the type)."
    )
    actions = models.JSONField(default=list, blank=True, help_text="THEN: the actions, in order.")
    active = models.BooleanField(default=False, help_text="Only active rules run; try a new rule with a dry run first.")
    builtin_handler = models.CharField(
        max_length=100,
        blank=True,
        help_text="Set on the built-in rules: the fixed handler this rule switches and filters.",
    )
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["event_type", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["builtin_handler", "event_type"],
                condition=~Q(builtin_handler=""),
                name="automation_rule_one_per_builtin_handler",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="automation_rule_version_from_one"),
        ]
        indexes = [models.Index(fields=["event_type"], condition=Q(active=True), name="automation_rule_active")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_builtin(self) -> bool:
        return bool(self.builtin_handler)


class AutomationRuleVersion(models.Model):
    """A rule as it was saved at one version, with who saved it and when."""

    rule = models.ForeignKey(AutomationRule, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    event_type = models.CharField(max_length=60)
    conditions = models.JSONField(default=dict)
    actions = models.JSONField(default=list)
    active = models.BooleanField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["rule", "-version"]
        constraints = [models.UniqueConstraint(fields=["rule", "version"], name="automation_rule_version_once")]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class RuleRunStatus(models.TextChoices):
    DONE = "done", "Matched, actions done"
    NOT_MATCHED = "not_matched", "Conditions not met"
    WAITING = "waiting", "Waiting (delayed step)"
    CANCELLED = "cancelled", "Cancelled at re-check"
    FAILED = "failed", "Failed"
    LOOP_STOPPED = "loop_stopped", "Stopped (loop)"


class RuleRun(models.Model):
    """One rule's run for one event: the version that ran, the conditions' outcome and trace, and each
    action's result (`actions`: [{"index", "type", "status", "summary", "recipients", "error"}])."""

    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="rule_runs")
    rule = models.ForeignKey(AutomationRule, on_delete=models.CASCADE, related_name="runs")
    rule_version = models.PositiveIntegerField()
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=12, choices=RuleRunStatus.choices)
    matched = models.BooleanField()
    trace = models.JSONField(default=list, blank=True)
    actions = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["event", "rule"], name="rule_run_once_per_event"),
            models.CheckConstraint(condition=Q(status__in=RuleRunStatus.values), name="rule_run_status_valid"),
        ]
        indexes = [
            models.Index(fields=["rule", "-created_at"], name="rule_run_by_rule"),
            models.Index(fields=["customer", "-created_at"], name="rule_run_by_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.rule} v{self.rule_version} on {self.event}"


class DelayedStepStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RESUMED = "resumed", "Resumed"
    CANCELLED = "cancelled", "Cancelled"


class DelayedStep(models.Model):
    """A rule run waiting at a "wait" action: at `resume_at` the scheduler re-checks the conditions and
    goes on with action `next_action`, or cancels (and logs why)."""

    run = models.ForeignKey(RuleRun, on_delete=models.CASCADE, related_name="delayed_steps")
    next_action = models.PositiveSmallIntegerField(help_text="Index of the action to go on with.")
    resume_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=DelayedStepStatus.choices, default=DelayedStepStatus.PENDING)
    resolved_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["resume_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=DelayedStepStatus.values), name="delayed_step_status_valid"),
            models.UniqueConstraint(fields=["run", "next_action"], name="delayed_step_once_per_action"),
        ]
        indexes = [models.Index(fields=["resume_at"], condition=Q(status="pending"), name="delayed_step_due")]

    def __str__(self) -> str:
        return f"{self.run.rule} step {self.next_action + 1} at {self.resume_at:%Y-%m-%d %H:%M}"
