"""Collections API: promises to pay. Each handler parses, calls a service, and renders; errors become
problem+json."""

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response

from otc.api.idempotency import idempotent
from otc.api.schema import IDEMPOTENCY_KEY, problems
from otc.api.serializers import parse
from payments.collections import services as collections
from payments.collections.api.filters import PromiseToPayFilter
from payments.collections.api.serializers import PromiseCreateSerializer, PromiseToPaySerializer
from payments.collections.selectors import promise_list
from payments.models import PromiseToPay

PAYMENT_SCOPES = {"read": "payments:read", "write": "payments:write"}


class PromiseToPayViewSet(viewsets.GenericViewSet):
    """The customer promised to pay invoices by a date; dunning leaves them alone until then."""

    scopes = PAYMENT_SCOPES
    staff_permissions = {"read": "payments.view_promisetopay", "write": "payments.add_promisetopay"}
    filterset_class = PromiseToPayFilter
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[PromiseToPay]:
        return promise_list()

    @extend_schema(responses={200: PromiseToPaySerializer(many=True), **problems(401, 403, 422)})
    def list(self, request: Request) -> Response:
        """Promises, newest first, one cursor page at a time. Filter by `customer` and `status`."""
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(PromiseToPaySerializer(page, many=True).data)

    @extend_schema(responses={200: PromiseToPaySerializer, **problems(401, 403, 404)})
    def retrieve(self, request: Request, pk: int) -> Response:
        return Response(PromiseToPaySerializer(get_object_or_404(promise_list(), pk=pk)).data)

    @extend_schema(
        request=PromiseCreateSerializer,
        responses={201: PromiseToPaySerializer, **problems(401, 403, 404, 409, 422)},
        parameters=[IDEMPOTENCY_KEY],
        description=(
            "The invoices must be the customer's open invoices in one currency; the date today or later; "
            "the amount above zero and at most their open total."
        ),
    )
    @idempotent
    def create(self, request: Request) -> Response:
        """Record a promise to pay."""
        data = parse(PromiseCreateSerializer, request)
        promise = collections.record_promise_to_pay(actor=request.user, **data)
        return Response(
            PromiseToPaySerializer(get_object_or_404(promise_list(), pk=promise.pk)).data,
            status=status.HTTP_201_CREATED,
        )
