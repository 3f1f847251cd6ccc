"""A broker (Redis) that is down: intake still commits, the events stay pending for the sweeper, and
the failure is logged once per outage with a count, not once per order."""

import pytest
from django.db import transaction
from structlog.testing import capture_logs

from customers.events import CustomerChanged
from otc.celery import app
from otc.events import publish
from otc.outages import Outage
from workflows import broker
from workflows.models import EventStatus, OutboxEvent

pytestmark = pytest.mark.django_db

CLOSED_PORT = "redis://127.0.0.1:1/0"


DOWN = {
    "task_always_eager": False,
    "broker_url": CLOSED_PORT,
    "broker_write_url": CLOSED_PORT,
    "task_publish_retry_policy": {"max_retries": 1, "interval_start": 0},
}


@pytest.fixture
def broker_down(monkeypatch):
    """The real Celery producer, pointed at a port where nothing listens."""
    original = {name: app.conf[name] for name in DOWN}
    app.conf.update(DOWN)
    monkeypatch.setattr(app, "_pool", None)
    monkeypatch.setattr(app.amqp, "_producer_pool", None)  # a pool an earlier test filled keeps its broker
    monkeypatch.setattr(broker, "outage", Outage("broker", detail=""))
    yield
    app.conf.update(original)


def publish_changes(count: int, django_capture_on_commit_callbacks) -> None:
    for number in range(1, count + 1):
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            publish(
                CustomerChanged(
                    customer_id=number, customer_number=f"C-{number}", actor_id=1, changed_fields=["status"]
                )
            )


def test_a_broker_outage_is_logged_once_with_a_count_and_the_events_stay_pending(
    broker_down, django_capture_on_commit_callbacks
):
    with capture_logs() as logs:
        publish_changes(3, django_capture_on_commit_callbacks)

    assert [entry["event"] for entry in logs if entry["event"].startswith("broker.")] == ["broker.unreachable"]
    assert broker.outage.failures == 3
    assert OutboxEvent.objects.filter(status=EventStatus.PENDING).count() == 3

    app.conf.task_always_eager = True
    with capture_logs() as logs:
        publish_changes(1, django_capture_on_commit_callbacks)

    recovered = [entry for entry in logs if entry["event"].startswith("broker.")]
    assert [(entry["event"], entry["failures"]) for entry in recovered] == [("broker.recovered", 3)]
    assert broker.outage.failures == 0


def test_a_second_outage_is_logged_again(broker_down, django_capture_on_commit_callbacks):
    broker.outage.record_failure(ConnectionError("first outage"))
    broker.outage.record_success()

    with capture_logs() as logs:
        publish_changes(2, django_capture_on_commit_callbacks)

    assert [entry["event"] for entry in logs if entry["event"].startswith("broker.")] == ["broker.unreachable"]
    assert broker.outage.failures == 2
