"""Partner webhooks through a real Celery worker and Redis: the worker dispatches the committed event,
POSTs it to a receiver on 127.0.0.1, backs off after a 500 and delivers it on the swept retry."""

import pytest
from standardwebhooks import Webhook

from customers import services as customers
from otc.services import create_api_key
from tests.factories import CustomerFactory
from tests.support.workers import wait_for
from workflows import tasks
from workflows.models import WebhookDelivery, WebhookDeliveryStatus
from workflows.webhooks import services as webhooks

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_worker_delivers_an_event_retrying_after_a_failure(clerk, celery_workers, webhook_receiver):
    celery_workers.env["WEBHOOK_RETRY_BASE_SECONDS"] = "1"
    worker = celery_workers.start()
    key, _ = create_api_key(name="Shop", scopes=["webhooks:manage"], actor=clerk)
    _, secret = webhooks.create_subscription(
        api_key=key, url=webhook_receiver.url, event_types=["customer.credit_hold_placed"], actor=clerk
    )
    webhook_receiver.answer(500)
    customer = CustomerFactory(actor=clerk)

    customers.place_credit_hold(customer=customer, actor=clerk, reason="cheque bounced")

    wait_for(
        lambda: WebhookDelivery.objects.filter(status=WebhookDeliveryStatus.DELIVERED).exists(),
        "the worker to deliver the webhook after one failure",
        nudge=tasks.sweep_webhook_deliveries.delay,
        workers=[worker],
    )
    delivery = WebhookDelivery.objects.get()
    assert delivery.attempts == 2
    assert list(delivery.attempt_log.values_list("number", "response_status")) == [(1, 500), (2, 200)]
    first, second = webhook_receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery.message_id
    for request in (first, second):
        body = Webhook(secret).verify(request.body, request.headers)
        assert body["data"]["reason"] == "cheque bounced"
        assert body["data"]["customer_id"] == customer.pk
