"""Satisfaction surveys: one short survey per event (a solved ticket, a delivered shipment), sent to
one contact by a signed one-time link. CSAT (1-5, with a comment) is always asked; NPS (0-10) only when
the contact was not asked within the NPS cadence. Key accounts are the customers (one by one, or a
whole customer group) whose new tickets their sales rep and account team hear about."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from customers.models import Contact, Customer, CustomerGroup
from orders.models import Shipment
from service.models.tickets import Team, Ticket


class SurveyTrigger(models.TextChoices):
    TICKET_SOLVED = "ticket_solved", "Ticket solved"
    SHIPMENT_DELIVERED = "shipment_delivered", "Shipment delivered"


CSAT_RANGE = range(1, 6)
NPS_RANGE = range(0, 11)
# At or below these a score is low: the team lead and the account's sales rep hear of it.
LOW_CSAT = 2
LOW_NPS = 6


class Survey(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="surveys")
    contact = models.ForeignKey(
        Contact,
        null=True,
        on_delete=models.SET_NULL,
        related_name="surveys",
        help_text="Who was asked; empty once the contact was removed (the answer stays).",
    )
    trigger = models.CharField(max_length=20, choices=SurveyTrigger.choices)
    ticket = models.OneToOneField(Ticket, null=True, blank=True, on_delete=models.PROTECT, related_name="survey")
    shipment = models.OneToOneField(Shipment, null=True, blank=True, on_delete=models.PROTECT, related_name="survey")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Who had the ticket when it was solved.",
    )
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT, related_name="surveys")
    category = models.CharField(max_length=20, blank=True, help_text="The ticket's category when it was solved.")
    asks_nps = models.BooleanField(default=False)
    sent_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    csat = models.PositiveSmallIntegerField(null=True, blank=True)
    nps = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["-sent_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(trigger__in=SurveyTrigger.values), name="survey_trigger_valid"),
            models.CheckConstraint(
                condition=Q(trigger=SurveyTrigger.TICKET_SOLVED, ticket__isnull=False, shipment__isnull=True)
                | Q(trigger=SurveyTrigger.SHIPMENT_DELIVERED, shipment__isnull=False, ticket__isnull=True),
                name="survey_about_its_event",
            ),
            models.CheckConstraint(
                condition=Q(csat__isnull=True) | Q(csat__gte=1, csat__lte=5), name="survey_csat_1_5"
            ),
            models.CheckConstraint(condition=Q(nps__isnull=True) | Q(nps__lte=10), name="survey_nps_0_10"),
            models.CheckConstraint(condition=Q(nps__isnull=True) | Q(asks_nps=True), name="survey_nps_only_if_asked"),
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True, csat__isnull=True)
                | Q(answered_at__isnull=False, csat__isnull=False),
                name="survey_answer_has_csat",
            ),
        ]
        indexes = [
            models.Index(fields=["contact", "sent_at"], name="survey_contact_sent"),
            models.Index(fields=["customer", "answered_at"], name="survey_customer_answered"),
        ]

    def __str__(self) -> str:
        about = self.ticket or self.shipment
        return f"Survey #{self.pk} on {about}"

    @property
    def is_low(self) -> bool:
        return (self.csat is not None and self.csat <= LOW_CSAT) or (self.nps is not None and self.nps <= LOW_NPS)


class KeyAccount(models.Model):
    """A customer, or every customer of a group, whose new tickets its sales rep and account team hear
    about at once. The account team also hears of the account's disputes and broken promises."""

    customer = models.OneToOneField(
        Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="key_account"
    )
    group = models.OneToOneField(
        CustomerGroup, null=True, blank=True, on_delete=models.CASCADE, related_name="key_account"
    )
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="key_accounts",
        help_text="The account team, told alongside the sales rep.",
    )
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(customer__isnull=False, group__isnull=True) | Q(customer__isnull=True, group__isnull=False),
                name="key_account_customer_or_group",
            )
        ]

    def __str__(self) -> str:
        return f"Key account: {self.customer or self.group}"
