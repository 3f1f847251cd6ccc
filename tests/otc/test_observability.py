"""Observability: the protected /metrics page, request metrics by view, business counters counted only
for committed events, Celery task results, and the request id from the response through the logs into
the tasks a request queued (a real Redis message and a real worker's log)."""

import json
import logging
import re
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
import redis
import yaml
from django.conf import settings
from django.db import transaction
from prometheus_client import REGISTRY

from otc import celery_app
from otc.events import publish
from payments.events import DunningLetterIssued
from tests import factories
from tests.support.workers import wait_for
from workflows import tasks

TOKEN = "scrape-token-0123456789"


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def metrics_token(settings):
    settings.OTC_METRICS_TOKEN = TOKEN
    return TOKEN


@celery_app.task(name="tests.otc.test_observability.refuse")
def refuse() -> None:
    raise ValueError("refused on purpose")


# /metrics


@pytest.mark.django_db
def test_metrics_page_is_off_without_a_token(client, settings):
    settings.OTC_METRICS_TOKEN = ""
    response = client.get("/metrics")
    assert response.status_code == 404
    assert b"django_http" not in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("authorization", ["", "Bearer wrong-token", f"Basic {TOKEN}x", f"Bearer {TOKEN}x"])
def test_metrics_page_refuses_a_scraper_without_the_token(client, metrics_token, authorization):
    response = client.get("/metrics", HTTP_AUTHORIZATION=authorization)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"django_http" not in response.content


@pytest.mark.django_db
def test_metrics_page_serves_request_and_business_metrics_to_the_scraper(client, metrics_token):
    client.get("/healthz")
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    body = response.content.decode()
    assert 'django_http_requests_latency_seconds_by_view_method_count{method="GET",view="healthz"}' in body
    assert "# TYPE otc_orders_placed_total counter" in body
    assert "# TYPE otc_celery_tasks_total counter" in body
    assert "# TYPE otc_sign_in_failures_total counter" in body


@pytest.mark.django_db
def test_request_metrics_count_responses_by_view_and_status(client):
    ok = sample("django_http_responses_total_by_status_view_method_total", status="200", view="healthz", method="GET")
    missing = sample(
        "django_http_responses_total_by_status_view_method_total", status="404", view="<unnamed view>", method="GET"
    )
    client.get("/healthz")
    client.get("/healthz")
    client.get("/no-such-page/")
    assert (
        sample("django_http_responses_total_by_status_view_method_total", status="200", view="healthz", method="GET")
        == ok + 2
    )
    assert (
        sample(
            "django_http_responses_total_by_status_view_method_total", status="404", view="<unnamed view>", method="GET"
        )
        == missing + 1
    )


# Business counters


def test_a_confirmed_order_counts_as_placed_with_its_value(
    clerk, customer, widget, manual, django_capture_on_commit_callbacks
):
    placed, value = sample("otc_orders_placed_total", currency="EUR"), sample("otc_order_value_total", currency="EUR")
    with django_capture_on_commit_callbacks(execute=True):
        order = factories.placed_order(customer, clerk, (widget, "12", "5"), (manual, "3"))
    assert order.gross_total == Decimal("186.26")
    assert sample("otc_orders_placed_total", currency="EUR") == placed + 1
    assert sample("otc_order_value_total", currency="EUR") == pytest.approx(value + 186.26, abs=0.001)


def test_an_order_whose_transaction_rolls_back_is_not_counted(
    clerk, customer, widget, django_capture_on_commit_callbacks
):
    placed = sample("otc_orders_placed_total", currency="EUR")
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        factories.placed_order(customer, clerk, (widget, "2"))
        raise RuntimeError("the caller's transaction fails after the order was placed")
    assert sample("otc_orders_placed_total", currency="EUR") == placed


def test_issued_invoices_and_applied_cash_are_counted_with_their_amounts(
    buyer, clerk, company, django_capture_on_commit_callbacks
):
    issued, invoiced = (
        sample("otc_invoices_issued_total", currency="EUR"),
        sample("otc_invoiced_value_total", currency="EUR"),
    )
    applied = sample("otc_cash_applied_total", currency="EUR")
    with django_capture_on_commit_callbacks(execute=True):
        first = factories.manual_invoice(buyer, clerk, ("1", "100", "19"))
        second = factories.manual_invoice(buyer, clerk, ("3", "33.33", "19"))
        factories.allocated_payment(buyer, clerk, factories.apply(first, "119.00"), factories.apply(second, "50.01"))
    assert (first.gross_total, second.gross_total) == (Decimal("119.00"), Decimal("118.99"))
    assert sample("otc_invoices_issued_total", currency="EUR") == issued + 2
    assert sample("otc_invoiced_value_total", currency="EUR") == pytest.approx(invoiced + 237.99, abs=0.001)
    assert sample("otc_cash_applied_total", currency="EUR") == pytest.approx(applied + 169.01, abs=0.001)


def test_dunning_letters_are_counted_by_level(clerk, django_capture_on_commit_callbacks):
    letters, other = (
        sample("otc_dunning_letters_issued_total", level="2"),
        sample("otc_dunning_letters_issued_total", level="1"),
    )
    events = sample("otc_domain_events_total", event_type="dunning.letter_issued")
    with django_capture_on_commit_callbacks(execute=True):
        publish(
            DunningLetterIssued(
                letter_id=1,
                customer_id=1,
                customer_number="C-1",
                actor_id=clerk.pk,
                level=2,
                currency="CHF",
                total_due=Decimal("120.05"),
            )
        )
    assert sample("otc_dunning_letters_issued_total", level="2") == letters + 1
    assert sample("otc_dunning_letters_issued_total", level="1") == other
    assert sample("otc_domain_events_total", event_type="dunning.letter_issued") == events + 1


# Celery task results


@pytest.mark.django_db
def test_task_results_and_durations_are_counted_by_task():
    name = tasks.sweep_outbox.name
    succeeded = sample("otc_celery_tasks_total", task=name, result="success")
    timed = sample("otc_celery_task_duration_seconds_count", task=name)
    failed = sample("otc_celery_tasks_total", task=refuse.name, result="failure")

    tasks.sweep_outbox.apply()
    assert refuse.apply().failed()

    assert sample("otc_celery_tasks_total", task=name, result="success") == succeeded + 1
    assert sample("otc_celery_task_duration_seconds_count", task=name) == timed + 1
    assert sample("otc_celery_tasks_total", task=refuse.name, result="failure") == failed + 1
    assert sample("otc_celery_tasks_total", task=refuse.name, result="success") == 0


# Dashboard and alert rules

MONITORING = Path(settings.BASE_DIR) / "docs" / "monitoring"


def expressions() -> list[str]:
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    found = [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]
    found += [variable["query"]["query"] for variable in dashboard["templating"]["list"] if variable["type"] == "query"]
    rules = yaml.safe_load((MONITORING / "alerts.yml").read_text())
    return found + [rule["expr"] for group in rules["groups"] for rule in group["rules"]]


@pytest.mark.django_db
def test_the_dashboard_and_alert_rules_use_only_metrics_the_suite_exports(client):
    client.get("/healthz")  # the request metrics exist once the middleware is built
    exported = {
        family.name + suffix for family in REGISTRY.collect() for suffix in ("", "_total", "_bucket", "_count", "_sum")
    }
    used = {name for expr in expressions() for name in re.findall(r"\b((?:django_http|otc)_[a-z_]+)", expr)}
    assert len(used) >= 12
    assert used <= exported, used - exported


# Request ids


@pytest.mark.django_db
def test_every_response_carries_a_generated_request_id(client):
    first, second = client.get("/healthz"), client.get("/api/v1/customers/")
    assert len(first["X-Request-ID"]) == 32
    assert int(first["X-Request-ID"], 16)
    assert second["X-Request-ID"] != first["X-Request-ID"]
    assert second["Content-Type"] == "application/problem+json"


@pytest.mark.django_db
def test_a_client_cannot_choose_its_request_id_unless_the_proxy_is_trusted(client, settings):
    settings.OTC_TRUST_REQUEST_ID_HEADER = False
    assert client.get("/healthz", HTTP_X_REQUEST_ID="proxy-id-12345")["X-Request-ID"] != "proxy-id-12345"
    settings.OTC_TRUST_REQUEST_ID_HEADER = True
    assert client.get("/healthz", HTTP_X_REQUEST_ID="proxy-id-12345")["X-Request-ID"] == "proxy-id-12345"


@pytest.mark.django_db
@pytest.mark.parametrize("offered", ["short", "x" * 129, "id with spaces", "id\nrequest_id=forged", "ümlaut-1234"])
def test_a_malformed_request_id_is_replaced_not_logged(client, settings, caplog, offered):
    settings.OTC_TRUST_REQUEST_ID_HEADER = True
    with caplog.at_level(logging.INFO, logger="django_structlog.middlewares.request"):
        response = client.get("/healthz", HTTP_X_REQUEST_ID=offered)
    assert response["X-Request-ID"] != offered
    assert len(response["X-Request-ID"]) == 32
    assert not any(offered in str(record.msg) for record in caplog.records)


@pytest.mark.django_db
def test_request_log_lines_carry_the_request_id_and_duration(client, caplog):
    with caplog.at_level(logging.INFO, logger="django_structlog.middlewares.request"):
        response = client.get("/healthz")
    lines = {record.msg["event"]: record.msg for record in caplog.records if isinstance(record.msg, dict)}
    assert lines["request_started"]["request_id"] == response["X-Request-ID"]
    finished = lines["request_finished"]
    assert finished["request_id"] == response["X-Request-ID"]
    assert finished["code"] == 200
    assert 0 <= finished["duration_ms"] < 10_000


def _create_customer(api_client_for, request_id: str):
    writer = api_client_for("customers:write")
    return writer.post(
        "/api/v1/customers/", {"legal_name": f"Traced {request_id}", "country": "DE"}, HTTP_X_REQUEST_ID=request_id
    )


@pytest.mark.django_db(transaction=True)
def test_tasks_a_request_queues_carry_its_request_id_in_their_headers(
    api_client_for, settings, publish_through_redis, redis_url, celery_queue
):
    settings.OTC_TRUST_REQUEST_ID_HEADER = True
    request_id = f"trace-{uuid.uuid4().hex}"
    response = _create_customer(api_client_for, request_id)
    assert response.status_code == 201, response.content
    assert response["X-Request-ID"] == request_id

    queued = redis.Redis.from_url(redis_url).lrange(celery_queue, 0, -1)
    assert len(queued) == 1
    headers = json.loads(queued[0])["headers"]
    assert headers["task"] == tasks.dispatch_event.name
    assert headers["__django_structlog__"]["request_id"] == request_id


@pytest.mark.django_db(transaction=True)
def test_a_worker_logs_the_task_with_the_request_id_it_was_queued_with(api_client_for, settings, celery_workers):
    settings.OTC_TRUST_REQUEST_ID_HEADER = True
    worker = celery_workers.start()
    request_id = f"trace-{uuid.uuid4().hex}"
    assert _create_customer(api_client_for, request_id).status_code == 201

    def task_logged_with_request_id() -> bool:
        return any(
            "task_succeeded" in line and request_id in line
            for line in worker.log.read_text(errors="replace").splitlines()
        )

    wait_for(task_logged_with_request_id, "the worker's task_succeeded line with the request id", workers=[worker])
