"""Analytics owns no business rows: only read models over snapshots its migrations create."""

from django.db import models

from customers.models import Customer


class Segment(models.TextChoices):
    CHAMPIONS = "champions", "Champions"
    LOYAL = "loyal", "Loyal"
    NEW = "new", "New"
    AT_RISK = "at_risk", "At risk"
    HIBERNATING = "hibernating", "Hibernating"
    NEEDS_ATTENTION = "needs_attention", "Needs attention"


class ChurnRisk(models.TextChoices):
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"
    UNKNOWN = "unknown", "Unknown (one purchase)"


class CustomerBehaviour(models.Model):
    """One row per customer who has ever been invoiced: RFM scores, segment and churn risk as of the
    snapshot's day. A materialised view (`analytics_customer_behaviour`) over the SQL function
    `analytics_customer_behaviour_on(day)`, refreshed concurrently by a scheduled task."""

    customer = models.OneToOneField(
        Customer, primary_key=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    first_invoiced_on = models.DateField()
    last_invoiced_on = models.DateField()
    invoices = models.IntegerField(help_text="Invoices in the last 365 days.")
    revenue = models.DecimalField(max_digits=19, decimal_places=4, help_text="Net, company currency, last 365 days.")
    average_interval_days = models.DecimalField(max_digits=9, decimal_places=1, null=True)
    days_since_last = models.IntegerField()
    recency_score = models.SmallIntegerField()
    frequency_score = models.SmallIntegerField()
    monetary_score = models.SmallIntegerField()
    segment = models.CharField(max_length=20, choices=Segment.choices)
    churn_risk = models.CharField(max_length=10, choices=ChurnRisk.choices)
    as_of = models.DateField()
    computed_at = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "analytics_customer_behaviour"
        verbose_name_plural = "customer behaviour"
        # Opt-in: granted to a person (or a group) who wants the weekly KPI email.
        permissions = [("receive_weekly_kpis", "Receives the weekly KPI email")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.get_segment_display()}"
