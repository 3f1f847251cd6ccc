"""Liveness (/healthz: the process answers) and readiness (/readyz).

Readiness splits what must stop traffic from what only degrades it. Without the database or with
migrations not applied no request can be served: 503. Without the broker (Redis) intake still works,
because the outbox is in PostgreSQL and the sweeper resends once the broker is back: the answer stays
200 with status "degraded" and the broker check says why, so monitoring sees it without the load
balancer taking every web container out.
"""

from collections.abc import Callable

import redis
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.views.decorators.cache import never_cache


@never_cache
def healthz(request) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return "ok"


def _check_broker() -> str:
    url = settings.CELERY_BROKER_URL
    if not url.startswith("redis"):
        return "not configured (tasks run eagerly)"
    redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
    return "ok"


def _check_migrations() -> str:
    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        raise RuntimeError(f"{len(pending)} migrations not applied")
    return "ok"


REQUIRED: dict[str, Callable[[], str]] = {"database": _check_database, "migrations": _check_migrations}
DEGRADING: dict[str, Callable[[], str]] = {"broker": _check_broker}


def _run(checks: dict[str, Callable[[], str]], failure: str) -> tuple[dict[str, str], bool]:
    results, passed = {}, True
    for name, check in checks.items():
        try:
            results[name] = check()
        except Exception as error:
            results[name] = f"{failure}: {error}"
            passed = False
    return results, passed


@never_cache
def readyz(request) -> JsonResponse:
    required, ready = _run(REQUIRED, "failed")
    degrading, complete = _run(DEGRADING, "degraded")
    status = "unavailable" if not ready else "ok" if complete else "degraded"
    return JsonResponse({"status": status, "checks": {**required, **degrading}}, status=200 if ready else 503)
