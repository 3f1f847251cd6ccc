"""Disputes API: open a dispute on an invoice (its hold keeps collections away), list and read them,
resolve one by a credit note, a rejection with a reason, or the customer's withdrawal. Each handler
parses, calls a service, and renders; errors become problem+json."""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response

from invoicing import selectors as invoicing_selectors
from invoicing.models import DocumentKind, Invoice
from orders.api.serializers import CustomerRefSerializer
from otc.api.idempotency import idempotent
from otc.api.schema import IDEMPOTENCY_KEY, problems
from otc.api.serializers import OptionalAmountField, StrictSerializer, parse
from service import services
from service.models import Dispute, DisputeReason, DisputeResolution, DisputeStatus
from service.selectors import dispute_list

# Disputes were collections' before they were records of their own: the same keys keep handling them.
DISPUTE_SCOPES = {"read": "payments:read", "write": "payments:write"}
RESOLUTIONS = [DisputeResolution.CREDIT_NOTE, DisputeResolution.REJECTED, DisputeResolution.WITHDRAWN]


def document_by_number(kind: str, number: str) -> Invoice:
    document = invoicing_selectors.document_by_number(kind=kind, number=number)
    if document is None:
        raise serializers.ValidationError(f"No {DocumentKind(kind).label.lower()} {number}.")
    return document


class DisputeCreateSerializer(StrictSerializer):
    invoice = serializers.CharField(max_length=20, help_text="The invoice's number.")
    reason = serializers.ChoiceField(choices=DisputeReason.choices, default=DisputeReason.OTHER)
    description = serializers.CharField(help_text="What the customer disputes.")
    amount = serializers.DecimalField(
        max_digits=19, decimal_places=4, required=False, help_text="The disputed part; omitted, the whole invoice."
    )
    expires_on = serializers.DateField(required=False, help_text="After today; by default in 60 days.")

    def validate_invoice(self, number: str) -> Invoice:
        return document_by_number(DocumentKind.INVOICE, number)


class DisputeResolveSerializer(StrictSerializer):
    resolution = serializers.ChoiceField(choices=[(value, DisputeResolution(value).label) for value in RESOLUTIONS])
    credit_note = serializers.CharField(
        max_length=20, required=False, help_text="The credit note's number (resolution credit_note)."
    )
    note = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default="", help_text="Required when rejected: why."
    )

    def validate_credit_note(self, number: str) -> Invoice:
        return document_by_number(DocumentKind.CREDIT_NOTE, number)


class DisputeSerializer(serializers.ModelSerializer):
    invoice = serializers.CharField(source="invoice.number", read_only=True, help_text="The invoice's number.")
    customer = CustomerRefSerializer(read_only=True)
    disputed_amount = OptionalAmountField(currency_field="currency")
    credit_note = serializers.CharField(source="credit_note.number", read_only=True, allow_null=True, default=None)

    class Meta:
        model = Dispute
        fields = [
            "id",
            "invoice",
            "customer",
            "reason",
            "description",
            "currency",
            "disputed_amount",
            "status",
            "expires_on",
            "resolution",
            "credit_note",
            "resolution_note",
            "opened_at",
            "resolved_at",
        ]
        read_only_fields = fields


class DisputeFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=DisputeStatus.choices)
    reason = django_filters.ChoiceFilter(choices=DisputeReason.choices)
    customer = django_filters.NumberFilter(field_name="customer_id")

    class Meta:
        model = Dispute
        fields = ["status", "reason", "customer"]


class DisputeViewSet(viewsets.GenericViewSet):
    """A dispute holds its invoice (invoicing's hold): collections leave it alone until it is resolved."""

    scopes = DISPUTE_SCOPES
    staff_permissions = {"read": "service.view_dispute", "write": "service.add_dispute"}
    filterset_class = DisputeFilter
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return dispute_list()

    @extend_schema(responses={200: DisputeSerializer(many=True), **problems(401, 403, 422)})
    def list(self, request: Request) -> Response:
        """Disputes, newest first, one cursor page at a time. Filter by `status`, `reason` and `customer`."""
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(DisputeSerializer(page, many=True).data)

    @extend_schema(responses={200: DisputeSerializer, **problems(401, 403, 404)})
    def retrieve(self, request: Request, pk: int) -> Response:
        return Response(DisputeSerializer(get_object_or_404(dispute_list(), pk=pk)).data)

    @extend_schema(
        request=DisputeCreateSerializer,
        responses={201: DisputeSerializer, **problems(401, 403, 409, 422)},
        parameters=[IDEMPOTENCY_KEY],
        description="Holds the issued invoice; a draft or an invoice with an open dispute is a 409.",
    )
    @idempotent
    def create(self, request: Request) -> Response:
        """Open a dispute on an invoice."""
        data = parse(DisputeCreateSerializer, request)
        dispute = services.open_dispute(actor=request.user, **data)
        return Response(
            DisputeSerializer(get_object_or_404(dispute_list(), pk=dispute.pk)).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        request=DisputeResolveSerializer, responses={200: DisputeSerializer, **problems(401, 403, 404, 409, 422)}
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: int) -> Response:
        """Resolve the dispute: the hold is released and dunning picks the invoice up at its next run. A
        dispute resolved already is a 409 `not_in_dispute`."""
        dispute = get_object_or_404(dispute_list(), pk=pk)
        data = parse(DisputeResolveSerializer, request)
        services.resolve_dispute(dispute=dispute, actor=request.user, **data)
        return Response(DisputeSerializer(get_object_or_404(dispute_list(), pk=pk)).data, status=status.HTTP_200_OK)
