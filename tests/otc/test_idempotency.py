from datetime import timedelta

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from customers import services as customer_services
from customers.api import views as customer_views
from customers.models import ChangeRequest, Contact, Customer
from otc.api import idempotency
from otc.api.idempotency import purge_expired_records
from otc.models import IdempotencyRecord
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

CUSTOMERS = "/api/v1/customers/"
NEW_CUSTOMER = {"legal_name": "Delta Werkzeuge GmbH", "country": "DE", "payment_terms_days": 21}


@pytest.fixture
def writer(api_client_for):
    return api_client_for("customers:read", "customers:write")


def test_a_replay_returns_the_first_response_and_creates_one_customer(writer):
    first = writer.post(CUSTOMERS, NEW_CUSTOMER, HTTP_IDEMPOTENCY_KEY="order-4711")
    replay = writer.post(CUSTOMERS, NEW_CUSTOMER, HTTP_IDEMPOTENCY_KEY="order-4711")

    assert first.status_code == replay.status_code == 201
    assert replay.json() == first.json()
    assert replay["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Customer.objects.count() == 1
    record = IdempotencyRecord.objects.get()
    assert record.principal == f"api-key:{writer.api_key.pk}"
    assert record.response_status == 201
    assert record.response_body["number"] == Customer.objects.get().number


def test_the_same_key_with_a_different_body_is_a_422_and_creates_nothing(writer):
    writer.post(CUSTOMERS, NEW_CUSTOMER, HTTP_IDEMPOTENCY_KEY="order-4711")

    response = writer.post(CUSTOMERS, {**NEW_CUSTOMER, "payment_terms_days": 30}, HTTP_IDEMPOTENCY_KEY="order-4711")

    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "idempotency_key_reused"
    assert Customer.objects.count() == 1
    assert Customer.objects.get().payment_terms_days == 21


def test_keys_of_two_api_keys_do_not_collide(api_client_for):
    shop = api_client_for("customers:read", "customers:write")
    erp = api_client_for("customers:read", "customers:write")
    body = {**NEW_CUSTOMER, "confirm_duplicate": True}

    from_shop = shop.post(CUSTOMERS, body, HTTP_IDEMPOTENCY_KEY="1")
    from_erp = erp.post(CUSTOMERS, body, HTTP_IDEMPOTENCY_KEY="1")

    assert from_shop.status_code == from_erp.status_code == 201
    assert "Idempotent-Replayed" not in from_erp
    assert from_shop.json()["id"] != from_erp.json()["id"]
    assert Customer.objects.count() == 2
    assert IdempotencyRecord.objects.count() == 2


def test_a_record_older_than_24_hours_is_not_replayed(writer):
    body = {**NEW_CUSTOMER, "confirm_duplicate": True}
    first = writer.post(CUSTOMERS, body, HTTP_IDEMPOTENCY_KEY="daily-sync")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=24, minutes=1))

    again = writer.post(CUSTOMERS, body, HTTP_IDEMPOTENCY_KEY="daily-sync")

    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again
    assert again.json()["id"] != first.json()["id"]
    assert Customer.objects.count() == 2
    assert IdempotencyRecord.objects.count() == 1


def test_a_record_younger_than_24_hours_is_still_replayed(writer):
    writer.post(CUSTOMERS, NEW_CUSTOMER, HTTP_IDEMPOTENCY_KEY="daily-sync")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=23, minutes=59))

    again = writer.post(CUSTOMERS, NEW_CUSTOMER, HTTP_IDEMPOTENCY_KEY="daily-sync")

    assert again["Idempotent-Replayed"] == "true"
    assert Customer.objects.count() == 1


def test_a_refused_request_does_not_use_up_its_key(writer):
    refused = writer.post(CUSTOMERS, {**NEW_CUSTOMER, "country": "XX"}, HTTP_IDEMPOTENCY_KEY="retry-me")
    assert refused.status_code == 422
    assert not IdempotencyRecord.objects.exists()

    corrected = writer.post(CUSTOMERS, NEW_CUSTOMER, HTTP_IDEMPOTENCY_KEY="retry-me")

    assert corrected.status_code == 201
    assert Customer.objects.count() == 1


def test_a_key_still_in_progress_is_a_409(writer, monkeypatch):
    create_customer = customer_services.create_customer
    seen = {}

    def create_while_a_retry_arrives(**kwargs):
        seen["retry"] = writer.post(CUSTOMERS, NEW_CUSTOMER, HTTP_IDEMPOTENCY_KEY="slow")
        return create_customer(**kwargs)

    monkeypatch.setattr(customer_views.services, "create_customer", create_while_a_retry_arrives)

    first = writer.post(CUSTOMERS, NEW_CUSTOMER, HTTP_IDEMPOTENCY_KEY="slow")

    assert first.status_code == 201
    assert seen["retry"].status_code == 409
    assert seen["retry"].json()["code"] == "idempotency_key_in_progress"
    assert Customer.objects.count() == 1


@pytest.mark.parametrize("key", ["", "   ", "k" * 256])
def test_an_invalid_key_is_a_400(writer, key):
    response = writer.post(CUSTOMERS, NEW_CUSTOMER, HTTP_IDEMPOTENCY_KEY=key)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_idempotency_key"
    assert not Customer.objects.exists()


def test_contacts_and_change_requests_are_idempotent_too(api_client_for, clerk):
    customer = CustomerFactory(actor=clerk)
    client = api_client_for("customers:read", "customers:write", "change_requests:write")
    contact = {"name": "Ann", "email": "ann@x.example"}
    change = {"customer": customer.pk, "kind": "credit_limit", "credit_limit": "1000", "reason": "r"}

    for _ in range(2):
        contact_response = client.post(f"{CUSTOMERS}{customer.pk}/contacts/", contact, HTTP_IDEMPOTENCY_KEY="c-1")
        change_response = client.post("/api/v1/change-requests/", change, HTTP_IDEMPOTENCY_KEY="cr-1")

    assert contact_response["Idempotent-Replayed"] == "true"
    assert change_response["Idempotent-Replayed"] == "true"
    assert Contact.objects.count() == 1
    assert ChangeRequest.objects.count() == 1


def test_the_same_key_on_another_endpoint_is_a_different_request(api_client_for, clerk):
    customer = CustomerFactory(actor=clerk)
    client = api_client_for("customers:read", "customers:write")

    client.post(f"{CUSTOMERS}{customer.pk}/contacts/", {"name": "A", "email": "a@x.example"}, HTTP_IDEMPOTENCY_KEY="k")
    response = client.post(CUSTOMERS, NEW_CUSTOMER, HTTP_IDEMPOTENCY_KEY="k")

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert Customer.objects.count() == 1


def test_purge_removes_only_expired_records(writer):
    writer.post(CUSTOMERS, NEW_CUSTOMER, HTTP_IDEMPOTENCY_KEY="old")
    writer.post(CUSTOMERS, {**NEW_CUSTOMER, "confirm_duplicate": True}, HTTP_IDEMPOTENCY_KEY="new")
    IdempotencyRecord.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=25))

    assert purge_expired_records() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


def test_a_request_that_dies_before_commit_leaves_neither_key_nor_customer(writer, monkeypatch):
    def die(response):
        raise RuntimeError("connection lost while storing the response")

    monkeypatch.setattr(idempotency, "_stored_body", die)
    with pytest.raises(RuntimeError):
        writer.post(CUSTOMERS, NEW_CUSTOMER, HTTP_IDEMPOTENCY_KEY="dies-early")

    assert not Customer.objects.exists()
    assert not IdempotencyRecord.objects.exists()

    monkeypatch.undo()
    retry = writer.post(CUSTOMERS, NEW_CUSTOMER, HTTP_IDEMPOTENCY_KEY="dies-early")

    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry
    assert Customer.objects.count() == 1


def test_a_request_that_dies_after_commit_leaves_both_and_the_retry_gets_the_stored_response(writer, monkeypatch):
    def die(view, request, response, *args, **kwargs):
        raise RuntimeError("connection lost while sending the response")

    monkeypatch.setattr(customer_views.CustomerViewSet, "finalize_response", die)
    with pytest.raises(RuntimeError):
        writer.post(CUSTOMERS, NEW_CUSTOMER, HTTP_IDEMPOTENCY_KEY="dies-late")

    customer = Customer.objects.get()
    record = IdempotencyRecord.objects.get()
    assert (record.response_status, record.response_body["number"]) == (201, customer.number)

    monkeypatch.undo()
    retry = writer.post(CUSTOMERS, NEW_CUSTOMER, HTTP_IDEMPOTENCY_KEY="dies-late")

    assert retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json()["number"] == customer.number
    assert Customer.objects.count() == 1


def test_a_duplicate_while_another_connection_runs_the_key_is_a_409_at_once(writer):
    principal = f"api-key:{writer.api_key.pk}"
    params = connection.get_connection_params()
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", [f"{principal}\nbusy"])

        response = writer.post(CUSTOMERS, NEW_CUSTOMER, HTTP_IDEMPOTENCY_KEY="busy")

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_in_progress"
    assert not Customer.objects.exists()
    assert not IdempotencyRecord.objects.exists()
