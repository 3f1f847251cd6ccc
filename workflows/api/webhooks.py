"""Partner webhooks in the API (scope `webhooks:manage`): an API client manages its own subscriptions
(create, change, delete, rotate the secret, enable, test-send) and reads its deliveries with their
attempts, replaying one. Everything is scoped to the calling key: another key's objects are a 404.
Each handler parses, calls workflows.webhooks.services and renders; errors are problem+json.

Creating a subscription takes no Idempotency-Key: its answer carries the secret, which is never
stored in plaintext (a stored idempotent response would keep it for a day).
"""

from datetime import timedelta

import django_filters
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response

from otc.api.permissions import HasScope
from otc.api.schema import problems
from otc.api.serializers import EmptySerializer, StrictSerializer, parse
from otc.models import ApiKey
from workflows import tasks
from workflows.models import ALL_EVENTS, WebhookAttempt, WebhookDelivery, WebhookDeliveryStatus, WebhookSubscription
from workflows.webhooks import services
from workflows.webhooks.selectors import deliveries_of, subscriptions_of

SCOPES = {"read": "webhooks:manage", "write": "webhooks:manage"}


class IsWebhookClient(HasScope):
    """An API key with webhooks:manage: subscriptions belong to keys, so staff sessions use the admin."""

    def has_permission(self, request, view) -> bool:
        if not isinstance(request.auth, ApiKey):
            self.message = "Webhook subscriptions belong to API keys; staff manage them in the admin."
            return False
        return super().has_permission(request, view)


EVENT_TYPES_HELP = f'Event types from GET /api/v1/events/catalogue/, or ["{ALL_EVENTS}"] for all, present and future.'


class SubscriptionCreateSerializer(StrictSerializer):
    url = serializers.RegexField(r"^https?://[^\s/?#]+\S*$", max_length=2000, help_text="https, on a public address.")
    event_types = serializers.ListField(
        child=serializers.CharField(max_length=60), min_length=1, help_text=EVENT_TYPES_HELP
    )
    description = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    contact_email = serializers.CharField(
        max_length=254,
        required=False,
        default="",
        allow_blank=True,
        help_text="Told when the subscription is disabled.",
    )


class SubscriptionUpdateSerializer(SubscriptionCreateSerializer):
    """Every field optional: only those sent change."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False
            field.default = serializers.empty


class SubscriptionSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookSubscription
        fields = [
            "id",
            "url",
            "description",
            "event_types",
            "contact_email",
            "is_active",
            "disabled_at",
            "disabled_reason",
            "consecutive_failures",
            "previous_secret_expires_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CreatedSubscriptionSerializer(SubscriptionSerializer):
    secret = serializers.SerializerMethodField(help_text="whsec_...: shown only in this answer.")

    class Meta(SubscriptionSerializer.Meta):
        fields = [*SubscriptionSerializer.Meta.fields, "secret"]
        read_only_fields = fields

    def get_secret(self, subscription: WebhookSubscription) -> str:
        return self.context["secret"]


class RotatedSecretSerializer(serializers.Serializer):
    secret = serializers.CharField(help_text="The new secret, shown only now.")
    previous_secret_expires_at = serializers.DateTimeField(help_text="Until then the old secret signs too.")


class RotateSerializer(StrictSerializer):
    overlap_hours = serializers.IntegerField(
        min_value=0, max_value=168, required=False, help_text="How long the old secret keeps signing (default 24)."
    )


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["number", "started_at", "duration_ms", "remote_address", "response_status", "response_body", "error"]
        read_only_fields = fields


class DeliverySerializer(serializers.ModelSerializer):
    webhook_id = serializers.CharField(
        source="message_id", help_text="The webhook-id header, the same on every attempt."
    )
    event_id = serializers.IntegerField(allow_null=True)
    subscription_id = serializers.IntegerField()
    attempt_log = AttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "webhook_id",
            "subscription_id",
            "event_id",
            "event_type",
            "is_test",
            "status",
            "attempts",
            "next_attempt_at",
            "last_response_status",
            "last_error",
            "created_at",
            "delivered_at",
            "given_up_at",
            "attempt_log",
        ]
        read_only_fields = fields


class DeliveryFilter(django_filters.FilterSet):
    subscription = django_filters.NumberFilter(field_name="subscription_id")
    status = django_filters.MultipleChoiceFilter(choices=WebhookDeliveryStatus.choices)
    event_type = django_filters.CharFilter()

    class Meta:
        model = WebhookDelivery
        fields = ["subscription", "status", "event_type"]


class SubscriptionViewSet(viewsets.GenericViewSet):
    """The calling API key's webhook subscriptions."""

    permission_classes = [IsWebhookClient]
    scopes = SCOPES
    lookup_value_regex = r"\d+"
    filter_backends: list = []

    def get_queryset(self):
        return subscriptions_of(self.request.auth)

    def _mine(self, pk: int) -> WebhookSubscription:
        return get_object_or_404(self.get_queryset(), pk=pk)

    @extend_schema(responses={200: SubscriptionSerializer(many=True), **problems(401, 403)})
    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(SubscriptionSerializer(page, many=True).data)

    @extend_schema(
        request=SubscriptionCreateSerializer,
        responses={201: CreatedSubscriptionSerializer, **problems(400, 401, 403, 422)},
        description="The answer carries the signing secret, shown only this once. An unknown event type "
        "(`unknown_event_type`, naming `event_types`) or a URL that is not https on a public address "
        "(`unsafe_webhook_url`, naming `url`) is a 422.",
    )
    def create(self, request: Request) -> Response:
        """Subscribe to events."""
        data = parse(SubscriptionCreateSerializer, request)
        subscription, secret = services.create_subscription(api_key=request.auth, actor=request.user, **data)
        body = CreatedSubscriptionSerializer(subscription, context={"secret": secret}).data
        return Response(body, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"})

    @extend_schema(responses={200: SubscriptionSerializer, **problems(401, 403, 404)})
    def retrieve(self, request: Request, pk: int) -> Response:
        return Response(SubscriptionSerializer(self._mine(pk)).data)

    @extend_schema(
        request=SubscriptionUpdateSerializer,
        responses={200: SubscriptionSerializer, **problems(400, 401, 403, 404, 422)},
    )
    def partial_update(self, request: Request, pk: int) -> Response:
        """Change the URL (checked again), the event types, the description or the contact."""
        data = parse(SubscriptionUpdateSerializer, request)
        subscription = services.update_subscription(subscription=self._mine(pk), actor=request.user, **data)
        return Response(SubscriptionSerializer(subscription).data)

    @extend_schema(responses={204: None, **problems(401, 403, 404)})
    def destroy(self, request: Request, pk: int) -> Response:
        """Unsubscribe for good; the subscription's delivery log goes with it."""
        services.delete_subscription(subscription=self._mine(pk), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=RotateSerializer, responses={200: RotatedSecretSerializer, **problems(401, 403, 404, 422)})
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, pk: int) -> Response:
        """A new secret, shown once; the old one keeps signing beside it for the overlap (both signatures
        are sent, space-separated), so the receiver can switch without losing a delivery."""
        data = parse(RotateSerializer, request)
        overlap = timedelta(hours=data["overlap_hours"]) if "overlap_hours" in data else None
        subscription = self._mine(pk)
        secret = services.rotate_secret(subscription=subscription, actor=request.user, overlap=overlap)
        subscription.refresh_from_db()
        body = {"secret": secret, "previous_secret_expires_at": subscription.previous_secret_expires_at}
        return Response(RotatedSecretSerializer(body).data, headers={"Cache-Control": "no-store"})

    @extend_schema(
        request=EmptySerializer, responses={200: SubscriptionSerializer, **problems(400, 401, 403, 404, 409)}
    )
    @action(detail=True, methods=["post"])
    def enable(self, request: Request, pk: int) -> Response:
        """Deliver again after the subscription was disabled for failing (the URL is checked again)."""
        parse(EmptySerializer, request)
        subscription = services.enable_subscription(subscription=self._mine(pk), actor=request.user)
        return Response(SubscriptionSerializer(subscription).data)

    @extend_schema(request=EmptySerializer, responses={200: DeliverySerializer, **problems(401, 403, 404)})
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk: int) -> Response:
        """Send a signed `webhook.test` event now and answer with the attempt: one try, no retries,
        never counted against the subscription."""
        parse(EmptySerializer, request)
        delivery = services.queue_test_delivery(subscription=self._mine(pk), actor=request.user)
        services.send_webhook(delivery_id=delivery.pk)
        return Response(DeliverySerializer(deliveries_of(request.auth).get(pk=delivery.pk)).data)


class DeliveryViewSet(viewsets.GenericViewSet):
    """The calling API key's webhook deliveries, newest first, each with its attempts."""

    permission_classes = [IsWebhookClient]
    scopes = SCOPES
    lookup_value_regex = r"\d+"
    filterset_class = DeliveryFilter
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend]

    def get_queryset(self):
        return deliveries_of(self.request.auth)

    @extend_schema(responses={200: DeliverySerializer(many=True), **problems(401, 403)})
    def list(self, request: Request) -> Response:
        """Filter by `subscription`, `status` (repeatable: `given_up` lists the dead letters) and `event_type`."""
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)

    @extend_schema(responses={200: DeliverySerializer, **problems(401, 403, 404)})
    def retrieve(self, request: Request, pk: int) -> Response:
        return Response(DeliverySerializer(get_object_or_404(self.get_queryset(), pk=pk)).data)

    @extend_schema(
        request=EmptySerializer,
        responses={
            202: inline_serializer(
                "ReplayAccepted", {"id": serializers.IntegerField(), "status": serializers.CharField()}
            ),
            **problems(401, 403, 404, 409),
        },
    )
    @action(detail=True, methods=["post"])
    def replay(self, request: Request, pk: int) -> Response:
        """Send a failed or given-up delivery again now, with the same webhook-id; a 409 for one that
        is pending, sending or delivered, or whose subscription is disabled."""
        parse(EmptySerializer, request)
        delivery = services.replay_delivery(delivery=get_object_or_404(self.get_queryset(), pk=pk), actor=request.user)
        tasks.deliver_webhook.delay(delivery.pk)
        return Response({"id": delivery.pk, "status": delivery.status}, status=status.HTTP_202_ACCEPTED)
