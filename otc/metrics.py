"""Prometheus metrics of the suite, beside django-prometheus's request metrics (rate, latency and
errors by view, from its two middlewares).

- Business counters, counted from the domain events a committed transaction published (the outbox
  receiver hands them over; an event of a rolled-back transaction is never counted).
- Celery task results and run times, from Celery's task signals, in whichever process runs the task.
- `/metrics` for the scraper, behind a bearer token (`OTC_METRICS_TOKEN`; unset, the page is a 404),
  and the worker's own endpoint on `OTC_WORKER_METRICS_PORT` (docs/operator-guide.md, "Metrics").
"""

import os
import time
from decimal import Decimal

from celery.signals import task_failure, task_postrun, task_prerun, task_retry, task_success, worker_ready
from django.conf import settings
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from django_prometheus.exports import ExportToDjangoView
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, start_http_server

from otc.events import PublishedEvent

ORDERS_PLACED = Counter("otc_orders_placed", "Orders confirmed (placed), by currency.", ["currency"])
ORDER_VALUE = Counter("otc_order_value", "Gross value of confirmed orders, by currency.", ["currency"])
INVOICES_ISSUED = Counter("otc_invoices_issued", "Invoices issued, by currency.", ["currency"])
INVOICED_VALUE = Counter("otc_invoiced_value", "Gross value of issued invoices, by currency.", ["currency"])
CASH_APPLIED = Counter("otc_cash_applied", "Payment amounts applied to invoices, by currency.", ["currency"])
DUNNING_LETTERS = Counter("otc_dunning_letters_issued", "Dunning letters issued, by level.", ["level"])
SIGN_IN_FAILURES = Counter("otc_sign_in_failures", "Failed sign-ins (wrong password or unknown account).")
DOMAIN_EVENTS = Counter("otc_domain_events", "Domain events committed, by event type.", ["event_type"])

TASKS = Counter(
    "otc_celery_tasks", "Celery task runs by task and result (success, failure, retry).", ["task", "result"]
)
TASK_SECONDS = Histogram(
    "otc_celery_task_duration_seconds",
    "How long Celery tasks ran, by task.",
    ["task"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)


def count_committed_events(events: list[PublishedEvent]) -> None:
    """Count `events` once their transaction commits; call inside the publishing transaction."""
    transaction.on_commit(lambda: _count(events))


def _count(events: list[PublishedEvent]) -> None:
    for event in events:
        payload = event.payload
        DOMAIN_EVENTS.labels(event.type).inc()
        if event.type == "order.confirmed":
            ORDERS_PLACED.labels(payload["currency"]).inc()
            ORDER_VALUE.labels(payload["currency"]).inc(float(Decimal(payload["gross_total"])))
        elif event.type == "invoice.issued":
            INVOICES_ISSUED.labels(payload["currency"]).inc()
            INVOICED_VALUE.labels(payload["currency"]).inc(float(Decimal(payload["gross_total"])))
        elif event.type == "payment.allocated":
            applied = sum((Decimal(line["amount"]) for line in payload["invoices"]), Decimal(0))
            CASH_APPLIED.labels(payload["currency"]).inc(float(applied))
        elif event.type == "dunning.letter_issued":
            DUNNING_LETTERS.labels(str(payload["level"])).inc()


@task_prerun.connect(dispatch_uid="otc.metrics.task_started")
def _task_started(task_id=None, task=None, **kwargs) -> None:
    task.request.otc_started_at = time.monotonic()


@task_postrun.connect(dispatch_uid="otc.metrics.task_finished")
def _task_finished(task_id=None, task=None, **kwargs) -> None:
    started_at = getattr(task.request, "otc_started_at", None)
    if started_at is not None:
        TASK_SECONDS.labels(task.name).observe(time.monotonic() - started_at)


@task_success.connect(dispatch_uid="otc.metrics.task_succeeded")
def _task_succeeded(sender=None, **kwargs) -> None:
    TASKS.labels(sender.name, "success").inc()


@task_failure.connect(dispatch_uid="otc.metrics.task_failed")
def _task_failed(sender=None, **kwargs) -> None:
    TASKS.labels(sender.name, "failure").inc()


@task_retry.connect(dispatch_uid="otc.metrics.task_retried")
def _task_retried(sender=None, **kwargs) -> None:
    TASKS.labels(sender.name, "retry").inc()


@worker_ready.connect(dispatch_uid="otc.metrics.worker_endpoint")
def serve_worker_metrics(**kwargs) -> None:
    """A worker's task metrics on its own port; prefork children write to PROMETHEUS_MULTIPROC_DIR."""
    port = settings.OTC_WORKER_METRICS_PORT
    if not port:
        return
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    start_http_server(port, addr=settings.OTC_WORKER_METRICS_ADDRESS, registry=registry)


@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    """The metrics in Prometheus' text format, for a scraper presenting `Authorization: Bearer <token>`."""
    token = settings.OTC_METRICS_TOKEN
    if not token:
        raise Http404("metrics are not enabled")
    offered = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not constant_time_compare(offered, token):
        response = HttpResponse("A valid metrics token is required.\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return ExportToDjangoView(request)
