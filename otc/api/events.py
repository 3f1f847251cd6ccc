"""The domain event catalogue in the API: what partner systems may receive, with each payload's
JSON Schema. Any API client may read it (no scope): it describes the API, not a customer's data."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from otc.api.schema import problems
from otc.events import catalogue
from otc.models import ApiKey


class IsApiClient(BasePermission):
    """Any valid API key, or a signed-in staff member."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return isinstance(request.auth, ApiKey) or bool(user and user.is_authenticated and user.is_staff)


class EventTypeSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="e.g. invoice.issued")
    version = serializers.IntegerField(help_text="Raised by any change to the payload's fields.")
    summary = serializers.CharField()
    schema = serializers.DictField(help_text="JSON Schema (draft 2020-12) of the payload.")


class EventCatalogueSerializer(serializers.Serializer):
    events = EventTypeSerializer(many=True)


class EventCatalogueView(APIView):
    permission_classes = [IsApiClient]

    @extend_schema(
        operation_id="events_catalogue",
        summary="The domain event catalogue",
        description="Every event type with its version, summary and the JSON Schema of its payload.",
        responses={200: EventCatalogueSerializer, **problems(401, 403)},
        tags=["events"],
    )
    def get(self, request: Request) -> Response:
        events = [
            {"type": event.type, "version": event.version, "summary": event.summary(), "schema": event.schema()}
            for event in catalogue().values()
        ]
        return Response(EventCatalogueSerializer({"events": events}).data)
