"""Payment providers' notifications: a signed `payment.succeeded` books one payment, a repeated event
returns that payment, a bad signature or an old timestamp is refused with nothing written, an unknown
customer is a 422."""

import json
import time
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from ledger.models import JournalEntry
from otc.services import AUTOMATION_EMAIL
from payments.models import Payment
from payments.money.errors import InvalidSignature
from payments.money.webhooks import sign, verify

pytestmark = pytest.mark.django_db

SECRET = "whsec_test_0123456789"
URL = "/api/v1/webhooks/payments/acmepay/"


@pytest.fixture(autouse=True)
def provider_secrets(settings):
    settings.OTC_PAYMENT_PROVIDER_SECRETS = {"acmepay": SECRET}


def event(customer, /, **overrides) -> dict:
    return {
        "event_id": "evt_1001",
        "type": "payment.succeeded",
        "customer": customer.number,
        "amount": "119.00",
        "currency": "EUR",
        "method": "card",
        "reference": "INV-2026-000001",
        "received_on": "2026-03-02",
        **overrides,
    }


def deliver(body: dict, *, secret: str = SECRET, sent_at: float | None = None, url: str = URL):
    raw = json.dumps(body).encode()
    timestamp = str(int(time.time() if sent_at is None else sent_at))
    return APIClient().post(
        url,
        raw,
        content_type="application/json",
        HTTP_X_OTC_TIMESTAMP=timestamp,
        HTTP_X_OTC_SIGNATURE=sign(secret=secret, timestamp=timestamp, body=raw),
    )


def test_a_signed_notification_books_one_payment_from_the_provider(buyer):
    response = deliver(event(buyer))

    assert response.status_code == 201, response.json()
    payment = Payment.objects.get()
    assert (payment.source, payment.external_id, payment.method, payment.amount) == (
        "provider",
        "acmepay:evt_1001",
        "card",
        Decimal("119.00"),
    )
    assert payment.created_by.email == AUTOMATION_EMAIL
    assert response.json()["number"] == payment.number
    assert JournalEntry.objects.filter(source=f"payment:{payment.pk}").count() == 1


def test_a_repeated_event_returns_the_same_payment_and_books_nothing_more(buyer):
    first = deliver(event(buyer))
    again = deliver(event(buyer))

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert Payment.objects.count() == 1


def test_a_bad_signature_is_a_401_and_writes_nothing(buyer):
    response = deliver(event(buyer), secret="someone-elses-secret")

    assert (response.status_code, response["Content-Type"]) == (401, "application/problem+json")
    assert response.json()["code"] == "invalid_signature"
    assert not Payment.objects.exists()


def test_a_tampered_body_is_refused(buyer):
    raw = json.dumps(event(buyer)).encode()
    timestamp = str(int(time.time()))
    signature = sign(secret=SECRET, timestamp=timestamp, body=raw)

    response = APIClient().post(
        URL,
        raw.replace(b"119.00", b"911.00"),
        content_type="application/json",
        HTTP_X_OTC_TIMESTAMP=timestamp,
        HTTP_X_OTC_SIGNATURE=signature,
    )

    assert response.status_code == 401
    assert not Payment.objects.exists()


def test_a_notification_older_than_five_minutes_is_refused_as_a_replay(buyer):
    response = deliver(event(buyer), sent_at=time.time() - 301)

    assert (response.status_code, response.json()["code"]) == (401, "invalid_signature")
    assert "replay" in response.json()["detail"]
    assert not Payment.objects.exists()


def test_an_unknown_customer_is_a_422_and_an_unknown_provider_a_404(buyer):
    unknown_customer = deliver(event(buyer, customer="C999999"))
    unknown_provider = deliver(event(buyer), url="/api/v1/webhooks/payments/nopay/")

    assert (unknown_customer.status_code, unknown_customer.json()["code"]) == (422, "invalid_input")
    assert "customer" in unknown_customer.json()["errors"]
    assert unknown_provider.status_code == 404
    assert not Payment.objects.exists()


def test_other_event_types_are_acknowledged_and_book_nothing(buyer):
    response = deliver({"event_id": "evt_2", "type": "payment.failed", "customer": buyer.number})

    assert response.status_code == 204
    assert not Payment.objects.exists()


def test_verify_accepts_its_own_signature_within_the_tolerance_only():
    body, timestamp = b'{"a": 1}', "1767225600"
    signature = sign(secret=SECRET, timestamp=timestamp, body=body)

    verify(secret=SECRET, timestamp=timestamp, body=body, signature=signature.upper(), now=1767225600 + 299)
    with pytest.raises(InvalidSignature, match="replay"):
        verify(secret=SECRET, timestamp=timestamp, body=body, signature=signature, now=1767225600 + 301)
    with pytest.raises(InvalidSignature, match="Unix seconds"):
        verify(secret=SECRET, timestamp="yesterday", body=body, signature=signature)
