"""API rate limits per key and per address (429 problem+json with Retry-After, the client address read
through the configured number of trusted proxies), and secrets that never reach a log line."""

import io
import logging

import pytest
from django.core.cache import cache

from otc.log_redaction import redact

pytestmark = pytest.mark.django_db

CUSTOMERS = "/api/v1/customers/"


@pytest.fixture
def fresh_counts():
    cache.clear()
    yield
    cache.clear()


def test_a_key_over_its_rate_gets_429_with_retry_after(api_client_for, settings, fresh_counts):
    settings.OTC_API_RATE_PER_KEY = "3/min"
    reader = api_client_for("customers:read")
    other = api_client_for("customers:read")

    statuses = [reader.get(CUSTOMERS).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    refused = reader.get(CUSTOMERS)
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["code"] == "throttled"
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert other.get(CUSTOMERS).status_code == 200  # the count is the key's, not everyone's


def test_an_address_over_its_rate_gets_429_whatever_keys_it_uses(api_client_for, settings, fresh_counts):
    settings.OTC_API_RATE_PER_ADDRESS = "2/min"
    keys = [api_client_for("customers:read") for _ in range(3)]

    statuses = [key.get(CUSTOMERS, REMOTE_ADDR="203.0.113.7").status_code for key in keys]

    assert statuses == [200, 200, 429]
    assert keys[0].get(CUSTOMERS, REMOTE_ADDR="203.0.113.8").status_code == 200


def test_behind_trusted_proxies_the_address_is_the_one_the_proxy_saw(api_client_for, settings, fresh_counts):
    settings.OTC_API_RATE_PER_ADDRESS = "1/min"
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    reader = api_client_for("customers:read")
    proxy = {"REMOTE_ADDR": "10.0.0.2"}

    first = reader.get(CUSTOMERS, HTTP_X_FORWARDED_FOR="198.51.100.1", **proxy)
    other_client = reader.get(CUSTOMERS, HTTP_X_FORWARDED_FOR="198.51.100.2", **proxy)
    # A client cannot pick its address: the proxy appends the real one, the rightmost counts.
    forged = reader.get(CUSTOMERS, HTTP_X_FORWARDED_FOR="192.0.2.99, 198.51.100.1", **proxy)

    assert (first.status_code, other_client.status_code, forged.status_code) == (200, 200, 429)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("GET /accounts/password/reset/key/1b-cq8x3w-4f2d1e9a7b6c5d4e3f2a1b0c/", "cq8x3w-4f2d1e9a7b6c5d4e3f2a1b0c"),
        ("GET /portal/invitation/Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA/", "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA"),
        ("Authorization: Api-Key otc_1a2b3c4d_S3cr3tS3cr3tS3cr3tS3cr3t", "S3cr3tS3cr3tS3cr3tS3cr3t"),
        ("key otc_1a2b3c4d_S3cr3tS3cr3tS3cr3tS3cr3t refused", "S3cr3tS3cr3tS3cr3tS3cr3t"),
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.signature", "eyJhbGciOiJIUzI1NiJ9"),
        ("webhook secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        ("GET /webhooks/x/?signature=abcdef0123456789&id=4", "abcdef0123456789"),
        ("provider said test-provider-secret", "test-provider-secret"),
    ],
)
def test_known_secrets_are_redacted(text, secret):
    assert secret not in redact(text)
    assert "[redacted]" in redact(text)


def test_plain_text_is_left_alone():
    text = "GET /api/v1/customers/?search=Nordwind&page_size=20 code=200"
    assert redact(text) == text


def test_secrets_never_reach_the_configured_log_output(client, api_client_for):
    """Requests that carry secrets, logged through the suite's own LOGGING formatter, grep clean."""
    [console] = [handler for handler in logging.getLogger().handlers if handler.get_name() == "console"]
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    handler.setFormatter(console.formatter)
    root = logging.getLogger()
    root.addHandler(handler)
    previous = root.level
    root.setLevel(logging.INFO)
    reset_key = "1b-cq8x3w-4f2d1e9a7b6c5d4e3f2a1b0c"
    invitation = "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA"
    try:
        client.get(f"/accounts/password/reset/key/{reset_key}/")
        client.get(f"/portal/invitation/{invitation}/")
        client.get("/api/v1/customers/", HTTP_AUTHORIZATION="Api-Key otc_1a2b3c4d_NotARealSecretButLongEnough1")
        logging.getLogger("otc.test").warning("webhook signed with whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        try:
            raise ValueError(f"reset failed for /accounts/password/reset/key/{reset_key}/")
        except ValueError:
            logging.getLogger("otc.test").exception("while resetting")
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
    output = captured.getvalue()
    assert "request_finished" in output
    assert "while resetting" in output
    assert "Traceback" in output
    for secret in (
        "cq8x3w-4f2d1e9a7b6c5d4e3f2a1b0c",
        invitation,
        "NotARealSecretButLongEnough1",
        "MfKQ9r8GKYqrTwjUPD8IL",
    ):
        assert secret not in output


def test_the_sign_in_throttle_reads_the_client_address_through_the_same_trusted_proxies(settings):
    from allauth.core.internal.httpkit import get_client_ip
    from django.test import RequestFactory

    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().post(
        "/accounts/login/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="192.0.2.9, 198.51.100.1"
    )
    assert get_client_ip(request) == "198.51.100.1"
