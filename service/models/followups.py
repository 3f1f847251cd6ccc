"""Follow-up tasks: a dated reminder for one person to do something about a customer ("call about
the large order", "check the overdue invoice"), made by staff or by an automation rule, listed in
each person's "my follow-ups" until done."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from customers.models import Customer
from otc.audit import tracked


@tracked()
class FollowUpTask(models.Model):
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="follow_ups")
    title = models.CharField(max_length=200)
    note = models.TextField(blank=True)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="follow_ups")
    due_on = models.DateField()
    source = models.CharField(
        max_length=60, blank=True, help_text='What created it, e.g. "rule:12" for an automation rule.'
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["due_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(done_at__isnull=True, done_by__isnull=True)
                | Q(done_at__isnull=False, done_by__isnull=False),
                name="follow_up_done_by_someone",
            )
        ]
        indexes = [
            models.Index(fields=["assignee", "due_on"], condition=Q(done_at__isnull=True), name="follow_up_open")
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_done(self) -> bool:
        return self.done_at is not None
