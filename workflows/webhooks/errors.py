"""Partner webhooks' domain errors, each with a stable code (the API renders them as problem+json)."""

from otc.errors import Conflict, DomainError


class UnsafeWebhookUrl(DomainError):
    """The URL is not https, or it reaches (or resolves to) an address webhooks must never go to."""

    code = "unsafe_webhook_url"
    status = 422
    title = "Webhooks go only to https URLs on public addresses."

    def __init__(self, message: str):
        super().__init__(message, fields={"url": [message]})


class UnknownEventType(DomainError):
    code = "unknown_event_type"
    status = 422
    title = "Event types must come from the event catalogue."

    def __init__(self, unknown: list[str]):
        message = f"Not in the event catalogue: {', '.join(unknown)} (see GET /api/v1/events/catalogue/)."
        super().__init__(message, fields={"event_types": [message]})


class SubscriptionDisabled(Conflict):
    code = "subscription_disabled"
    title = "The subscription is disabled."


class DeliveryNotReplayable(Conflict):
    code = "delivery_not_replayable"
    title = "Only failed or given-up deliveries can be replayed."
