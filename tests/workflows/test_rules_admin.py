"""Automation rules in the admin: the reference beside the JSON, a refusal naming the path that saves
nothing, saving through the service (versions kept), the dry run of a saved rule and of an unsaved
draft, the run log as the customer's timeline, and cancelling a waiting step."""

import json

import pytest
from django.db import transaction
from django.test import Client

from customers import services as customers
from tests.factories import CustomerFactory, StaffFactory
from tests.support.outbox import run_outbox
from workflows.models import AutomationRule, DelayedStep, DelayedStepStatus, RuleRun, RuleRunStatus
from workflows.rules.services import create_rule

pytestmark = pytest.mark.django_db

RULES = "/admin/workflows/automationrule/"
HOLD = "customer.credit_hold_placed"
NOTIFY_REP = [{"type": "notify", "template": "rule_notice", "to": "sales_rep"}]


@pytest.fixture
def admin_client(db) -> Client:
    client = Client()
    client.force_login(StaffFactory(email="ada@otc.test", full_name="Ada Admin", groups=["admin"]))
    return client


def _form(**overrides) -> dict:
    data = {
        "name": "Reps hear of holds",
        "description": "",
        "event_type": HOLD,
        "conditions": json.dumps({"field": "customer.country", "op": "eq", "value": "DE"}),
        "actions": json.dumps(NOTIFY_REP),
        "active": "",
        "versions-TOTAL_FORMS": "0",
        "versions-INITIAL_FORMS": "0",
        "_save": "Save",
    }
    data.update(overrides)
    return data


def _held(clerk, sales_rep, country: str = "DE"):
    customer = CustomerFactory(actor=clerk, sales_rep=sales_rep, country=country)
    with transaction.atomic():
        customers.place_credit_hold(customer=customer, actor=clerk, reason="overdue")
    return customer


def test_a_rule_saved_in_the_admin_goes_through_the_service_and_a_wrong_path_is_shown(admin_client):
    refused = admin_client.post(
        f"{RULES}add/", _form(conditions=json.dumps({"any": [{"field": "customer.contry", "op": "eq", "value": "DE"}]}))
    )
    assert refused.status_code == 200
    assert "conditions.any[0].field: &quot;customer.contry&quot; is not a field of customer.credit_hold_placed" in (
        refused.content.decode()
    )
    assert not AutomationRule.objects.filter(name="Reps hear of holds").exists()

    saved = admin_client.post(f"{RULES}add/", _form())
    assert saved.status_code == 302
    rule = AutomationRule.objects.get(name="Reps hear of holds")
    assert (rule.version, rule.active, rule.created_by.email) == (1, False, "ada@otc.test")
    assert rule.conditions == {"field": "customer.country", "op": "eq", "value": "DE"}

    page = admin_client.get(f"{RULES}{rule.pk}/change/")
    assert page.status_code == 200
    assert "customer.predicted_days_late" in page.content.decode()  # the reference of the event's fields
    changed = admin_client.post(f"{RULES}{rule.pk}/change/", _form(active="on"))
    assert changed.status_code == 302
    rule.refresh_from_db()
    assert (rule.version, rule.active) == (2, True)
    assert list(rule.versions.values_list("version", "changed_by__email")) == [(2, "ada@otc.test"), (1, "ada@otc.test")]


def test_a_built_in_rule_can_be_switched_off_but_not_given_actions_or_deleted(admin_client, builtin_rules):
    builtin = builtin_rules.get(builtin_handler="send_order_confirmation")
    form = _form(name=builtin.name, event_type=builtin.event_type, conditions="{}", actions="[]")

    assert admin_client.post(f"{RULES}{builtin.pk}/change/", form).status_code == 302
    builtin.refresh_from_db()
    assert (builtin.active, builtin.version, builtin.actions) == (False, 2, [])
    form["actions"] = json.dumps(NOTIFY_REP)
    admin_client.post(f"{RULES}{builtin.pk}/change/", form)  # a disabled field: the posted value is ignored
    builtin.refresh_from_db()
    assert (builtin.actions, builtin.version) == ([], 2)
    assert admin_client.post(f"{RULES}{builtin.pk}/delete/", {"post": "yes"}).status_code == 403


def test_the_dry_run_of_a_draft_shows_matches_and_recipients_and_saves_nothing(admin_client, clerk, sales_rep):
    _held(clerk, sales_rep)
    _held(clerk, sales_rep, country="FR")

    page = admin_client.post(f"{RULES}add/", _form(dry_run_only="on"))

    assert page.status_code == 200
    text = page.content.decode()
    assert "1 of 2 <code>customer.credit_hold_placed</code> event(s) of the last 30 days matched." in text
    assert "email rule_notice to rita@otc.test" in text
    assert not AutomationRule.objects.filter(name="Reps hear of holds").exists()


def test_the_run_log_is_the_customers_automation_timeline_and_a_waiting_step_can_be_cancelled(
    admin_client, clerk, sales_rep
):
    rule = create_rule(
        name="Wait, then follow up",
        event_type=HOLD,
        actions=[*NOTIFY_REP, {"type": "wait", "business_days": 3}, {"type": "add_tag", "tag": "late"}],
        actor=clerk,
        active=True,
    )
    customer = _held(clerk, sales_rep)
    other = _held(clerk, sales_rep)
    run_outbox(HOLD)

    dry = admin_client.get(f"{RULES}{rule.pk}/dry-run/")
    assert "after the wait, if the conditions still hold" in dry.content.decode()
    customer_page = admin_client.get(f"/admin/customers/customer/{customer.pk}/change/")
    assert f"/admin/workflows/rulerun/?customer__id__exact={customer.pk}" in customer_page.content.decode()
    timeline = admin_client.get(f"/admin/workflows/rulerun/?customer__id__exact={customer.pk}")
    assert timeline.status_code == 200
    timeline_runs = set(timeline.context["cl"].result_list)
    assert timeline_runs == set(RuleRun.objects.filter(customer=customer))  # built-in rules' runs too, if on
    assert RuleRun.objects.get(rule=rule, customer=customer) in timeline_runs
    assert other.number not in "".join(str(run) for run in timeline.context["cl"].result_list)

    step = DelayedStep.objects.get(run__customer=customer)
    assert admin_client.post(f"/admin/workflows/delayedstep/{step.pk}/cancel/").status_code == 302
    step.refresh_from_db()
    assert (step.status, step.note) == (DelayedStepStatus.CANCELLED, "cancelled by ada@otc.test")
    assert RuleRun.objects.get(rule=rule, customer=customer).status == RuleRunStatus.CANCELLED
    assert DelayedStep.objects.get(run__customer=other).status == DelayedStepStatus.PENDING
