"""The operations view and its figures: outbox lag, pending and failed counts by type, failed events and
deliveries with one-click retry, Celery queue depths (a broker that is down says so), and when each
scheduled job last ran, recorded from Celery's task signals; the same figures as Prometheus metrics."""

from datetime import timedelta

import pytest
import redis
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from tests.factories import StaffFactory
from workflows import selectors, tasks
from workflows.models import (
    Delivery,
    DeliveryStatus,
    EventStatus,
    JobOutcome,
    OutboxEvent,
    ScheduledJobRun,
)

pytestmark = pytest.mark.django_db

PAGE = "/admin/workflows/operationsview/"
CLOSED_PORT = "redis://127.0.0.1:1/0"
NOW = timezone.now().replace(microsecond=0)


def event(event_type: str, status: str = EventStatus.PENDING, *, age: timedelta, error: str = "") -> OutboxEvent:
    recorded = OutboxEvent.objects.create(event_type=event_type, status=status, last_error=error, attempts=1)
    OutboxEvent.objects.filter(pk=recorded.pk).update(created_at=NOW - age)
    recorded.refresh_from_db()
    return recorded


def delivery(source: OutboxEvent, recipient: str, status: str, *, age: timedelta, error: str = "") -> Delivery:
    made = Delivery.objects.create(
        event=source,
        handler="notify",
        recipient=recipient,
        subject="Your invoice INV-2026-000412",
        body_text="Attached.",
        status=status,
        attempts=8 if status == DeliveryStatus.GIVEN_UP else 2,
        last_error=error,
    )
    Delivery.objects.filter(pk=made.pk).update(created_at=NOW - age)
    return made


@pytest.fixture
def outbox():
    """Two pending order events (oldest 90 s), one pending invoice event backing off after an error, two
    given-up invoice events, a done one from yesterday; deliveries in every status."""
    oldest = event("order.confirmed", age=timedelta(seconds=90))
    event("order.confirmed", age=timedelta(seconds=30))
    event("invoice.issued", age=timedelta(seconds=45), error="SMTPServerDisconnected: gone")
    older_failure = event(
        "invoice.issued", EventStatus.FAILED, age=timedelta(hours=3), error="KeyError: 'contact'\nTraceback ..."
    )
    newer_failure = event("invoice.issued", EventStatus.FAILED, age=timedelta(hours=1), error="ValueError: no PDF")
    done = event("customer.changed", EventStatus.DONE, age=timedelta(days=1))
    delivery(done, "sent@example.com", DeliveryStatus.SENT, age=timedelta(hours=5))
    delivery(done, "waiting@example.com", DeliveryStatus.PENDING, age=timedelta(seconds=5))
    backing_off = delivery(
        done, "flaky@example.com", DeliveryStatus.FAILED, age=timedelta(minutes=10), error="SMTP 451: try later"
    )
    given_up = delivery(
        done, "gone@example.com", DeliveryStatus.GIVEN_UP, age=timedelta(minutes=20), error="SMTP 550: no mailbox"
    )
    return {
        "oldest": oldest,
        "older_failure": older_failure,
        "newer_failure": newer_failure,
        "backing_off": backing_off,
        "given_up": given_up,
    }


# --- Selectors, to the row and the second --------------------------------------------------------------


def test_the_lag_is_the_age_of_the_oldest_pending_event(outbox):
    assert selectors.outbox_lag(now=NOW) == timedelta(seconds=90)

    OutboxEvent.objects.filter(pk=outbox["oldest"].pk).update(status=EventStatus.DONE)
    assert selectors.outbox_lag(now=NOW) == timedelta(seconds=45)


def test_without_pending_events_there_is_no_lag():
    event("order.confirmed", EventStatus.DONE, age=timedelta(hours=2))
    event("order.confirmed", EventStatus.FAILED, age=timedelta(hours=2))
    assert selectors.outbox_lag(now=NOW) is None


def test_pending_and_failed_events_are_counted_by_type_and_done_ones_not_at_all(outbox):
    assert selectors.pending_by_type() == {"invoice.issued": 1, "order.confirmed": 2}
    assert selectors.failed_by_type() == {"invoice.issued": 2}


def test_failed_events_are_the_given_up_ones_newest_first(outbox):
    assert selectors.failed_events() == [outbox["newer_failure"], outbox["older_failure"]]
    assert selectors.failed_events(limit=1) == [outbox["newer_failure"]]


def test_failed_deliveries_and_delivery_counts_leave_the_sent_ones_out(outbox):
    assert [d.pk for d in selectors.failed_deliveries()] == [outbox["backing_off"].pk, outbox["given_up"].pk]
    assert selectors.deliveries_by_status_and_channel() == {
        ("pending", "email"): 1,
        ("failed", "email"): 1,
        ("given_up", "email"): 1,
    }


# --- Celery queues --------------------------------------------------------------------------------------


def test_queue_depths_count_every_priority_list_of_each_project_queue(settings, redis_url, celery_queue):
    settings.CELERY_BROKER_URL = redis_url
    settings.CELERY_TASK_DEFAULT_QUEUE = celery_queue
    settings.CELERY_TASK_ROUTES = {"workflows.tasks.deliver": {"queue": f"{celery_queue}-mail"}}
    client = redis.Redis.from_url(redis_url)
    try:
        client.lpush(celery_queue, "a", "b", "c")
        client.lpush(f"{celery_queue}\x06\x169", "urgent")
        client.lpush(f"{celery_queue}-mail", "m1", "m2")
        depths = selectors.queue_depths()
    finally:
        client.delete(celery_queue, f"{celery_queue}\x06\x169", f"{celery_queue}-mail")
        client.close()

    assert depths.state == "reachable"
    assert depths.lengths == {celery_queue: 4, f"{celery_queue}-mail": 2}


def test_a_broker_that_is_down_is_reported_unreachable(settings):
    settings.CELERY_BROKER_URL = CLOSED_PORT
    depths = selectors.queue_depths()
    assert (depths.state, depths.lengths) == ("unreachable", {})
    assert "ConnectionError" in depths.detail


def test_without_a_broker_tasks_run_in_process(settings):
    settings.CELERY_BROKER_URL = "memory://localhost/"
    assert selectors.queue_depths().state == "in_process"


# --- Scheduled jobs, recorded from the task signals ------------------------------------------------------


def test_a_scheduled_task_records_its_run_outcome_and_duration():
    before = timezone.now()
    tasks.purge_idempotency_records.apply()

    run = ScheduledJobRun.objects.get()
    assert (run.job, run.task, run.outcome, run.last_error) == (
        "purge-idempotency-keys",
        "workflows.tasks.purge_idempotency_records",
        JobOutcome.SUCCEEDED,
        "",
    )
    assert before <= run.started_at <= run.finished_at <= timezone.now()
    assert run.duration == run.finished_at - run.started_at
    assert run.last_succeeded_at == run.finished_at


def test_a_failing_scheduled_task_records_the_error_and_keeps_the_last_success(monkeypatch):
    tasks.run_dunning.apply()
    succeeded_at = ScheduledJobRun.objects.get(job="dunning-run").last_succeeded_at

    def broken(**kwargs):
        raise RuntimeError("dunning policy missing")

    monkeypatch.setattr(tasks.collections, "run_dunning", broken)
    tasks.run_dunning.apply()

    run = ScheduledJobRun.objects.get(job="dunning-run")
    assert (run.outcome, run.last_error) == (JobOutcome.FAILED, "RuntimeError: dunning policy missing")
    assert run.last_succeeded_at == succeeded_at
    assert run.started_at > succeeded_at


def test_tasks_outside_the_beat_schedule_record_nothing():
    tasks.dispatch_events.apply(args=[[]])
    assert not ScheduledJobRun.objects.exists()


def run_of(job: str, task: str, *, started: timedelta) -> ScheduledJobRun:
    return ScheduledJobRun.objects.create(
        job=job,
        task=task,
        started_at=NOW - started,
        finished_at=NOW - started + timedelta(seconds=2),
        outcome=JobOutcome.SUCCEEDED,
        duration=timedelta(seconds=2),
        last_succeeded_at=NOW - started + timedelta(seconds=2),
    )


def test_a_job_not_started_for_twice_its_interval_is_late():
    run_of("sweep-outbox", "workflows.tasks.sweep_outbox", started=timedelta(seconds=31))
    run_of("ticket-sla-alerts", "service.tasks.raise_sla_alerts", started=timedelta(seconds=599))
    run_of("dunning-run", "workflows.tasks.run_dunning", started=timedelta(hours=49))
    run_of("payment-reminders", "workflows.tasks.send_payment_reminders", started=timedelta(hours=47))

    jobs = {job.job: job for job in selectors.scheduled_jobs(now=NOW)}

    assert jobs["sweep-outbox"].interval == timedelta(seconds=15)
    assert jobs["dunning-run"].interval == timedelta(days=1)
    assert jobs["weekly-kpis"].interval == timedelta(days=7)
    assert {name for name, job in jobs.items() if job.late} == {"sweep-outbox", "dunning-run"}
    assert jobs["purge-idempotency-keys"].last_run is None
    assert not jobs["purge-idempotency-keys"].late
    assert list(jobs) == list(selectors.settings.CELERY_BEAT_SCHEDULE)


# --- The page ----------------------------------------------------------------------------------------------


@pytest.fixture
def operator(client):
    """Admin role: may view the outbox and retry."""
    client.force_login(StaffFactory(groups=["admin"]))
    return client


def test_the_page_shows_the_figures(operator, outbox):
    run_of("sweep-outbox", "workflows.tasks.sweep_outbox", started=timedelta(minutes=3))

    page = operator.get(PAGE)

    assert page.status_code == 200
    text = page.content.decode()
    figures = {figure.title: figure.value for figure in page.context["figures"]}
    assert figures["Pending events"] == "3"
    assert figures["Failed events"] == "2"
    assert figures["Failing deliveries"] == "2"
    assert figures["Outbox lag"].endswith(" s")
    assert "min" in figures["Outbox lag"]
    sections = {section.key: section for section in page.context["sections"]}
    assert [row[0] for row in sections["outbox-by-type"].rows] == ["invoice.issued", "order.confirmed"]
    assert len(sections["failed-events"].rows) == 2
    assert len(sections["failed-deliveries"].rows) == 2
    assert "KeyError: &#x27;contact&#x27;" in text
    assert "SMTP 550: no mailbox" in text
    assert "In-process" in text
    assert "sweep-outbox" in text
    assert "Late" in text
    assert "Never ran" in text
    assert text.count(">Retry</button>") == 4


def test_the_page_costs_the_same_queries_with_more_failures(operator, outbox):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert operator.get(PAGE).status_code == 200
        return len(captured)

    before = queries()
    for number in range(5):
        failed = event("invoice.issued", EventStatus.FAILED, age=timedelta(minutes=number), error="boom")
        delivery(failed, f"r{number}@example.com", DeliveryStatus.GIVEN_UP, age=timedelta(minutes=1))
    assert queries() == before


def test_the_page_is_in_the_sidebar_for_those_who_may_view_the_outbox(operator):
    home = operator.get("/admin/")
    assert PAGE in home.content.decode()


def test_staff_who_may_not_view_the_outbox_are_refused(client):
    client.force_login(StaffFactory(groups=["sales"]))
    assert client.get(PAGE).status_code == 403
    assert PAGE not in client.get("/admin/").content.decode()


def test_a_broker_that_is_down_shows_unreachable_not_an_error(operator, settings):
    settings.CELERY_BROKER_URL = CLOSED_PORT
    page = operator.get(PAGE)
    assert page.status_code == 200
    assert "Unreachable" in page.content.decode()


def test_retry_puts_a_given_up_event_back_in_line(operator, outbox):
    failed = outbox["newer_failure"]
    OutboxEvent.objects.filter(pk=failed.pk).update(swept_at=NOW)

    response = operator.post(f"{PAGE}retry-event/{failed.pk}/", follow=True)

    assert response.redirect_chain == [(PAGE, 302)]
    failed.refresh_from_db()
    assert (failed.status, failed.available_at, failed.swept_at) == (EventStatus.PENDING, None, None)
    assert f"Event #{failed.pk} (invoice.issued) is back in line" in response.content.decode()
    assert selectors.failed_by_type() == {"invoice.issued": 1}


def test_retry_puts_a_given_up_delivery_back_in_line(operator, outbox):
    given_up = outbox["given_up"]

    response = operator.post(f"{PAGE}retry-delivery/{given_up.pk}/")

    assert response.status_code == 302
    given_up.refresh_from_db()
    assert (given_up.status, given_up.next_attempt_at) == (DeliveryStatus.PENDING, None)


def test_retrying_a_done_event_changes_nothing_and_says_so(operator, outbox):
    done = OutboxEvent.objects.get(status=EventStatus.DONE)
    response = operator.post(f"{PAGE}retry-event/{done.pk}/", follow=True)
    assert "already done" in response.content.decode()
    assert OutboxEvent.objects.get(pk=done.pk).status == EventStatus.DONE


def test_retry_needs_a_post_and_the_change_permission(client, outbox):
    failed = outbox["newer_failure"]
    finance = StaffFactory(groups=["finance"])  # may view the outbox, not change it
    client.force_login(finance)

    page = client.get(PAGE)
    assert page.status_code == 200
    assert ">Retry</button>" not in page.content.decode()
    assert client.post(f"{PAGE}retry-event/{failed.pk}/").status_code == 403
    assert client.post(f"{PAGE}retry-delivery/{outbox['given_up'].pk}/").status_code == 403
    client.force_login(StaffFactory(groups=["admin"]))
    assert client.get(f"{PAGE}retry-event/{failed.pk}/").status_code == 405
    assert OutboxEvent.objects.get(pk=failed.pk).status == EventStatus.FAILED
    assert Delivery.objects.get(pk=outbox["given_up"].pk).status == DeliveryStatus.GIVEN_UP


# --- Prometheus ----------------------------------------------------------------------------------------------


def scrape() -> dict[tuple[str, tuple], float]:
    samples = {}
    for family in text_string_to_metric_families(generate_latest(REGISTRY).decode()):
        if family.name.startswith("otc_"):
            for sample in family.samples:
                samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_the_collector_exposes_the_same_figures(outbox, settings, redis_url, celery_queue):
    settings.CELERY_BROKER_URL = redis_url
    settings.CELERY_TASK_DEFAULT_QUEUE = celery_queue
    run = run_of("dunning-run", "workflows.tasks.run_dunning", started=timedelta(hours=49))
    client = redis.Redis.from_url(redis_url)
    try:
        client.lpush(celery_queue, "a", "b")
        metrics = scrape()
    finally:
        client.delete(celery_queue)
        client.close()

    lag = selectors.outbox_lag().total_seconds()
    assert 90 <= metrics[("otc_outbox_lag_seconds", ())] <= lag
    events = {labels: value for (name, labels), value in metrics.items() if name == "otc_outbox_events"}
    assert events == {
        (("event_type", "invoice.issued"), ("status", "pending")): 1,
        (("event_type", "order.confirmed"), ("status", "pending")): 2,
        (("event_type", "invoice.issued"), ("status", "failed")): 2,
    }
    deliveries = {labels: value for (name, labels), value in metrics.items() if name == "otc_deliveries"}
    assert deliveries == {
        (("channel", "email"), ("status", "pending")): 1,
        (("channel", "email"), ("status", "failed")): 1,
        (("channel", "email"), ("status", "given_up")): 1,
    }
    assert metrics[("otc_celery_queue_length", (("queue", celery_queue),))] == 2
    assert metrics[("otc_celery_broker_up", ())] == 1
    assert metrics[("otc_scheduled_job_last_run_timestamp", (("job", "dunning-run"),))] == run.started_at.timestamp()
    assert metrics[("otc_scheduled_job_late", (("job", "dunning-run"),))] == 1
    assert ("otc_scheduled_job_last_run_timestamp", (("job", "weekly-kpis"),)) not in metrics


def test_a_source_that_fails_leaves_the_scrape_standing(outbox, settings, monkeypatch):
    settings.CELERY_BROKER_URL = CLOSED_PORT

    def broken():
        raise RuntimeError("database gone")

    monkeypatch.setattr(selectors, "outbox_lag", broken)
    metrics = scrape()

    assert not [key for key in metrics if key[0] in {"otc_outbox_lag_seconds", "otc_outbox_events"}]
    assert metrics[("otc_celery_broker_up", ())] == 0
    assert metrics[("otc_scheduled_job_late", (("job", "sweep-outbox"),))] == 0


def test_a_dead_webhook_letter_is_listed_and_replayed_from_the_page(operator, outbox, clerk):
    from otc.services import create_api_key
    from workflows.models import WebhookDelivery, WebhookDeliveryStatus
    from workflows.webhooks import services as webhooks

    key, _ = create_api_key(name="Shop", scopes=["webhooks:manage"], actor=clerk)
    subscription, _ = webhooks.create_subscription(
        api_key=key, url="http://127.0.0.1:9/hooks", event_types=["invoice.issued"], actor=clerk
    )
    dead = WebhookDelivery.objects.create(
        event=outbox["newer_failure"],
        subscription=subscription,
        handler="queue_partner_webhooks",
        event_type="invoice.issued",
        body="{}",
        status=WebhookDeliveryStatus.GIVEN_UP,
        attempts=12,
        last_error="HTTP 503 from the partner",
        given_up_at=NOW,
    )

    page = operator.get(PAGE)
    (row,) = {section.key: section for section in page.context["sections"]}["failing-webhooks"].rows
    assert "http://127.0.0.1:9/hooks" in row
    assert "HTTP 503 from the partner" in page.content.decode()
    assert page.content.decode().count(">Replay</button>") == 1

    response = operator.post(f"{PAGE}replay-webhook/{dead.pk}/", follow=True)

    assert response.redirect_chain == [(PAGE, 302)]
    dead.refresh_from_db()  # sent again at once (in-process here): nobody listens on port 9, so dead again
    assert (dead.status, dead.attempts) == (WebhookDeliveryStatus.GIVEN_UP, 13)
    assert dead.attempt_log.count() == 1
    assert f"Webhook delivery #{dead.pk} is sent again now." in response.content.decode()
