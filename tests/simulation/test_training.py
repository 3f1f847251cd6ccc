"""The training sandbox is reset to a freshly simulated company, keeping how the company is set up; a
database that is not marked as a sandbox is never wiped."""

from datetime import UTC, datetime
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from customers.models import Customer
from ledger.models import LedgerAccount
from ledger.selectors import ledger_problems
from orders.models import Order
from otc.models import ApiKey, User
from simulation import tasks
from simulation.channels import SHOP_KEY_NAME
from simulation.training import wiped_models
from tests.factories import StaffFactory
from workflows.models import AutomationRule, OutboxEvent

RESET_NIGHT = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)

# How the company is set up: kept by a reset. Every model of the project is either this or wiped.
KEPT = {
    "otc.User",
    "otc.ApiKey",
    "otc.ExchangeRate",
    "otc.CompanyProfile",
    "otc.DocumentStyle",
    "customers.CustomerGroup",
    "ledger.LedgerAccount",
    "payments.CompanyBankAccount",
    "payments.DunningPolicy",
    "payments.DunningLevel",
    "service.Team",
    "service.CannedReply",
    "service.WorkingCalendar",
    "service.WorkingHours",
    "service.Holiday",
    "service.SlaPolicy",
    "workflows.OperationsView",
    "workflows.AutomationRule",
    "workflows.AutomationRuleVersion",
    "workflows.NotificationTemplate",
    "workflows.NotificationTemplateVersion",
    "workflows.StaffNotificationSettings",
    "workflows.WebhookSubscription",
}
PROJECT_APPS = ("otc", "customers", "inventory", "ledger", "orders", "invoicing", "payments", "service")
PROJECT_APPS += ("analytics", "workflows")


def test_every_model_is_either_a_business_record_or_set_up():
    wiped = {model._meta.label for model in wiped_models() if getattr(model, "pgh_tracked_model", None) is None}
    models = {
        model._meta.label
        for label in PROJECT_APPS
        for model in apps.get_app_config(label).get_models()
        if getattr(model, "pgh_tracked_model", None) is None and model._meta.managed and not model._meta.proxy
    }

    assert models - wiped - KEPT == set(), "new models: add each to the wiped records or to KEPT"
    assert wiped & KEPT == set()


@pytest.mark.django_db
def test_a_database_not_marked_as_a_sandbox_is_not_wiped(customer):
    with pytest.raises(CommandError, match="not a training sandbox"):
        call_command("simulate", customers=2, days=2, training=True, stdout=StringIO())

    assert Customer.objects.filter(pk=customer.pk).exists()


@pytest.mark.django_db(transaction=True)  # the simulation commits each day, as live
def test_the_nightly_reset_simulates_the_company_afresh_and_keeps_the_set_up(
    settings, media_root, customer, monkeypatch
):
    # The reset simulates the days up to yesterday: a fixed night keeps the days, and so the seeded
    # draws, the same on any date (run on 2026-12-06, the eight days drew no order at all).
    monkeypatch.setattr(timezone, "now", lambda: RESET_NIGHT)
    settings.OTC_TRAINING_SANDBOX = True
    settings.OTC_TRAINING_COMPANY = {"customers": 6, "days": 8, "seed": 2}
    trainer = StaffFactory(email="trainer@otc.test")
    every_minute = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.MINUTES)
    PeriodicTask.objects.create(name="trainer's schedule", task="workflows.tasks.sweep_outbox", interval=every_minute)
    rules, accounts = AutomationRule.objects.count(), LedgerAccount.objects.count()

    tasks.reset_training_company()
    first = set(Customer.objects.values_list("number", flat=True))
    tasks.reset_training_company()

    assert not Customer.objects.filter(legal_name=customer.legal_name).exists()
    assert Customer.objects.count() == 6
    assert set(Customer.objects.values_list("number", flat=True)) == first, "numbering restarts"
    assert Order.objects.exists()
    assert ApiKey.objects.count() == 1, "the simulated web shop's key, once"
    portal_users = User.objects.filter(portal_membership__isnull=False)
    assert User.objects.filter(email__endswith="@sim.example").count() == portal_users.count() > 0
    assert User.objects.filter(api_keys__name=SHOP_KEY_NAME).count() == 1
    assert User.objects.filter(full_name__contains=SHOP_KEY_NAME).count() == 1, "the last run's went with its key"
    assert User.objects.filter(pk=trainer.pk).exists()
    assert PeriodicTask.objects.filter(name="trainer's schedule").exists()
    assert (AutomationRule.objects.count(), LedgerAccount.objects.count()) == (rules, accounts)
    assert ledger_problems() == []
    assert not OutboxEvent.objects.exclude(status="done").exists()
