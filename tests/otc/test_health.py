import pytest
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db


def test_liveness_answers_without_touching_services(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readiness_reports_database_redis_and_migrations(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"

    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "redis": "ok", "migrations": "ok"},
    }


def test_readiness_fails_when_redis_is_unreachable(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"

    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["redis"].startswith("failed:")
    assert body["checks"]["database"] == "ok"


def test_readiness_fails_with_unapplied_migrations(client, monkeypatch):
    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: [("customers", "0099_future")])

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["migrations"] == "failed: 1 migrations not applied"
