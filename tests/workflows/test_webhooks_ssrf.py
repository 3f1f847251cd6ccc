"""The SSRF guard: webhooks go only to https URLs on public addresses, checked when the subscription
is saved and again on the address resolved at send time (DNS rebinding); each refusal says why and
saves or sends nothing."""

import socket

import pytest
from django.test import override_settings

from otc.services import create_api_key
from workflows.models import WebhookAttempt, WebhookSubscription
from workflows.webhooks import services as webhooks
from workflows.webhooks.errors import UnsafeWebhookUrl

pytestmark = pytest.mark.django_db

PUBLIC = "93.184.215.14"
real_getaddrinfo = socket.getaddrinfo


@pytest.fixture
def partner_key(clerk):
    key, _ = create_api_key(name="Shop", scopes=["webhooks:manage"], actor=clerk)
    return key


@pytest.fixture
def dns(monkeypatch):
    """Names under .shop.example resolve to what the test says; everything else as usual."""
    answers: dict[str, str] = {}

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


REFUSED = [
    ("https://10.0.0.1/hooks", "10.0.0.1 is a private address; webhooks go only to public addresses."),
    ("https://127.0.0.1/hooks", "127.0.0.1 is a loopback address; webhooks go only to public addresses."),
    ("https://[::1]:8443/hooks", "::1 is a loopback address; webhooks go only to public addresses."),
    (
        "https://169.254.169.254/latest/meta-data/",
        "169.254.169.254 is a link-local address; webhooks go only to public addresses.",
    ),
    (
        "https://[::ffff:10.0.0.1]/hooks",
        "::ffff:10.0.0.1 is an IPv4-mapped form of 10.0.0.1, a private address; webhooks go only to public addresses.",
    ),
    ("https://0.0.0.0/hooks", "0.0.0.0 is an unspecified address; webhooks go only to public addresses."),
    ("https://224.0.0.1/hooks", "224.0.0.1 is a multicast address; webhooks go only to public addresses."),
    ("https://100.64.0.1/hooks", "100.64.0.1 is not a public address; webhooks go only to public addresses."),
    (
        "https://intranet.shop.example/hooks",
        "intranet.shop.example resolves to 10.20.30.40, which is a private address; "
        "webhooks go only to public addresses.",
    ),
    (
        "https://user:pw@hooks.shop.example/",
        "The URL must not carry a user name or password; the signature authenticates us.",
    ),
    ("https://nowhere.invalid/hooks", None),
]


@override_settings(OTC_WEBHOOK_ALLOW_LOOPBACK=False)
@pytest.mark.parametrize(("url", "message"), REFUSED)
def test_an_unsafe_url_is_refused_with_a_clear_error_and_nothing_saved(clerk, partner_key, dns, url, message):
    dns["intranet.shop.example"] = "10.20.30.40"
    dns["hooks.shop.example"] = PUBLIC

    with pytest.raises(UnsafeWebhookUrl) as refused:
        webhooks.create_subscription(api_key=partner_key, url=url, event_types=["*"], actor=clerk)

    if message is None:
        assert refused.value.message.startswith("The host nowhere.invalid cannot be resolved")
    else:
        assert refused.value.message == message
    assert refused.value.fields == {"url": [refused.value.message]}
    assert not WebhookSubscription.objects.exists()


@override_settings(OTC_WEBHOOK_ALLOW_HTTP=False)
def test_plain_http_is_refused_in_production(clerk, partner_key, dns):
    dns["hooks.shop.example"] = PUBLIC

    with pytest.raises(UnsafeWebhookUrl) as refused:
        webhooks.create_subscription(
            api_key=partner_key, url="http://hooks.shop.example/otc", event_types=["*"], actor=clerk
        )

    assert refused.value.message == "The URL must start with https:// (not http://)."
    assert not WebhookSubscription.objects.exists()


@override_settings(OTC_WEBHOOK_ALLOW_LOOPBACK=False)
def test_a_name_that_turns_private_after_saving_is_refused_at_send_time(clerk, partner_key, dns, monkeypatch):
    dns["hooks.shop.example"] = PUBLIC
    subscription, _ = webhooks.create_subscription(
        api_key=partner_key, url="https://hooks.shop.example/otc", event_types=["*"], actor=clerk
    )
    dns["hooks.shop.example"] = "10.0.0.5"  # DNS rebinding
    monkeypatch.setattr(webhooks, "post", lambda *args, **kwargs: pytest.fail("nothing may be sent"))

    delivery = webhooks.queue_test_delivery(subscription=subscription, actor=clerk)
    result = webhooks.send_webhook(delivery_id=delivery.pk)

    expected = (
        "Not sent: hooks.shop.example resolves to 10.0.0.5, which is a private address; "
        "webhooks go only to public addresses."
    )
    assert (result.delivery.status, result.delivery.last_error) == ("given_up", expected)
    attempt = WebhookAttempt.objects.get()
    assert (attempt.response_status, attempt.remote_address, attempt.error) == (None, None, expected)


@override_settings(OTC_WEBHOOK_ALLOW_LOOPBACK=False)
def test_a_changed_url_is_checked_too(clerk, partner_key, dns):
    dns["hooks.shop.example"] = PUBLIC
    subscription, _ = webhooks.create_subscription(
        api_key=partner_key, url="https://hooks.shop.example/otc", event_types=["*"], actor=clerk
    )

    with pytest.raises(UnsafeWebhookUrl):
        webhooks.update_subscription(subscription=subscription, url="https://127.0.0.1/otc", actor=clerk)

    subscription.refresh_from_db()
    assert subscription.url == "https://hooks.shop.example/otc"
