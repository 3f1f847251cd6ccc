"""Automation rules on real PostgreSQL: saving checks the whole rule and names the wrong path; a rule
runs once per event and rule, in its own savepoint, logged with its version and trace; loops stop; the
built-in rules switch and filter today's fixed notifications; a dry run shows what the live run does."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from customers import services as customers
from customers.models import CustomerTag
from service.models import FollowUpTask
from tests.factories import CustomerFactory, StaffFactory
from tests.support.outbox import run_outbox
from workflows.handlers import HANDLERS
from workflows.models import (
    AutomationRule,
    AutomationRuleVersion,
    DelayedStep,
    DelayedStepStatus,
    Delivery,
    EventStatus,
    HandlerRun,
    OutboxEvent,
    RuleRun,
    RuleRunStatus,
)
from workflows.rules.builtin import BUILTIN_HANDLERS
from workflows.rules.dry_run import dry_run
from workflows.rules.runner import resume_due_steps
from workflows.rules.services import RuleInvalid, create_rule, switch_rule, update_rule
from workflows.services import dispatch_event

pytestmark = pytest.mark.django_db

HOLD = "customer.credit_hold_placed"
NOTIFY_DESK = {"type": "notify", "template": "rule_notice", "to": "address", "address": "desk@otc.test"}
IN_GERMANY = {"field": "customer.country", "op": "eq", "value": "DE"}


def _hold(customer, clerk, reason: str = "two invoices 60 days overdue") -> OutboxEvent:
    with transaction.atomic():
        customers.place_credit_hold(customer=customer, actor=clerk, reason=reason)
    return OutboxEvent.objects.filter(event_type=HOLD, payload__customer_id=customer.pk).latest("pk")


def _rule(clerk, actions, conditions=None, *, event_type=HOLD, name="Credit desk hears of German holds"):
    return create_rule(
        name=name, event_type=event_type, conditions=conditions or {}, actions=actions, actor=clerk, active=True
    )


def _rule_deliveries(rule) -> list[str]:
    return sorted(Delivery.objects.filter(handler__startswith=f"rule:{rule.pk}:").values_list("recipient", flat=True))


# --- Saving ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event_type", "conditions", "actions", "field", "message"),
    [
        (
            "order.confirmed",
            {"all": [IN_GERMANY, {"field": "custmer.country", "op": "eq", "value": "DE"}]},
            [NOTIFY_DESK],
            "conditions",
            'conditions.all[1].field: "custmer.country" is not a field of order.confirmed',
        ),
        (
            "invoice.issued",
            {"all": [{"field": "event.issue_date", "op": "gt", "value": "abc"}]},
            [NOTIFY_DESK],
            "conditions",
            "conditions.all[0].value: 'abc' is not a date (YYYY-MM-DD) (field event.issue_date is date)",
        ),
        (
            "order.confirmed",
            {"any": [{"not": {"field": "event.gross_total", "op": "between", "value": ["500", "100"]}}]},
            [NOTIFY_DESK],
            "conditions",
            "conditions.any[0].not.value: between: '500' is above '100' (field event.gross_total is decimal)",
        ),
        (
            "order.confirmed",
            {"field": "customer.tags", "op": "gt", "value": "vip"},
            [NOTIFY_DESK],
            "conditions",
            'conditions.op: "gt" does not apply to customer.tags (list); use contains, is_empty',
        ),
        (
            "order.confirmed",
            {},
            [NOTIFY_DESK, {"type": "notify", "template": "no_such_template", "to": "sales_rep"}],
            "actions",
            'actions[1].template: "no_such_template" is not one of',
        ),
        (
            "inventory.low_stock",
            {},
            [{"type": "add_tag", "tag": "vip"}],
            "actions",
            "actions[0].type: add_tag needs an event about a customer; inventory.low_stock is not",
        ),
        (
            "invoice.issued",
            {},
            [NOTIFY_DESK, {"type": "wait", "business_days": 2}],
            "actions",
            "actions[1]: a wait must be followed by the action(s) it waits for",
        ),
        ("order.shipped", {}, [NOTIFY_DESK], "event_type", '"order.shipped" is not an event type of the catalogue'),
    ],
)
def test_an_invalid_rule_is_refused_naming_the_path_and_nothing_is_saved(
    clerk, event_type, conditions, actions, field, message
):
    rules_before = AutomationRule.objects.count()

    with pytest.raises(RuleInvalid) as refused:
        create_rule(name="Broken", event_type=event_type, conditions=conditions, actions=actions, actor=clerk)

    assert any(found.startswith(message) for found in refused.value.fields[field]), refused.value.fields
    assert AutomationRule.objects.count() == rules_before
    assert not AutomationRuleVersion.objects.filter(name="Broken").exists()


def test_every_change_raises_the_version_and_keeps_it_with_who_and_when(clerk, approver):
    rule = create_rule(name="Desk", event_type=HOLD, actions=[NOTIFY_DESK], actor=clerk)

    update_rule(rule=rule, actor=approver, data={"conditions": {"all": [IN_GERMANY]}})
    update_rule(rule=rule, actor=approver, data={"conditions": {"all": [IN_GERMANY]}})  # no change, no version
    switch_rule(rule=rule, active=True, actor=clerk)

    rule.refresh_from_db()
    assert (rule.version, rule.active) == (3, True)
    history = list(
        rule.versions.order_by("version").values_list("version", "changed_by__email", "active", "conditions")
    )
    assert history == [
        (1, "clara@otc.test", False, {}),
        (2, "anton@otc.test", False, {"all": [IN_GERMANY]}),
        (3, "clara@otc.test", True, {"all": [IN_GERMANY]}),
    ]
    with pytest.raises(RuleInvalid):
        update_rule(rule=rule, actor=clerk, data={"conditions": {"field": "customer.country", "op": "eq", "value": 7}})
    rule.refresh_from_db()
    assert rule.version == 3


# --- Running -----------------------------------------------------------------------------------------


def test_a_matching_rule_runs_once_per_event_and_logs_version_trace_and_actions(clerk, sales_rep):
    german = CustomerFactory(actor=clerk, sales_rep=sales_rep)
    french = CustomerFactory(actor=clerk, sales_rep=sales_rep, country="FR")
    rule = _rule(clerk, [NOTIFY_DESK, {"type": "add_tag", "tag": "held"}], {"all": [IN_GERMANY]})
    german_event, french_event = _hold(german, clerk), _hold(french, clerk)

    run_outbox(HOLD)
    OutboxEvent.objects.filter(pk=german_event.pk).update(status=EventStatus.PENDING)
    HandlerRun.objects.filter(event=german_event).delete()  # as if the first delivery's record were lost
    dispatch_event(event_id=german_event.pk, handlers=HANDLERS)  # delivered a second time

    run = RuleRun.objects.get(rule=rule, event=german_event)
    assert (run.status, run.matched, run.rule_version, run.customer_id) == (RuleRunStatus.DONE, True, 1, german.pk)
    assert run.trace == [
        {
            "path": "conditions.all[0]",
            "field": "customer.country",
            "op": "eq",
            "value": "DE",
            "actual": "DE",
            "result": True,
        }
    ]
    assert [(a["type"], a["status"]) for a in run.actions] == [("notify", "done"), ("add_tag", "done")]
    assert run.actions[0]["recipients"] == ["desk@otc.test"]
    not_matched = RuleRun.objects.get(rule=rule, event=french_event)
    assert (not_matched.status, not_matched.matched, not_matched.actions) == (RuleRunStatus.NOT_MATCHED, False, [])
    assert RuleRun.objects.filter(rule=rule).count() == 2
    assert _rule_deliveries(rule) == ["desk@otc.test"]
    assert list(CustomerTag.objects.values_list("customer_id", "name")) == [(german.pk, "held")]


def test_a_failing_rule_is_rolled_back_and_logged_and_stops_neither_another_rule_nor_the_fixed_handler(
    clerk, sales_rep
):
    customer = CustomerFactory(actor=clerk, sales_rep=sales_rep)
    # Tags first, then tries to hold a customer who is on hold already: the service refuses.
    failing = _rule(
        clerk,
        [{"type": "add_tag", "tag": "first"}, {"type": "place_credit_hold", "reason": "again"}],
        name="Fails",
    )
    working = _rule(clerk, [NOTIFY_DESK], name="Works")
    event = _hold(customer, clerk)

    run_outbox(HOLD)

    event.refresh_from_db()
    assert event.status == EventStatus.DONE
    failed = RuleRun.objects.get(rule=failing, event=event)
    assert failed.status == RuleRunStatus.FAILED
    assert failed.error.startswith("actions[1] place_credit_hold: CustomerStatusConflict: Only an active customer")
    assert [(a["type"], a["status"]) for a in failed.actions] == [
        ("add_tag", "rolled back"),
        ("place_credit_hold", "failed"),
    ]
    assert not CustomerTag.objects.exists()
    assert not OutboxEvent.objects.filter(event_type="customer.tagged").exists()
    assert RuleRun.objects.get(rule=working, event=event).status == RuleRunStatus.DONE
    assert _rule_deliveries(working) == ["desk@otc.test"]
    assert Delivery.objects.get(handler="notify_sales_rep_of_credit_hold").recipient == "rita@otc.test"


def test_a_rule_whose_action_causes_its_own_event_is_stopped_and_logged(clerk, sales_rep):
    customer = CustomerFactory(actor=clerk, sales_rep=sales_rep)
    rule = _rule(
        clerk,
        [
            {"type": "add_tag", "tag": "watched"},
            {"type": "create_follow_up", "title": "Look at the tags", "assignee": "sales_rep"},
        ],
        event_type="customer.tagged",
        name="Tag begets tag",
    )
    with transaction.atomic():
        customers.add_customer_tag(customer=customer, name="new", actor=clerk)

    run_outbox()
    run_outbox()

    first, second = OutboxEvent.objects.filter(event_type="customer.tagged").order_by("pk")
    assert (first.rule_chain, second.rule_chain) == ([], [rule.pk])
    assert second.payload["tag"] == "watched"
    assert RuleRun.objects.get(event=first).status == RuleRunStatus.DONE
    stopped = RuleRun.objects.get(event=second)
    assert stopped.status == RuleRunStatus.LOOP_STOPPED
    assert "caused by this rule's own actions" in stopped.error
    assert FollowUpTask.objects.count() == 1
    assert OutboxEvent.objects.filter(event_type="customer.tagged").count() == 2


def test_a_chain_of_rules_deeper_than_the_setting_is_stopped(clerk, sales_rep, settings):
    settings.AUTOMATION_MAX_RULE_CHAIN = 1
    customer = CustomerFactory(actor=clerk, sales_rep=sales_rep)
    tagged = "customer.tagged"
    _rule(
        clerk,
        [{"type": "add_tag", "tag": "b"}],
        {"field": "event.tag", "op": "eq", "value": "a"},
        event_type=tagged,
        name="a to b",
    )
    b_to_c = _rule(
        clerk,
        [{"type": "add_tag", "tag": "c"}],
        {"field": "event.tag", "op": "eq", "value": "b"},
        event_type=tagged,
        name="b to c",
    )
    with transaction.atomic():
        customers.add_customer_tag(customer=customer, name="a", actor=clerk)

    run_outbox()
    run_outbox()

    assert sorted(CustomerTag.objects.values_list("name", flat=True)) == ["a", "b"]
    stopped = RuleRun.objects.get(rule=b_to_c, event__payload__tag="b")
    assert stopped.status == RuleRunStatus.LOOP_STOPPED
    assert "AUTOMATION_MAX_RULE_CHAIN is 1" in stopped.error


# --- Built-in rules ----------------------------------------------------------------------------------


def test_every_fixed_notification_handler_has_its_built_in_rule(builtin_rules):
    builtin = set(builtin_rules.values_list("builtin_handler", "event_type"))
    expected = {(handler, event_type) for handler, types in BUILTIN_HANDLERS.items() for event_type in types}
    assert builtin == expected
    handled = {(h.__name__, event_type) for event_type, handlers in HANDLERS.items() for h in handlers}
    assert expected <= handled
    assert {name for name, _ in handled - expected} == {
        "invoice_dispatched_shipment",
        "credit_returned_goods",
        "allocate_received_stock",
        "run_automation_rules",
        "queue_partner_webhooks",
    }


def test_switching_a_built_in_rule_off_stops_its_email(clerk, sales_rep, builtin_rules):
    builtin = builtin_rules.get(builtin_handler="notify_sales_rep_of_credit_hold")
    switch_rule(rule=builtin, active=False, actor=clerk)
    customer = CustomerFactory(actor=clerk, sales_rep=sales_rep)
    event = _hold(customer, clerk)

    run_outbox(HOLD)

    event.refresh_from_db()
    assert event.status == EventStatus.DONE
    assert not Delivery.objects.exists()
    assert HandlerRun.objects.filter(event=event, handler="notify_sales_rep_of_credit_hold").exists()

    switch_rule(rule=builtin, active=True, actor=clerk)
    _hold(CustomerFactory(actor=clerk, sales_rep=sales_rep), clerk)
    run_outbox(HOLD)
    assert Delivery.objects.get().recipient == "rita@otc.test"


def test_a_condition_added_to_a_built_in_rule_filters_its_email(clerk, sales_rep, builtin_rules):
    builtin = builtin_rules.get(builtin_handler="notify_sales_rep_of_credit_hold")
    update_rule(
        rule=builtin, actor=clerk, data={"conditions": {"field": "customer.country", "op": "eq", "value": "FR"}}
    )
    german = CustomerFactory(actor=clerk, sales_rep=sales_rep)
    french = CustomerFactory(actor=clerk, sales_rep=sales_rep, country="FR")
    german_event, french_event = _hold(german, clerk), _hold(french, clerk)

    run_outbox(HOLD)

    assert list(Delivery.objects.values_list("event_id", "recipient")) == [(french_event.pk, "rita@otc.test")]
    runs = dict(RuleRun.objects.filter(rule=builtin).values_list("event_id", "status"))
    assert runs == {german_event.pk: RuleRunStatus.NOT_MATCHED, french_event.pk: RuleRunStatus.DONE}
    with pytest.raises(RuleInvalid):
        update_rule(rule=builtin, actor=clerk, data={"actions": [NOTIFY_DESK]})


# --- Dry run -----------------------------------------------------------------------------------------


def test_a_dry_run_shows_what_the_live_run_then_does(clerk, sales_rep):
    other_rep = StaffFactory(email="otto@otc.test")
    customers_held = [
        CustomerFactory(actor=clerk, sales_rep=sales_rep),
        CustomerFactory(actor=clerk, sales_rep=other_rep),
        CustomerFactory(actor=clerk, sales_rep=sales_rep, country="AT"),
    ]
    for customer in customers_held:
        _hold(customer, clerk)
    rule = create_rule(
        name="Reps hear of German holds",
        event_type=HOLD,
        conditions={"all": [IN_GERMANY]},
        actions=[{"type": "notify", "template": "rule_notice", "to": "sales_rep"}, {"type": "add_tag", "tag": "held"}],
        actor=clerk,
    )

    report = dry_run(event_type=rule.event_type, conditions=rule.conditions, actions=rule.actions, rule_id=rule.pk)

    assert report.examined == 3
    planned = {
        match.event.pk: [(action.type, action.recipients, action.error) for action in match.actions]
        for match in report.matches
    }
    assert not Delivery.objects.filter(handler__startswith="rule:").exists()
    assert not CustomerTag.objects.exists()
    assert not RuleRun.objects.filter(rule=rule).exists()

    switch_rule(rule=rule, active=True, actor=clerk)
    run_outbox(HOLD)

    done = {
        run.event_id: [(action["type"], action["recipients"], action.get("error", "")) for action in run.actions]
        for run in RuleRun.objects.filter(rule=rule, status=RuleRunStatus.DONE)
    }
    assert done == planned
    assert sorted(planned.values()) == [
        [("notify", ["otto@otc.test"], ""), ("add_tag", [], "")],
        [("notify", ["rita@otc.test"], ""), ("add_tag", [], "")],
    ]
    assert _rule_deliveries(rule) == ["otto@otc.test", "rita@otc.test"]


def test_a_dry_run_leaves_out_events_older_than_its_window(clerk, sales_rep):
    event = _hold(CustomerFactory(actor=clerk, sales_rep=sales_rep), clerk)
    OutboxEvent.objects.filter(pk=event.pk).update(created_at=timezone.now() - timedelta(days=31))

    report = dry_run(event_type=HOLD, conditions={}, actions=[NOTIFY_DESK])

    assert (report.examined, report.matches) == (0, [])


# --- Delayed steps -----------------------------------------------------------------------------------


def _waiting_rule(clerk):
    return _rule(
        clerk,
        [
            NOTIFY_DESK,
            {"type": "wait", "business_days": 2},
            {"type": "create_follow_up", "title": "Call", "assignee": "sales_rep"},
        ],
        {"all": [IN_GERMANY, {"field": "customer.status", "op": "eq", "value": "on_hold"}]},
        name="Still on hold after two days",
    )


def test_a_delayed_step_resumes_when_the_conditions_still_hold_and_is_cancelled_when_not(clerk, sales_rep):
    rule = _waiting_rule(clerk)
    still_held = CustomerFactory(actor=clerk, sales_rep=sales_rep)
    released = CustomerFactory(actor=clerk, sales_rep=sales_rep)
    _hold(still_held, clerk)
    _hold(released, clerk)
    run_outbox(HOLD)
    steps = DelayedStep.objects.order_by("pk")
    assert [step.status for step in steps] == [DelayedStepStatus.PENDING] * 2
    assert all(step.resume_at > timezone.now() + timedelta(days=1) for step in steps)
    assert resume_due_steps() == 0  # not yet due
    with transaction.atomic():
        customers.release_credit_hold(customer=released, actor=clerk, reason="paid in advance")

    assert resume_due_steps(now=timezone.now() + timedelta(days=5)) == 2

    resumed = DelayedStep.objects.get(run__customer=still_held)
    cancelled = DelayedStep.objects.get(run__customer=released)
    assert (resumed.status, cancelled.status) == (DelayedStepStatus.RESUMED, DelayedStepStatus.CANCELLED)
    assert cancelled.note == "cancelled: the conditions no longer hold"
    assert RuleRun.objects.get(rule=rule, customer=released).status == RuleRunStatus.CANCELLED
    run = RuleRun.objects.get(rule=rule, customer=still_held)
    assert run.status == RuleRunStatus.DONE
    assert [(a["type"], a["status"]) for a in run.actions] == [
        ("notify", "done"),
        ("wait", "waiting"),
        ("create_follow_up", "done"),
    ]
    task = FollowUpTask.objects.get()
    assert (task.customer_id, task.assignee_id, task.source) == (still_held.pk, sales_rep.pk, f"rule:{rule.pk}")
    assert resume_due_steps(now=timezone.now() + timedelta(days=5)) == 0
