"""Tickets API for partner systems and chat widgets (scopes `tickets:read`, `tickets:write`): open a
ticket, list and read them, read and post customer-visible messages, change the status. Internal
notes never leave the admin. Each handler parses, calls a service and renders; errors are
problem+json."""

import base64
import binascii

import django_filters
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response

from customers.models import Contact, Customer
from invoicing.models import Invoice
from orders.api.serializers import CustomerRefSerializer
from orders.models import Order, Shipment
from otc.api.idempotency import idempotent
from otc.api.schema import IDEMPOTENCY_KEY, problems
from otc.api.serializers import StrictSerializer, parse
from payments.models import Payment
from service import services
from service.models import (
    MessageKind,
    Ticket,
    TicketCategory,
    TicketChannel,
    TicketMessage,
    TicketPriority,
    TicketStatus,
)
from service.selectors import customer_visible_messages, sla_state, ticket_list, ticket_search

TICKET_SCOPES = {"read": "tickets:read", "write": "tickets:write"}
TICKET_PERMISSIONS = {"read": "service.view_ticket", "write": "service.change_ticket", "create": "service.add_ticket"}
API_MESSAGE_KINDS = [MessageKind.REPLY, MessageKind.CUSTOMER_MESSAGE]


class AttachmentInSerializer(StrictSerializer):
    filename = serializers.CharField(max_length=255)
    content_base64 = serializers.CharField(help_text="The file's bytes, base64-encoded.")

    def validate(self, data: dict) -> services.Upload:
        try:
            content = base64.b64decode(data["content_base64"], validate=True)
        except (binascii.Error, ValueError) as error:
            raise serializers.ValidationError({"content_base64": ["Not valid base64."]}) from error
        return services.Upload(data["filename"], content)


def numbered(model, label: str):
    """A list of document numbers in, the documents out; an unknown number is a 422."""

    class Numbers(serializers.ListField):
        child = serializers.CharField(max_length=20)

        def to_internal_value(self, data):
            numbers = super().to_internal_value(data)
            found = {document.number: document for document in model.objects.filter(number__in=numbers)}
            missing = [number for number in numbers if number not in found]
            if missing:
                raise serializers.ValidationError([f"No {label} {number}." for number in missing])
            return [found[number] for number in numbers]

    return Numbers(required=False, default=list, help_text=f"Numbers of the customer's {label}s.")


class TicketCreateSerializer(StrictSerializer):
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.all(), help_text="The customer's id.")
    contact = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.all(), required=False, allow_null=True, help_text="Id of one of its contacts."
    )
    sender_email = serializers.EmailField(required=False, default="", help_text="Who wrote, when not a contact.")
    subject = serializers.CharField(max_length=300)
    body = serializers.CharField()
    category = serializers.ChoiceField(choices=TicketCategory.choices, default=TicketCategory.OTHER)
    priority = serializers.ChoiceField(choices=TicketPriority.choices, default=TicketPriority.NORMAL)
    tags = serializers.ListField(child=serializers.CharField(max_length=40), required=False, default=list)
    orders = numbered(Order, "order")
    shipments = numbered(Shipment, "shipment")
    invoices = numbered(Invoice, "invoice or credit note")
    payments = numbered(Payment, "payment")
    attachments = AttachmentInSerializer(many=True, required=False, default=list)


class MessageCreateSerializer(StrictSerializer):
    kind = serializers.ChoiceField(
        choices=[(kind, MessageKind(kind).label) for kind in API_MESSAGE_KINDS], default=MessageKind.CUSTOMER_MESSAGE
    )
    body = serializers.CharField()
    sender_email = serializers.EmailField(required=False, default="")
    attachments = AttachmentInSerializer(many=True, required=False, default=list)
    status = serializers.ChoiceField(
        choices=TicketStatus.choices, required=False, allow_null=True, default=None, help_text="Then move to this."
    )


class StatusChangeSerializer(StrictSerializer):
    status = serializers.ChoiceField(choices=TicketStatus.choices)


class AttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    filename = serializers.CharField(read_only=True)
    content_type = serializers.CharField(read_only=True)
    size = serializers.IntegerField(read_only=True)


class MessageSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.full_name", read_only=True, default="")
    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = TicketMessage
        fields = ["id", "kind", "body", "author", "sender_email", "created_at", "attachments"]
        read_only_fields = fields


def numbers():
    return serializers.SlugRelatedField(many=True, read_only=True, slug_field="number")


class TicketSerializer(serializers.ModelSerializer):
    customer = CustomerRefSerializer(read_only=True)
    team = serializers.CharField(source="team.name", read_only=True, default=None)
    assignee = serializers.CharField(source="assignee.email", read_only=True, default=None)
    orders = numbers()
    shipments = numbers()
    invoices = numbers()
    payments = numbers()
    sla_state = serializers.SerializerMethodField(help_text="breached, soon, on track, paused, met, missed or none.")

    class Meta:
        model = Ticket
        fields = [
            "id",
            "number",
            "customer",
            "contact",
            "sender_email",
            "subject",
            "category",
            "priority",
            "status",
            "channel",
            "team",
            "assignee",
            "tags",
            "orders",
            "shipments",
            "invoices",
            "payments",
            "first_response_due_at",
            "resolution_due_at",
            "first_response_at",
            "solved_at",
            "sla_state",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_sla_state(self, ticket: Ticket) -> str:
        return sla_state(ticket, now=self.context.get("now") or timezone.now())


class TicketFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=TicketStatus.choices)
    priority = django_filters.ChoiceFilter(choices=TicketPriority.choices)
    category = django_filters.ChoiceFilter(choices=TicketCategory.choices)
    customer = django_filters.NumberFilter(field_name="customer_id")
    number = django_filters.CharFilter(field_name="number")
    q = django_filters.CharFilter(method="search", label="Ticket or customer number, or words in the conversation")

    class Meta:
        model = Ticket
        fields = ["status", "priority", "category", "customer", "number"]

    def search(self, queryset, name: str, value: str):
        return ticket_search(queryset, value)


class TicketViewSet(viewsets.GenericViewSet):
    """Service desk tickets; the customer's conversation without internal notes."""

    scopes = TICKET_SCOPES
    staff_permissions = TICKET_PERMISSIONS
    filterset_class = TicketFilter
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return ticket_list()

    def _render(self, ticket_id: int, code: int = status.HTTP_200_OK) -> Response:
        return Response(TicketSerializer(get_object_or_404(ticket_list(), pk=ticket_id)).data, status=code)

    @extend_schema(responses={200: TicketSerializer(many=True), **problems(401, 403, 422)})
    def list(self, request: Request) -> Response:
        """Tickets, newest first, a cursor page at a time. Filter by `status` (repeatable), `priority`,
        `category`, `customer`, `number`, and `q` (full-text)."""
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(TicketSerializer(page, many=True, context={"now": timezone.now()}).data)

    @extend_schema(responses={200: TicketSerializer, **problems(401, 403, 404)})
    def retrieve(self, request: Request, pk: int) -> Response:
        return self._render(pk)

    @extend_schema(
        request=TicketCreateSerializer,
        responses={201: TicketSerializer, **problems(401, 403, 422)},
        parameters=[IDEMPOTENCY_KEY],
        description="Documents and the contact must be the customer's; attachments are judged by their bytes.",
    )
    @idempotent
    def create(self, request: Request) -> Response:
        """Open a ticket with the customer's first message (channel `api`)."""
        data = parse(TicketCreateSerializer, request)
        links = [*data.pop("orders"), *data.pop("shipments"), *data.pop("invoices"), *data.pop("payments")]
        ticket = services.open_ticket(channel=TicketChannel.API, actor=request.user, links=links, **data)
        return self._render(ticket.pk, status.HTTP_201_CREATED)

    @extend_schema(
        methods=["GET"], responses={200: MessageSerializer(many=True), **problems(401, 403, 404)}, request=None
    )
    @extend_schema(
        methods=["POST"],
        request=MessageCreateSerializer,
        responses={201: MessageSerializer, **problems(401, 403, 404, 409, 422)},
        description="A reply is emailed to the customer; a customer message on a waiting or solved ticket "
        "reopens it; a closed ticket is a 409 `ticket_closed`.",
    )
    @action(detail=True, methods=["get", "post"])
    def messages(self, request: Request, pk: int) -> Response:
        """The customer-visible conversation, oldest first; or post to it."""
        ticket = get_object_or_404(ticket_list(), pk=pk)
        if request.method == "GET":
            return Response(MessageSerializer(customer_visible_messages(ticket), many=True).data)
        message = services.add_message(ticket=ticket, actor=request.user, **parse(MessageCreateSerializer, request))
        created = customer_visible_messages(ticket).get(pk=message.pk)
        return Response(MessageSerializer(created).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=StatusChangeSerializer, responses={200: TicketSerializer, **problems(401, 403, 404, 409, 422)}
    )
    @action(detail=True, methods=["post"], url_path="status")
    def change_status(self, request: Request, pk: int) -> Response:
        """Move the ticket along the transition table; a refused move is a 409 naming the allowed targets."""
        ticket = get_object_or_404(ticket_list(), pk=pk)
        services.change_status(ticket=ticket, actor=request.user, **parse(StatusChangeSerializer, request))
        return self._render(pk)
