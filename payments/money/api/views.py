"""Payments API for partner systems and payment providers: record payments, allocate them to invoices
(by invoice number), undo an allocation, read payments and a customer's balance, and take providers'
signed notifications. Each handler parses, calls a service or selector, and renders; errors become
problem+json."""

from django.conf import settings
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.models import Customer
from otc.api.idempotency import idempotent
from otc.api.schema import IDEMPOTENCY_KEY, problems, signature_headers
from otc.api.serializers import parse
from otc.models import ApiKey
from otc.services import automation_user
from payments.models import Allocation, Payment, PaymentSource
from payments.money import selectors, services, webhooks
from payments.money.api.filters import PaymentFilter
from payments.money.api.serializers import (
    AllocationCreateSerializer,
    AllocationSerializer,
    CustomerBalanceSerializer,
    PaymentCreateSerializer,
    PaymentDetailSerializer,
    PaymentSerializer,
    ProviderEventSerializer,
    ReverseSerializer,
)
from payments.money.checkouts import CHECKOUT_COMPLETED
from payments.money.errors import DuplicatePayment
from payments.money.providers import receive_checkout_notification

PAYMENT_SCOPES = {"read": "payments:read", "write": "payments:write"}
PAYMENT_SUCCEEDED = "payment.succeeded"


def payment_or_404(pk: int) -> Payment:
    return get_object_or_404(selectors.payment_list(), pk=pk)


class PaymentViewSet(viewsets.GenericViewSet):
    """Money received: list, read, record, allocate to invoices."""

    scopes = PAYMENT_SCOPES
    staff_permissions = {
        "read": "payments.view_payment",
        "write": "payments.add_payment",
        "allocations": "payments.add_allocation",
    }
    filterset_class = PaymentFilter
    search_fields = ["number", "reference", "external_id"]
    search_spec = selectors.PAYMENT_SEARCH
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[Payment]:
        return selectors.payment_list()

    def _created(self, payment: Payment) -> Response:
        """The payment as it is now, with its live allocations."""
        return Response(PaymentDetailSerializer(payment_or_404(payment.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: PaymentSerializer(many=True), **problems(401, 403, 422)})
    def list(self, request: Request) -> Response:
        """Payments, newest first, one cursor page at a time. Filter by customer, currency, method, source,
        `received_after`/`received_before` or `unallocated`; `search` by number, reference or external id."""
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(PaymentSerializer(page, many=True).data)

    @extend_schema(responses={200: PaymentDetailSerializer, **problems(401, 403, 404)})
    def retrieve(self, request: Request, pk: int) -> Response:
        """The payment with its live allocations."""
        return Response(PaymentDetailSerializer(payment_or_404(pk)).data)

    @extend_schema(
        request=PaymentCreateSerializer,
        responses={201: PaymentDetailSerializer, **problems(401, 403, 409, 422)},
        parameters=[IDEMPOTENCY_KEY],
        description=(
            "Books the money as the customer's unapplied payment (credit); allocate it next. An `external_id` "
            "recorded before is a 409 `duplicate_payment`; a currency without an exchange rate is a 409 "
            "`missing_exchange_rate`. Nothing is written then."
        ),
    )
    @idempotent
    def create(self, request: Request) -> Response:
        """Record a payment received; API keys record it as source `api`, staff as `staff`."""
        data = parse(PaymentCreateSerializer, request)
        source = PaymentSource.API if isinstance(request.auth, ApiKey) else PaymentSource.STAFF
        payment = services.record_payment(actor=request.user, source=source, **data)
        return self._created(payment)

    @extend_schema(
        request=AllocationCreateSerializer,
        responses={201: PaymentDetailSerializer, **problems(401, 403, 404, 409, 422)},
        parameters=[IDEMPOTENCY_KEY],
        description=(
            "Applies the payment to one or many open invoices of its customer in its currency, all or nothing. "
            "More than the payment has left or an invoice has open, or a write-off above the tolerance, is a "
            "409 `over_allocation`; another customer's or currency's invoice is a 422."
        ),
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def allocations(self, request: Request, pk: int) -> Response:
        """Allocate the payment to invoices, named by their numbers."""
        data = parse(AllocationCreateSerializer, request)
        payment = payment_or_404(pk)
        applications = [services.Application(**item) for item in data["applications"]]
        services.allocate_payment(payment=payment, applications=applications, actor=request.user)
        return self._created(payment)


class AllocationViewSet(viewsets.GenericViewSet):
    """Allocations are undone, never deleted: the posting is reversed and the invoice reopens."""

    scopes = PAYMENT_SCOPES
    staff_permissions = {"read": "payments.view_allocation", "write": "payments.change_allocation"}
    queryset = Allocation.objects.select_related("payment", "invoice")
    filter_backends = []
    pagination_class = None
    lookup_value_regex = r"\d+"

    @extend_schema(
        request=ReverseSerializer, responses={200: AllocationSerializer, **problems(401, 403, 404, 409, 422)}
    )
    @action(detail=True, methods=["post"])
    def reverse(self, request: Request, pk: int) -> Response:
        """Undo the allocation; the payment gets the amount back as credit. Undone already: 409."""
        reason = parse(ReverseSerializer, request)["reason"]
        allocation = services.unallocate(allocation=self.get_object(), actor=request.user, reason=reason)
        return Response(AllocationSerializer(allocation).data)


class CustomerBalanceViewSet(viewsets.GenericViewSet):
    """A customer's position: open items are at /customers/{id}/open-items/, this sums them per currency."""

    scopes = PAYMENT_SCOPES
    staff_permissions = {"read": "payments.view_payment"}
    queryset = Customer.objects.all()
    filter_backends = []
    pagination_class = None

    @extend_schema(responses={200: CustomerBalanceSerializer, **problems(401, 403, 404)})
    def retrieve(self, request: Request, customer_pk: int) -> Response:
        """Per currency: open receivables (open invoices less unused credit notes), unapplied payments
        (the customer's credit), and the balance between them."""
        customer = get_object_or_404(Customer.objects.all(), pk=customer_pk)
        body = {"customer": customer, "currencies": selectors.customer_balances(customer)}
        return Response(CustomerBalanceSerializer(body).data)


class ProviderWebhookView(APIView):
    """A payment provider's notification; its HMAC signature is the only credential."""

    authentication_classes = []
    permission_classes = []

    @extend_schema(
        request=ProviderEventSerializer,
        parameters=signature_headers("the provider's secret"),
        responses={
            201: PaymentSerializer,
            200: OpenApiResponse(PaymentSerializer, description="The event was booked before: that payment."),
            204: OpenApiResponse(description="Another event type: acknowledged, nothing booked."),
            **problems(401, 404, 422),
        },
        auth=[],
    )
    def post(self, request: Request, provider: str) -> Response:
        """Book a `payment.succeeded` once per provider event id. A bad signature or a timestamp older than
        five minutes is a 401 and books nothing; an unknown customer number is a 422."""
        secret = settings.OTC_PAYMENT_PROVIDER_SECRETS.get(provider)
        if secret is None:
            raise NotFound(f"No payment provider {provider}.")
        webhooks.verify(
            secret=secret,
            timestamp=request.headers.get("X-OTC-Timestamp", ""),
            body=request.body,
            signature=request.headers.get("X-OTC-Signature", ""),
        )
        event_type = request.data.get("type") if isinstance(request.data, dict) else None
        if event_type == CHECKOUT_COMPLETED:
            payment = receive_checkout_notification(provider=provider, body=request.body, headers=request.headers)
            return Response(PaymentSerializer(payment).data)
        if event_type is not None and event_type != PAYMENT_SUCCEEDED:
            return Response(status=status.HTTP_204_NO_CONTENT)
        event = parse(ProviderEventSerializer, request)
        external_id = f"{provider}:{event['event_id']}"
        try:
            payment = services.record_payment(
                customer=event["customer"],
                amount=event["amount"],
                currency=event["currency"],
                method=event["method"],
                source=PaymentSource.PROVIDER,
                actor=automation_user(),
                received_on=event["received_on"],
                external_id=external_id,
                reference=event["reference"],
            )
        except DuplicatePayment:
            payment = selectors.payment_list().get(source=PaymentSource.PROVIDER, external_id=external_id)
            return Response(PaymentSerializer(payment).data)
        return Response(PaymentSerializer(payment).data, status=status.HTTP_201_CREATED)
