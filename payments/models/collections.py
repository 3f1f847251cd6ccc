"""Collections: dunning policies and their levels, the daily dunning runs and the letters they issue,
each invoice's dunning level, promises to pay, payment plans, and reminders before the due date.

A dunning run is unique per date, which is what makes running it twice on one day a no-op. Fees and
interest on a letter are claimed, not posted: they are no open item (see payments.collections.services).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from customers.models import Customer
from invoicing.models import Invoice, StoredDocument
from otc.audit import tracked
from otc.money import CurrencyField, MoneyField


class LetterTemplate(models.TextChoices):
    REMINDER = "reminder", "Reminder"
    SECOND_NOTICE = "second_notice", "Second notice"
    FINAL_DEMAND = "final_demand", "Final demand"


class PromiseStatus(models.TextChoices):
    OPEN = "open", "Open"
    KEPT = "kept", "Kept"
    BROKEN = "broken", "Broken"


@tracked()
class DunningPolicy(models.Model):
    """A ladder of dunning levels; customers without an assignment follow the default policy."""

    name = models.CharField(max_length=100, unique=True)
    is_default = models.BooleanField(default=False)

    class Meta:
        verbose_name_plural = "dunning policies"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="dunning_policy_one_default"
            ),
        ]

    def __str__(self) -> str:
        return self.name


@tracked()
class DunningLevel(models.Model):
    """One rung: reached `days_after_due` days past the due date, one level higher than the last letter."""

    policy = models.ForeignKey(DunningPolicy, on_delete=models.CASCADE, related_name="levels")
    level = models.PositiveSmallIntegerField()
    days_after_due = models.PositiveSmallIntegerField()
    template = models.CharField(max_length=15, choices=LetterTemplate.choices)
    fee = MoneyField(default=0, help_text="Charged once per letter, in the invoices' currency.")
    interest_rate_percent_per_year = models.DecimalField(max_digits=6, decimal_places=3, default=0)
    places_credit_hold = models.BooleanField(default=False)

    class Meta:
        ordering = ["policy", "level"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "level"], name="dunning_level_unique_per_policy"),
            models.CheckConstraint(condition=Q(level__gte=1), name="dunning_level_from_one"),
            models.CheckConstraint(
                condition=Q(template__in=LetterTemplate.values), name="dunning_level_template_valid"
            ),
            models.CheckConstraint(
                condition=Q(fee__gte=0, interest_rate_percent_per_year__gte=0),
                name="dunning_level_charges_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.policy} level {self.level}"


@tracked()
class DunningAssignment(models.Model):
    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="dunning_assignment")
    policy = models.ForeignKey(DunningPolicy, on_delete=models.PROTECT, related_name="assignments")

    def __str__(self) -> str:
        return f"{self.customer_id} → {self.policy}"


class DunningRun(models.Model):
    """The dunning of one day; the unique date makes a second run that day return the first."""

    run_date = models.DateField(unique=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    letters_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-run_date"]

    def __str__(self) -> str:
        return f"Dunning run {self.run_date}"


@tracked()
class DunningLetter(models.Model):
    """What one run claims from one customer in one currency: the invoices raised a level, plus the
    claimed fee and interest (not posted to the ledger)."""

    run = models.ForeignKey(DunningRun, on_delete=models.PROTECT, related_name="letters")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="dunning_letters")
    level = models.PositiveSmallIntegerField(help_text="The highest level among the letter's invoices.")
    template = models.CharField(max_length=15, choices=LetterTemplate.choices)
    currency = CurrencyField()
    invoices = models.ManyToManyField(Invoice, through="DunningLetterItem", related_name="dunning_letters")
    fee_amount = MoneyField(default=0)
    interest_amount = MoneyField(default=0)
    total_due = MoneyField(help_text="Open amounts plus fee plus interest.")
    document = models.ForeignKey(
        StoredDocument, null=True, blank=True, on_delete=models.PROTECT, related_name="dunning_letters"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["run", "customer", "currency"], name="dunning_letter_once_per_run"),
            models.CheckConstraint(
                condition=Q(fee_amount__gte=0, interest_amount__gte=0, total_due__gt=0),
                name="dunning_letter_amounts_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"Dunning letter {self.pk} (level {self.level})"


class DunningLetterItem(models.Model):
    letter = models.ForeignKey(DunningLetter, on_delete=models.CASCADE, related_name="items")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="dunning_items")
    level = models.PositiveSmallIntegerField()
    days_overdue = models.PositiveIntegerField()
    open_amount = MoneyField()
    interest_amount = MoneyField(default=0)

    class Meta:
        ordering = ["letter", "invoice"]
        constraints = [
            models.UniqueConstraint(fields=["letter", "invoice"], name="dunning_item_invoice_once_per_letter"),
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id} at level {self.level}"


class InvoiceDunningState(models.Model):
    """The level an invoice has reached and when its last letter went out."""

    invoice = models.OneToOneField(Invoice, on_delete=models.CASCADE, primary_key=True, related_name="dunning_state")
    level = models.PositiveSmallIntegerField()
    last_dunned_on = models.DateField()

    def __str__(self) -> str:
        return f"{self.invoice_id} at level {self.level}"


@tracked()
class PromiseToPay(models.Model):
    """The customer promised to pay these invoices by a date; dunning leaves them alone until then."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="promises_to_pay")
    invoices = models.ManyToManyField(Invoice, related_name="promises_to_pay")
    promised_date = models.DateField()
    currency = CurrencyField()
    amount = MoneyField()
    status = models.CharField(max_length=10, choices=PromiseStatus.choices, default=PromiseStatus.OPEN)
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_on = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name = "promise to pay"
        verbose_name_plural = "promises to pay"
        ordering = ["-promised_date", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="promise_amount_positive"),
            models.CheckConstraint(condition=Q(status__in=PromiseStatus.values), name="promise_status_valid"),
        ]
        indexes = [models.Index(fields=["promised_date"], condition=Q(status="open"), name="promise_open")]

    def __str__(self) -> str:
        return f"Promise of {self.amount} {self.currency} by {self.promised_date}"


class PaymentPlan(models.Model):
    """The invoices' open total, agreed to be paid in instalments; not dunned before one is overdue."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="payment_plans")
    invoices = models.ManyToManyField(Invoice, related_name="payment_plans")
    currency = CurrencyField()
    total_amount = MoneyField(help_text="The invoices' open total when the plan was agreed.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.CheckConstraint(condition=Q(total_amount__gt=0), name="payment_plan_total_positive")]

    def __str__(self) -> str:
        return f"Payment plan {self.pk} over {self.total_amount} {self.currency}"


class PaymentPlanInstalment(models.Model):
    plan = models.ForeignKey(PaymentPlan, on_delete=models.CASCADE, related_name="instalments")
    due_date = models.DateField()
    amount = MoneyField()
    paid = models.BooleanField(default=False, help_text="Covered by what the plan's invoices have been paid.")

    class Meta:
        ordering = ["plan", "due_date"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "due_date"], name="instalment_once_per_date"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="instalment_amount_positive"),
        ]
        indexes = [models.Index(fields=["due_date"], condition=Q(paid=False), name="instalment_unpaid")]

    def __str__(self) -> str:
        return f"{self.amount} due {self.due_date}"


class PaymentReminder(models.Model):
    """A reminder before the due date was sent for this invoice; the unique invoice makes it once."""

    invoice = models.OneToOneField(Invoice, on_delete=models.CASCADE, related_name="payment_reminder")
    sent_on = models.DateField()

    def __str__(self) -> str:
        return f"Reminder for {self.invoice_id} on {self.sent_on}"
