import pytest
from django.db import OperationalError
from django.db.migrations.executor import MigrationExecutor

from otc import health

pytestmark = pytest.mark.django_db


def test_liveness_answers_without_touching_services(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readiness_reports_database_broker_and_migrations(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"

    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "migrations": "ok", "broker": "ok"},
    }


def test_readiness_stays_200_but_degraded_when_the_broker_is_unreachable(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"

    response = client.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["broker"].startswith("degraded:")
    assert body["checks"]["database"] == body["checks"]["migrations"] == "ok"


def test_readiness_reports_both_a_lost_database_and_a_lost_broker(client, settings, monkeypatch):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"

    def lose_the_database():
        raise OperationalError("connection refused")

    monkeypatch.setitem(health.REQUIRED, "database", lose_the_database)

    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "failed: connection refused"
    assert body["checks"]["broker"].startswith("degraded:")


def test_readiness_fails_with_unapplied_migrations(client, monkeypatch):
    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: [("customers", "0099_future")])

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["checks"]["migrations"] == "failed: 1 migrations not applied"
