"""Partner webhooks, the read side: a partner's own subscriptions and deliveries, and the dead letters."""

from django.db.models import Prefetch, QuerySet

from otc.models import ApiKey
from workflows.models import WebhookAttempt, WebhookDelivery, WebhookDeliveryStatus, WebhookSubscription


def subscriptions_of(api_key: ApiKey) -> QuerySet[WebhookSubscription]:
    """The API client's subscriptions; another client's are simply not there (a 404)."""
    return WebhookSubscription.objects.filter(api_key=api_key).order_by("-created_at")


def deliveries_of(api_key: ApiKey) -> QuerySet[WebhookDelivery]:
    """The API client's deliveries, newest first, each with its attempts (three queries per page)."""
    return (
        WebhookDelivery.objects.filter(subscription__api_key=api_key)
        .select_related("subscription")
        .prefetch_related(Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("number")))
        .order_by("-created_at")
    )


def dead_letters() -> QuerySet[WebhookDelivery]:
    """Deliveries given up, most recently first: what the dead-letter view lists for replay."""
    return (
        WebhookDelivery.objects.filter(status=WebhookDeliveryStatus.GIVEN_UP)
        .select_related("subscription__api_key")
        .order_by("-given_up_at")
    )


def failing_deliveries() -> QuerySet[WebhookDelivery]:
    """Deliveries waiting for a retry or given up, newest first, with their last error: what an
    operations view lists beside failed outbox handlers."""
    return (
        WebhookDelivery.objects.filter(status__in=[WebhookDeliveryStatus.FAILED, WebhookDeliveryStatus.GIVEN_UP])
        .select_related("subscription__api_key")
        .order_by("-created_at")
    )
