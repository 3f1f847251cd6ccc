"""Automation rules with a real Celery worker, a real Redis and committed data: a rule with conditions
and a delayed step fires once per event even when the event is delivered twice, and the step resumes
through the beat task, or is cancelled when its conditions no longer hold."""

from datetime import timedelta

import pytest
from django.utils import timezone

from customers import services as customers
from service.models import FollowUpTask
from tests.factories import CustomerFactory
from tests.support.workers import wait_for
from workflows import tasks
from workflows.models import (
    DelayedStep,
    DelayedStepStatus,
    Delivery,
    DeliveryStatus,
    EventStatus,
    OutboxEvent,
    RuleRun,
    RuleRunStatus,
)
from workflows.rules.services import create_rule

pytestmark = pytest.mark.django_db(transaction=True)

HOLD = "customer.credit_hold_placed"


def test_a_rule_with_a_delayed_step_fires_once_per_event_delivered_twice_and_resumes_or_cancels(
    clerk, sales_rep, celery_workers
):
    worker = celery_workers.start()
    rule = create_rule(
        name="German holds: desk now, rep's follow-up if still on hold in a day",
        event_type=HOLD,
        conditions={
            "all": [
                {"field": "customer.country", "op": "eq", "value": "DE"},
                {"field": "customer.status", "op": "eq", "value": "on_hold"},
                {"field": "event.reason", "op": "contains", "value": "overdue"},
            ]
        },
        actions=[
            {"type": "notify", "template": "rule_notice", "to": "address", "address": "desk@otc.test"},
            {"type": "wait", "business_days": 1},
            {"type": "create_follow_up", "title": "Call about the hold", "assignee": "sales_rep"},
        ],
        actor=clerk,
        active=True,
    )
    still_held = CustomerFactory(actor=clerk, sales_rep=sales_rep)
    released = CustomerFactory(actor=clerk, sales_rep=sales_rep)

    customers.place_credit_hold(customer=still_held, actor=clerk, reason="invoices overdue")
    customers.place_credit_hold(customer=released, actor=clerk, reason="invoices overdue")
    events = list(OutboxEvent.objects.filter(event_type=HOLD).order_by("pk"))
    for event in events:  # a second delivery of each event, as a redelivering broker would make
        tasks.dispatch_event.delay(event.pk)

    wait_for(
        lambda: (
            Delivery.objects.filter(handler__startswith="rule:", status=DeliveryStatus.SENT).count() == 2
            and not OutboxEvent.objects.filter(event_type=HOLD).exclude(status=EventStatus.DONE).exists()
        ),
        "both events handled and the rule's two emails sent",
        nudge=tasks.sweep_outbox.delay,
        workers=[worker],
    )
    for event in events:
        tasks.dispatch_event.delay(event.pk)  # and once more, after it was done
    assert RuleRun.objects.filter(rule=rule).count() == 2
    assert DelayedStep.objects.filter(status=DelayedStepStatus.PENDING).count() == 2
    assert sorted(Delivery.objects.filter(handler=f"rule:{rule.pk}:0").values_list("event_id", flat=True)) == [
        event.pk for event in events
    ]

    customers.release_credit_hold(customer=released, actor=clerk, reason="paid in advance")
    DelayedStep.objects.update(resume_at=timezone.now() - timedelta(seconds=1))  # the business day has passed
    tasks.resume_delayed_steps.delay()  # what beat sends every few minutes

    wait_for(
        lambda: not DelayedStep.objects.filter(status=DelayedStepStatus.PENDING).exists(),
        "the worker to resume both steps",
        workers=[worker],
    )
    resumed = DelayedStep.objects.get(run__customer=still_held)
    cancelled = DelayedStep.objects.get(run__customer=released)
    assert resumed.status == DelayedStepStatus.RESUMED
    assert (cancelled.status, cancelled.note) == (
        DelayedStepStatus.CANCELLED,
        "cancelled: the conditions no longer hold",
    )
    runs = dict(RuleRun.objects.filter(rule=rule).values_list("customer_id", "status"))
    assert runs == {still_held.pk: RuleRunStatus.DONE, released.pk: RuleRunStatus.CANCELLED}
    task = FollowUpTask.objects.get()
    assert (task.customer_id, task.assignee_id, task.title) == (still_held.pk, sales_rep.pk, "Call about the hold")
    assert RuleRun.objects.filter(rule=rule).count() == 2
    assert Delivery.objects.filter(handler__startswith="rule:").count() == 2
