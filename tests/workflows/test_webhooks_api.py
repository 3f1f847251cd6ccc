"""The webhooks API: a partner manages only its own subscriptions (another key's are a 404), needs
the webhooks:manage scope (403), gets a 422 naming the field for an unknown event type or an unsafe
URL, sees the secret once, rotates it, test-sends, and reads and replays its deliveries."""

import pytest
from django.test import override_settings
from standardwebhooks import Webhook

from customers import services as customers
from tests.factories import CustomerFactory
from workflows.models import OutboxEvent, WebhookDelivery, WebhookSubscription
from workflows.webhooks import services as webhooks

pytestmark = pytest.mark.django_db

SUBSCRIPTIONS = "/api/v1/webhooks/subscriptions/"
DELIVERIES = "/api/v1/webhooks/deliveries/"


@pytest.fixture
def partner(api_client_for):
    return api_client_for("webhooks:manage")


def create(client, url: str, event_types=("customer.credit_hold_placed",), **extra):
    return client.post(SUBSCRIPTIONS, {"url": url, "event_types": list(event_types), **extra}, format="json")


def test_a_partner_creates_a_subscription_and_sees_the_secret_once(partner, webhook_receiver):
    response = create(partner, webhook_receiver.url, contact_email="ops@shop.example")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["secret"].startswith("whsec_")
    assert response["Cache-Control"] == "no-store"
    subscription = WebhookSubscription.objects.get()
    assert (subscription.api_key, subscription.secret) == (partner.api_key, body["secret"])
    assert body["event_types"] == ["customer.credit_hold_placed"]
    listed = partner.get(SUBSCRIPTIONS).json()["results"]
    assert [item["id"] for item in listed] == [subscription.pk]
    assert "secret" not in listed[0]
    assert "secret" not in partner.get(f"{SUBSCRIPTIONS}{subscription.pk}/").json()


def test_an_unknown_event_type_is_a_422_naming_the_field(partner, webhook_receiver):
    response = create(partner, webhook_receiver.url, ["customer.credit_hold_placed", "order.teleported"])

    assert response.status_code == 422
    problem = response.json()
    assert response["Content-Type"] == "application/problem+json"
    assert problem["code"] == "unknown_event_type"
    assert problem["errors"] == {
        "event_types": ["Not in the event catalogue: order.teleported (see GET /api/v1/events/catalogue/)."]
    }
    assert not WebhookSubscription.objects.exists()


@override_settings(OTC_WEBHOOK_ALLOW_LOOPBACK=False)
def test_an_unsafe_url_is_a_422_naming_the_field(partner):
    response = create(partner, "https://169.254.169.254/latest/meta-data/")

    assert response.status_code == 422
    assert response.json()["code"] == "unsafe_webhook_url"
    assert response.json()["errors"] == {
        "url": ["169.254.169.254 is a link-local address; webhooks go only to public addresses."]
    }
    assert not WebhookSubscription.objects.exists()


def test_without_the_scope_it_is_a_403(api_client_for, webhook_receiver):
    reader = api_client_for("customers:read")

    assert reader.get(SUBSCRIPTIONS).status_code == 403
    response = create(reader, webhook_receiver.url)
    assert response.status_code == 403
    assert response.json()["detail"] == "This API key lacks the scope 'webhooks:manage'."
    assert not WebhookSubscription.objects.exists()


def test_another_keys_subscription_and_deliveries_are_a_404(partner, api_client_for, webhook_receiver, clerk):
    other = api_client_for("webhooks:manage")
    theirs_id = create(other, webhook_receiver.url).json()["id"]
    theirs = WebhookSubscription.objects.get(pk=theirs_id)
    delivery = webhooks.queue_test_delivery(subscription=theirs, actor=clerk)

    for method, path in [
        ("get", f"{SUBSCRIPTIONS}{theirs_id}/"),
        ("patch", f"{SUBSCRIPTIONS}{theirs_id}/"),
        ("delete", f"{SUBSCRIPTIONS}{theirs_id}/"),
        ("post", f"{SUBSCRIPTIONS}{theirs_id}/rotate-secret/"),
        ("post", f"{SUBSCRIPTIONS}{theirs_id}/test/"),
        ("get", f"{DELIVERIES}{delivery.pk}/"),
        ("post", f"{DELIVERIES}{delivery.pk}/replay/"),
    ]:
        response = getattr(partner, method)(path, {}, format="json")
        assert response.status_code == 404, (method, path, response.json())
    assert partner.get(SUBSCRIPTIONS).json()["results"] == []
    assert partner.get(DELIVERIES).json()["results"] == []
    assert WebhookSubscription.objects.get(pk=theirs_id).url == webhook_receiver.url
    assert webhook_receiver.requests == []


def test_update_rotate_test_send_and_delete(partner, webhook_receiver):
    created = create(partner, webhook_receiver.url).json()
    path = f"{SUBSCRIPTIONS}{created['id']}/"

    changed = partner.patch(path, {"event_types": ["*"], "description": "ERP"}, format="json")
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["event_types"], changed.json()["description"]) == (["*"], "ERP")
    assert changed.json()["url"] == webhook_receiver.url

    rotated = partner.post(f"{path}rotate-secret/", {"overlap_hours": 2}, format="json")
    assert rotated.status_code == 200, rotated.json()
    new_secret = rotated.json()["secret"]
    assert new_secret != created["secret"]

    tested = partner.post(f"{path}test/", {}, format="json")
    assert tested.status_code == 200, tested.json()
    delivery = tested.json()
    assert (delivery["status"], delivery["is_test"], delivery["event_type"]) == ("delivered", True, "webhook.test")
    assert [attempt["response_status"] for attempt in delivery["attempt_log"]] == [200]
    [request] = webhook_receiver.requests
    assert request.headers["webhook-id"] == delivery["webhook_id"]
    for secret in (new_secret, created["secret"]):
        assert Webhook(secret).verify(request.body, request.headers)["type"] == "webhook.test"

    assert partner.delete(path).status_code == 204
    assert not WebhookSubscription.objects.exists()
    assert not WebhookDelivery.objects.exists()


@override_settings(OTC_WEBHOOK_MAX_ATTEMPTS=1)
def test_a_partner_lists_its_dead_letters_with_attempts_and_replays_one(
    partner, webhook_receiver, clerk, django_assert_max_num_queries
):
    subscription = WebhookSubscription.objects.get(pk=create(partner, webhook_receiver.url).json()["id"])
    webhook_receiver.answer(500, 500)
    for _ in range(2):
        delivery = webhooks.queue_webhook(
            event=_event(clerk), subscription=subscription, handler="queue_partner_webhooks"
        )
        webhooks.send_webhook(delivery_id=delivery.pk)

    with django_assert_max_num_queries(6):
        listed = partner.get(DELIVERIES, {"status": "given_up"})
    assert listed.status_code == 200
    results = listed.json()["results"]
    assert [item["status"] for item in results] == ["given_up", "given_up"]
    assert [attempt["response_body"] for attempt in results[0]["attempt_log"]] == ["answered 500"]

    replayed = partner.post(f"{DELIVERIES}{results[0]['id']}/replay/", {}, format="json")

    assert replayed.status_code == 202, replayed.json()
    assert WebhookDelivery.objects.get(pk=results[0]["id"]).status == "delivered"  # eager Celery sent it
    assert len(webhook_receiver.requests) == 3
    again = partner.post(f"{DELIVERIES}{results[0]['id']}/replay/", {}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "delivery_not_replayable"


def _event(actor):
    customers.place_credit_hold(customer=CustomerFactory(actor=actor), actor=actor, reason="overdue")
    return OutboxEvent.objects.filter(event_type="customer.credit_hold_placed").latest("pk")
