"""The API guide's signature example is runnable and right: its code block, taken from the guide,
verifies a real signed delivery both ways, and refuses a tampered body or a wrong secret."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from standardwebhooks.webhooks import WebhookVerificationError

from otc.services import create_api_key
from workflows.webhooks import services as webhooks

pytestmark = pytest.mark.django_db
MARKER = "<!-- webhook-verification-example -->"


def guide_example() -> dict:
    guide = (Path(settings.BASE_DIR) / "docs" / "api-guide.md").read_text()
    code = re.search(re.escape(MARKER) + r"\s*```python\n(.*?)```", guide, re.S).group(1)
    namespace: dict = {"__name__": "guide_example"}
    exec(compile(code, "api-guide.md", "exec"), namespace)
    return namespace


def test_the_guides_example_verifies_a_real_delivery(clerk, webhook_receiver):
    example = guide_example()
    key, _ = create_api_key(name="Shop", scopes=["webhooks:manage"], actor=clerk)
    subscription, secret = webhooks.create_subscription(
        api_key=key, url=webhook_receiver.url, event_types=["*"], actor=clerk
    )
    delivery = webhooks.queue_test_delivery(subscription=subscription, actor=clerk)
    webhooks.send_webhook(delivery_id=delivery.pk)
    [request] = webhook_receiver.requests

    for verify in (example["verify"], example["verify_with_hmac"]):
        event = verify(request.body, request.headers, secret)
        assert event["type"] == "webhook.test"
        assert event["data"]["subscription_id"] == subscription.pk
        with pytest.raises((WebhookVerificationError, ValueError)):
            verify(request.body.replace(b"webhook.test", b"webhook.fake"), request.headers, secret)
        other_secret = webhooks.rotate_secret(subscription=subscription, actor=clerk, overlap=None)
        with pytest.raises((WebhookVerificationError, ValueError)):
            verify(request.body, request.headers, other_secret)
