"""Payment providers for paying invoices online. A provider sends the customer to its hosted
checkout page and later confirms the payment with a signed notification to
/api/v1/webhooks/payments/<provider>/ (payments.money.webhooks), which books it through
`complete_checkout`, once.

The built-in test provider works offline: its "hosted" page is the portal's own, and paying there
posts the same signed notification. It exists only when OTC_PAYMENT_TEST_PROVIDER is on (development,
tests, the demo), with the secret under "test" in OTC_PAYMENT_PROVIDER_SECRETS.
"""

import json
import time
import uuid
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.urls import reverse

from otc.errors import InvalidInput
from payments.models import Checkout, Payment
from payments.money import webhooks
from payments.money.checkouts import complete_checkout, notification_body


class PaymentProvider(Protocol):
    name: str

    def hosted_page_url(self, checkout: Checkout) -> str:
        """Where to send the customer to pay the checkout."""


class TestProvider:
    """Pays at once on our own hosted page and signs its notification like a real provider."""

    name = "test"

    def hosted_page_url(self, checkout: Checkout) -> str:
        return reverse("portal:test-provider", kwargs={"token": checkout.token})

    def signed_notification(self, checkout: Checkout) -> tuple[bytes, dict[str, str]]:
        """The webhook body and headers the provider would post once the customer paid."""
        body = notification_body(checkout=checkout, event_id=f"evt_{uuid.uuid4().hex}")
        timestamp = str(int(time.time()))
        signature = webhooks.sign(
            secret=settings.OTC_PAYMENT_PROVIDER_SECRETS[self.name], timestamp=timestamp, body=body
        )
        return body, {"X-OTC-Timestamp": timestamp, "X-OTC-Signature": signature}


def online_provider() -> PaymentProvider | None:
    """The provider the portal offers, or None when online payment is not set up."""
    if settings.OTC_PAYMENT_TEST_PROVIDER and TestProvider.name in settings.OTC_PAYMENT_PROVIDER_SECRETS:
        return TestProvider()
    return None


def receive_checkout_notification(*, provider: str, body: bytes, headers: dict[str, str]) -> Payment:
    """Verify a provider's signed `checkout.completed` notification and book it (once). The webhook
    endpoint and the test provider's hosted page both come through here."""
    secret = settings.OTC_PAYMENT_PROVIDER_SECRETS.get(provider)
    if secret is None:
        raise InvalidInput(f"No payment provider {provider}.", fields={"provider": ["Unknown provider."]})
    webhooks.verify(
        secret=secret,
        timestamp=headers.get("X-OTC-Timestamp", ""),
        body=body,
        signature=headers.get("X-OTC-Signature", ""),
    )
    try:
        event = json.loads(body)
        return complete_checkout(
            provider=provider,
            token=str(uuid.UUID(str(event["checkout"]))),
            event_id=str(event["event_id"])[:80],
            amount=Decimal(str(event["amount"])),
            currency=str(event["currency"]),
        )
    except (ValueError, KeyError, TypeError, ArithmeticError) as error:
        raise InvalidInput("The notification is not a checkout.completed event.") from error
