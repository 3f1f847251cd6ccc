"""Partner webhooks end to end: a receiver on 127.0.0.1 gets each subscribed event once, signed per
Standard Webhooks with the catalogue's payload; failures back off, are logged and dead-lettered; a
subscription that keeps failing is disabled and its owner emailed; a rotated secret overlaps."""

import json
import random
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from customers import services as customers
from customers.events import CreditHoldPlaced
from otc.services import create_api_key, revoke_api_key
from tests.factories import CustomerFactory
from tests.support.outbox import run_outbox
from workflows.handlers import queue_partner_webhooks
from workflows.models import (
    AutomationRule,
    OutboxEvent,
    RuleRun,
    WebhookAttempt,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookSubscription,
)
from workflows.rules.runner import run_automation_rules
from workflows.rules.services import RuleInvalid, create_rule
from workflows.webhooks import services as webhooks
from workflows.webhooks.errors import DeliveryNotReplayable
from workflows.webhooks.selectors import dead_letters

pytestmark = pytest.mark.django_db

CREDIT_HOLD = CreditHoldPlaced.type
HOUR = 3600


@pytest.fixture
def partner_key(clerk):
    key, _ = create_api_key(name="Shop", scopes=["webhooks:manage"], actor=clerk)
    return key


def subscribe(key, actor, url: str, event_types=(CREDIT_HOLD,), **extra):
    return webhooks.create_subscription(api_key=key, url=url, event_types=list(event_types), actor=actor, **extra)


def hold(actor, reason: str = "two invoices 60 days overdue"):
    customer = CustomerFactory(actor=actor)
    customers.place_credit_hold(customer=customer, actor=actor, reason=reason)
    return customer


def due_now(delivery: WebhookDelivery) -> None:
    """The back-off has passed (as if the clock moved on)."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_a_subscribed_receiver_gets_each_event_once_signed_with_its_catalogue_payload(
    clerk, partner_key, webhook_receiver
):
    subscription, secret = subscribe(partner_key, clerk, webhook_receiver.url)
    other, _ = subscribe(partner_key, clerk, webhook_receiver.url, ["customer.credit_hold_released"])

    hold(clerk, reason="returned direct debit")
    run_outbox()
    event = OutboxEvent.objects.get(event_type=CREDIT_HOLD)
    run_outbox()  # a redelivered event queues nothing more
    queue_partner_webhooks(event)

    [request] = webhook_receiver.requests
    body = Webhook(secret).verify(request.body, request.headers)
    assert body == {
        "type": CREDIT_HOLD,
        "version": 1,
        "timestamp": event.created_at.isoformat().replace("+00:00", "Z"),
        "data": event.payload,
    }
    assert CreditHoldPlaced.from_payload(body["data"]).reason == "returned direct debit"
    assert request.path == "/hooks/otc"
    assert request.headers["content-type"] == "application/json"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.subscription, delivery.event, delivery.status) == (subscription, event, "delivered")
    assert request.headers["webhook-id"] == delivery.message_id == f"msg_{delivery.idempotency_key.hex}"
    assert abs(int(request.headers["webhook-timestamp"]) - timezone.now().timestamp()) < 60
    [attempt] = delivery.attempt_log.all()
    assert (attempt.number, attempt.response_status, attempt.response_body) == (1, 200, "answered 200")
    assert attempt.remote_address == "127.0.0.1"
    assert attempt.error == ""
    assert not WebhookDelivery.objects.filter(subscription=other).exists()


def test_revoked_keys_and_disabled_subscriptions_get_nothing(clerk, partner_key, webhook_receiver):
    subscribe(partner_key, clerk, webhook_receiver.url)
    paused, _ = subscribe(partner_key, clerk, webhook_receiver.url, ["*"])
    webhooks.disable_subscription(subscription=paused, reason="maintenance", actor=clerk)
    revoke_api_key(api_key=partner_key, actor=clerk)

    hold(clerk)
    run_outbox()

    assert not WebhookDelivery.objects.exists()
    assert webhook_receiver.requests == []


def test_queue_webhook_is_idempotent_per_event_subscription_and_handler(clerk, partner_key, webhook_receiver):
    subscription, _ = subscribe(partner_key, clerk, webhook_receiver.url, ["customer.credit_hold_released"])
    hold(clerk)
    event = OutboxEvent.objects.get(event_type=CREDIT_HOLD)

    first = webhooks.queue_webhook(event=event, subscription=subscription, handler="rule:7")
    again = webhooks.queue_webhook(event=event, subscription=subscription, handler="rule:7")
    other_rule = webhooks.queue_webhook(event=event, subscription=subscription, handler="rule:8")

    assert first is not None
    assert again is None
    assert other_rule is not None
    assert WebhookDelivery.objects.filter(event=event).count() == 2
    assert json.loads(first.body)["data"] == event.payload


@override_settings(OTC_WEBHOOK_MAX_ATTEMPTS=3, OTC_WEBHOOK_RETRY_BASE_SECONDS=60)
def test_a_failure_is_retried_with_backoff_logged_dead_lettered_and_replayed(clerk, partner_key, webhook_receiver):
    subscribe(partner_key, clerk, webhook_receiver.url)
    webhook_receiver.answer(500, 500, 500)
    hold(clerk)

    before = timezone.now()
    run_outbox()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("failed", 1, "HTTP 500")
    assert before + timedelta(seconds=54) <= delivery.next_attempt_at <= timezone.now() + timedelta(seconds=66)
    assert webhooks.webhook_deliveries_due() == []  # not before its back-off

    due_now(delivery)
    assert webhooks.webhook_deliveries_due() == [delivery.pk]
    before = timezone.now()
    webhooks.send_webhook(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", 2)
    assert before + timedelta(seconds=162) <= delivery.next_attempt_at <= timezone.now() + timedelta(seconds=198)

    due_now(delivery)
    webhooks.send_webhook(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("given_up", 3, None)
    assert delivery.given_up_at is not None
    assert list(dead_letters()) == [delivery]
    assert webhooks.webhook_deliveries_due() == []
    attempts = list(delivery.attempt_log.values_list("number", "response_status", "response_body", "error"))
    assert attempts == [(n, 500, "answered 500", "HTTP 500") for n in (1, 2, 3)]

    webhooks.replay_delivery(delivery=delivery, actor=clerk)
    webhooks.send_webhook(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("delivered", 4, "")
    assert len(webhook_receiver.requests) == 4
    assert {request.headers["webhook-id"] for request in webhook_receiver.requests} == {delivery.message_id}
    assert list(dead_letters()) == []
    with pytest.raises(DeliveryNotReplayable):
        webhooks.replay_delivery(delivery=delivery, actor=clerk)


def test_a_redirect_is_not_followed(clerk, partner_key, webhook_receiver):
    subscribe(partner_key, clerk, webhook_receiver.url)
    webhook_receiver.answer(302)
    hold(clerk)

    run_outbox()

    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed"
    assert delivery.last_error == "HTTP 302: redirects are not followed; subscribe the final URL."
    assert len(webhook_receiver.requests) == 1


class Bound(random.Random):
    """Jitter pinned to one end of its range."""

    def __init__(self, end: int):
        super().__init__()
        self.end = end

    def uniform(self, a: float, b: float) -> float:
        return (a, b)[self.end]


def test_the_retry_schedule_is_exponential_with_bounded_jitter_and_spans_more_than_a_day(settings):
    nominal = [60, 180, 540, 1620, 4860, 14580, 43200, 43200, 43200]
    retries = range(1, settings.OTC_WEBHOOK_MAX_ATTEMPTS)
    assert [webhooks.retry_delay(n, rng=Bound(0)).total_seconds() for n in retries] == pytest.approx(
        [seconds * 0.9 for seconds in nominal]
    )
    assert [webhooks.retry_delay(n, rng=Bound(1)).total_seconds() for n in retries] == pytest.approx(
        [seconds * 1.1 for seconds in nominal]
    )
    shortest_span = sum(webhooks.retry_delay(n, rng=Bound(0)).total_seconds() for n in retries)
    assert shortest_span >= 24 * HOUR
    delays = {webhooks.retry_delay(3).total_seconds() for _ in range(20)}
    assert len(delays) > 1
    assert all(486 <= delay <= 594 for delay in delays)


@override_settings(OTC_WEBHOOK_MAX_ATTEMPTS=1, OTC_WEBHOOK_DISABLE_AFTER_FAILED_DELIVERIES=2)
def test_a_subscription_failing_repeatedly_is_disabled_and_its_owner_emailed(clerk, partner_key, webhook_receiver):
    subscription, _ = subscribe(partner_key, clerk, webhook_receiver.url, contact_email="ops@shop.example")
    webhook_receiver.answer(503, 503)
    hold(clerk)
    run_outbox()
    subscription.refresh_from_db()
    assert (subscription.is_active, subscription.consecutive_failures) == (True, 1)
    assert mail.outbox == []

    hold(clerk)
    run_outbox()
    run_outbox()  # the owner's emails, queued by the second give-up

    subscription.refresh_from_db()
    assert not subscription.is_active
    assert subscription.disabled_at is not None
    assert subscription.disabled_reason == "2 deliveries in a row were given up; the last: HTTP 503"
    assert sorted(message.to[0] for message in mail.outbox) == ["clara@otc.test", "ops@shop.example"]
    assert {message.subject for message in mail.outbox} == {f"Webhook subscription disabled: {webhook_receiver.url}"}
    assert "2 deliveries in a row were given up" in mail.outbox[0].body

    hold(clerk)
    run_outbox()
    assert WebhookDelivery.objects.count() == 2  # nothing queued for the disabled subscription
    assert len(webhook_receiver.requests) == 2

    webhooks.enable_subscription(subscription=subscription, actor=clerk)
    subscription.refresh_from_db()
    assert (subscription.is_active, subscription.consecutive_failures, subscription.disabled_reason) == (True, 0, "")


@override_settings(OTC_WEBHOOK_MAX_ATTEMPTS=3, OTC_WEBHOOK_DISABLE_AFTER_FAILED_DELIVERIES=2)
def test_a_delivery_in_between_resets_the_failure_count(clerk, partner_key, webhook_receiver):
    subscription, _ = subscribe(partner_key, clerk, webhook_receiver.url)
    webhook_receiver.answer(500)
    hold(clerk)
    run_outbox()
    failing = WebhookDelivery.objects.get()
    WebhookSubscription.objects.filter(pk=subscription.pk).update(consecutive_failures=1)

    due_now(failing)
    webhooks.send_webhook(delivery_id=failing.pk)

    subscription.refresh_from_db()
    assert subscription.consecutive_failures == 0
    assert subscription.is_active


def test_during_a_rotation_both_secrets_verify_and_afterwards_only_the_new(clerk, partner_key, webhook_receiver):
    subscription, old = subscribe(partner_key, clerk, webhook_receiver.url)
    new = webhooks.rotate_secret(subscription=subscription, actor=clerk, overlap=timedelta(hours=1))
    assert new.startswith("whsec_")
    assert new != old

    during = webhooks.queue_test_delivery(subscription=subscription, actor=clerk)
    webhooks.send_webhook(delivery_id=during.pk)
    WebhookSubscription.objects.filter(pk=subscription.pk).update(
        previous_secret_expires_at=timezone.now() - timedelta(seconds=1)
    )
    after = webhooks.queue_test_delivery(subscription=subscription, actor=clerk)
    webhooks.send_webhook(delivery_id=after.pk)

    first, second = webhook_receiver.requests
    assert len(first.headers["webhook-signature"].split(" ")) == 2
    assert Webhook(new).verify(first.body, first.headers)["type"] == "webhook.test"
    assert Webhook(old).verify(first.body, first.headers)["type"] == "webhook.test"
    assert len(second.headers["webhook-signature"].split(" ")) == 1
    assert Webhook(new).verify(second.body, second.headers)["data"]["subscription_id"] == subscription.pk
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(second.body, second.headers)


def test_a_secret_is_stored_encrypted(clerk, partner_key, webhook_receiver):
    subscription, secret = subscribe(partner_key, clerk, webhook_receiver.url)
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM workflows_webhooksubscription WHERE id = %s", [subscription.pk])
        stored = cursor.fetchone()[0]
    assert secret not in stored
    assert WebhookSubscription.objects.get().secret == secret


@override_settings(OTC_WEBHOOK_MAX_ATTEMPTS=5)
def test_a_failed_test_send_is_not_retried_nor_counted(clerk, partner_key, webhook_receiver):
    subscription, _ = subscribe(partner_key, clerk, webhook_receiver.url)
    webhook_receiver.answer(500)
    delivery = webhooks.queue_test_delivery(subscription=subscription, actor=clerk)

    result = webhooks.send_webhook(delivery_id=delivery.pk)

    assert (result.delivery.status, result.delivery.attempts) == ("given_up", 1)
    subscription.refresh_from_db()
    assert subscription.consecutive_failures == 0
    assert WebhookAttempt.objects.get().response_status == 500


@override_settings(OUTBOX_LEASE_SECONDS=60)
def test_a_claim_left_by_a_dead_worker_lapses_and_the_same_message_goes_again(clerk, partner_key, webhook_receiver):
    subscribe(partner_key, clerk, webhook_receiver.url)
    hold(clerk)
    event = OutboxEvent.objects.get(event_type=CREDIT_HOLD)
    queue_partner_webhooks(event)
    delivery = WebhookDelivery.objects.get()
    claimed = webhooks.claim_webhook_delivery(delivery_id=delivery.pk)
    assert claimed.status == WebhookDeliveryStatus.SENDING
    assert webhooks.claim_webhook_delivery(delivery_id=delivery.pk) is None  # held by the "dead" worker

    WebhookDelivery.objects.filter(pk=delivery.pk).update(claimed_at=timezone.now() - timedelta(seconds=61))
    assert webhooks.webhook_deliveries_due() == [delivery.pk]
    webhooks.send_webhook(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    [request] = webhook_receiver.requests
    assert request.headers["webhook-id"] == delivery.message_id


def test_a_rule_calls_a_partner_webhook_once_per_event_even_unsubscribed(clerk, partner_key, webhook_receiver):
    subscription, secret = subscribe(partner_key, clerk, webhook_receiver.url, ["customer.credit_hold_released"])
    rule = create_rule(
        name="Tell the collection agency",
        event_type=CREDIT_HOLD,
        actions=[{"type": "call_webhook", "subscription": subscription.pk}],
        actor=clerk,
        active=True,
    )

    hold(clerk, reason="sent to collection")
    run_outbox()
    event = OutboxEvent.objects.get(event_type=CREDIT_HOLD)
    run_automation_rules(event)  # delivered twice: called once

    [request] = webhook_receiver.requests
    assert Webhook(secret).verify(request.body, request.headers)["data"]["reason"] == "sent to collection"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.handler, delivery.status) == (f"rule:{rule.pk}:0", "delivered")
    run = RuleRun.objects.get(rule=rule, event=event)
    assert run.actions[0]["recipients"] == [webhook_receiver.url]


def test_a_rule_calling_an_unknown_subscription_is_refused_naming_it(clerk):
    with pytest.raises(RuleInvalid) as refused:
        create_rule(
            name="Nowhere", event_type=CREDIT_HOLD, actions=[{"type": "call_webhook", "subscription": 999}], actor=clerk
        )
    assert any(
        "actions[0].subscription" in message and "there is no webhook subscription 999" in message
        for message in refused.value.fields["actions"]
    ), refused.value.fields
    assert not AutomationRule.objects.filter(name="Nowhere").exists()
