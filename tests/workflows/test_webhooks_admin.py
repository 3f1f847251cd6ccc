"""Partner webhooks in the admin: a subscription created for an API key shows its secret once, the
test-send button reaches the receiver, rotation shows the new secret, disable and enable, and the
dead-letter view replays one delivery or many."""

import re

import pytest
from django.test import Client, override_settings

from customers import services as customers
from otc.models import User
from otc.services import create_api_key
from tests.factories import CustomerFactory, give_totp
from workflows.models import OutboxEvent, WebhookDelivery, WebhookSubscription
from workflows.webhooks import services as webhooks

pytestmark = pytest.mark.django_db
SUBSCRIPTIONS = "/admin/workflows/webhooksubscription/"
DELIVERIES = "/admin/workflows/webhookdelivery/"
DEAD_LETTERS = "/admin/workflows/webhookdeadletter/"


@pytest.fixture
def boss(db):
    return give_totp(User.objects.create_superuser(email="boss@otc.test", password="x", full_name="Bea Boss"))


@pytest.fixture
def staff(boss) -> Client:
    client = Client()
    client.force_login(boss)
    return client


@pytest.fixture
def partner_key(boss):
    key, _ = create_api_key(name="Shop", scopes=["webhooks:manage"], actor=boss)
    return key


def shown_secret(response) -> str:
    return re.search(r'id="webhook-secret"[^>]*>([^<]+)</pre>', response.content.decode()).group(1)


def test_staff_subscribe_an_api_key_and_see_the_secret_once(staff, partner_key, webhook_receiver):
    response = staff.post(
        f"{SUBSCRIPTIONS}add/",
        {
            "api_key": partner_key.pk,
            "url": webhook_receiver.url,
            "event_types": ["customer.credit_hold_placed", "invoice.issued"],
            "contact_email": "ops@shop.example",
        },
    )

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    subscription = WebhookSubscription.objects.get()
    assert shown_secret(response) == subscription.secret
    assert subscription.event_types == ["customer.credit_hold_placed", "invoice.issued"]
    page = staff.get(f"{SUBSCRIPTIONS}{subscription.pk}/change/")
    assert page.status_code == 200
    assert subscription.secret not in page.content.decode()
    assert staff.get(SUBSCRIPTIONS).status_code == 200


def test_an_unknown_or_unsafe_subscription_is_refused_on_the_form(staff, partner_key):
    with override_settings(OTC_WEBHOOK_ALLOW_LOOPBACK=False):
        response = staff.post(
            f"{SUBSCRIPTIONS}add/",
            {"api_key": partner_key.pk, "url": "https://127.0.0.1/hook", "event_types": ["*"]},
        )

    assert response.status_code == 200
    assert "127.0.0.1 is a loopback address; webhooks go only to public addresses." in response.content.decode()
    assert not WebhookSubscription.objects.exists()


def test_test_send_rotate_disable_and_enable(staff, boss, partner_key, webhook_receiver):
    subscription, old = webhooks.create_subscription(
        api_key=partner_key, url=webhook_receiver.url, event_types=["*"], actor=boss
    )
    page = f"{SUBSCRIPTIONS}{subscription.pk}/"

    sent = staff.post(f"{page}test-send/", follow=True)
    assert "The endpoint answered 200" in sent.content.decode()
    [request] = webhook_receiver.requests
    assert request.headers["webhook-id"] == WebhookDelivery.objects.get(is_test=True).message_id

    rotated = staff.post(f"{page}rotate/", {"overlap_hours": "2"})
    new = shown_secret(rotated)
    subscription.refresh_from_db()
    assert (subscription.secret, subscription.previous_secret) == (new, old)

    staff.post(f"{page}disable/", {"reason": "partner migrating"})
    subscription.refresh_from_db()
    assert (subscription.is_active, subscription.disabled_reason) == (False, "partner migrating")
    staff.post(f"{page}enable/")
    subscription.refresh_from_db()
    assert subscription.is_active


@override_settings(OTC_WEBHOOK_MAX_ATTEMPTS=2)
def test_dead_letters_are_listed_and_replayed_one_by_one_or_in_bulk(staff, boss, partner_key, webhook_receiver):
    subscription, _ = webhooks.create_subscription(
        api_key=partner_key, url=webhook_receiver.url, event_types=["customer.credit_hold_placed"], actor=boss
    )
    webhook_receiver.answer(*[500] * 6)
    dead = []
    for _ in range(3):
        customers.place_credit_hold(customer=CustomerFactory(actor=boss), actor=boss, reason="overdue")
        event = OutboxEvent.objects.latest("pk")
        delivery = webhooks.queue_webhook(event=event, subscription=subscription, handler="queue_partner_webhooks")
        for _ in range(2):
            WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=None)
            webhooks.send_webhook(delivery_id=delivery.pk)
        dead.append(delivery)
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"given_up"}

    listing = staff.get(DEAD_LETTERS)
    assert listing.status_code == 200
    assert listing.content.decode().count("customer.credit_hold_placed") >= 3
    assert staff.get(f"{DELIVERIES}{dead[0].pk}/change/").status_code == 200

    staff.post(f"{DEAD_LETTERS}{dead[0].pk}/replay/", follow=True)
    assert WebhookDelivery.objects.get(pk=dead[0].pk).status == "delivered"

    staff.post(DEAD_LETTERS, {"action": "replay", "_selected_action": [d.pk for d in dead[1:]]}, follow=True)
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}
    assert len(webhook_receiver.requests) == 6 + 3
    assert staff.get(DEAD_LETTERS).content.decode().count("customer.credit_hold_placed") == 0
