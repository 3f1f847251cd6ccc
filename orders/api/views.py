"""Orders API for partner systems: enter, confirm, cancel and read orders; ship, deliver and take goods
back; read an order's timeline. Each handler parses with an input serializer, calls services with the
caller as actor, and renders through the selectors; errors become problem+json."""

from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.http import FileResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.generics import get_object_or_404
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from customers.api.views import customer_or_404
from customers.models import Customer
from inventory.errors import NoPrice
from orders import documents, selectors, services
from orders.api.filters import OrderFilter
from orders.api.serializers import (
    ApproveReturnRequestSerializer,
    CancelSerializer,
    ExposureSerializer,
    OrderCreateSerializer,
    OrderDetailSerializer,
    OrderSerializer,
    OrderTimelineEntrySerializer,
    OrderUpdateSerializer,
    RefuseReturnRequestSerializer,
    RejectSerializer,
    ReleaseSerializer,
    ReturnCreateSerializer,
    ReturnRequestCreateSerializer,
    ReturnRequestSerializer,
    ReturnSerializer,
    ShipmentCreateSerializer,
    ShipmentSerializer,
)
from orders.models import Order, OrderLine, ReturnOrder, ReturnRequest, Shipment
from otc.api.idempotency import idempotent
from otc.api.renderers import PdfRenderer
from otc.api.schema import IDEMPOTENCY_KEY, PDF, problems
from otc.api.serializers import EmptySerializer, parse
from otc.documents import download

ORDER_SCOPES = {"read": "orders:read", "write": "orders:write"}
SHIPMENT_SCOPES = {"read": "orders:read", "write": "shipments:write"}


def order_or_404(number: str) -> Order:
    return get_object_or_404(selectors.order_list(), number=number)


def order_detail_or_404(number: str) -> Order:
    pk = selectors.order_list().filter(number=number).values_list("pk", flat=True).first()
    if pk is None:
        raise NotFound(f"No order {number}.")
    return selectors.order_detail(pk=pk)


def _lines_by_number(order: Order, given: list[dict]) -> list[tuple[OrderLine, dict]]:
    """Match each given {line_no, ...} to the order's line; an unknown number is a 422 naming it."""
    lines = {line.line_no: line for line in order.lines.all()}
    errors = {
        index: {"line_no": [f"Order {order.number} has no line {item['line_no']}."]}
        for index, item in enumerate(given)
        if item["line_no"] not in lines
    }
    if errors:
        raise serializers.ValidationError({"lines": errors})
    return [(lines[item["line_no"]], item) for item in given]


class OrderViewSet(viewsets.GenericViewSet):
    """Sales orders: enter (and confirm), list, read, confirm, cancel; credit control releases or rejects."""

    scopes = ORDER_SCOPES
    staff_permissions = {
        "read": "orders.view_order",
        "write": "orders.change_order",
        "create": "orders.add_order",
        "release_credit_hold": "orders.release_credit_hold",
        "reject": "orders.release_credit_hold",
    }
    filterset_class = OrderFilter
    search_fields = ["number", "po_number"]
    search_spec = selectors.ORDER_SEARCH
    lookup_field = "number"
    lookup_value_regex = "[^/]+"

    def get_queryset(self) -> QuerySet[Order]:
        return selectors.order_list().prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.select_related("product"))
        )

    def _detail(self, order: Order, *, status_code: int = status.HTTP_200_OK) -> Response:
        order = selectors.order_detail(pk=order.pk)
        return Response(OrderDetailSerializer(order, context={"request": self.request}).data, status=status_code)

    @extend_schema(responses={200: OrderSerializer(many=True), **problems(401, 403, 422)})
    def list(self, request: Request) -> Response:
        """Orders, newest first, one cursor page at a time, with their lines; filter by status, customer,
        `order_date_after`/`order_date_before` or PO number, or `search` by order or PO number."""
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(OrderSerializer(page, many=True, context={"request": request}).data)

    @extend_schema(
        request=OrderCreateSerializer,
        responses={201: OrderDetailSerializer, **problems(401, 403, 409, 422)},
        parameters=[IDEMPOTENCY_KEY],
        description=(
            "Entering and confirming happen in one transaction: if confirmation fails (e.g. 409 "
            "`insufficient_stock` when short stock is refused), no order is written. Over the credit limit the "
            "order is created `on_credit_hold` (201). Unknown products or customers, quantities that are not "
            "positive numbers and currencies without a price are a 422 naming the field."
        ),
    )
    @idempotent
    def create(self, request: Request) -> Response:
        """Enter an order, priced and taxed line by line, and (unless `confirm` is false) confirm it."""
        data = parse(OrderCreateSerializer, request)
        confirm = data.pop("confirm")
        lines = [
            services.LineInput(line["product"], line["quantity"], line["discount_percent"])
            for line in data.pop("lines")
        ]
        try:
            with transaction.atomic():
                order = services.create_order(actor=request.user, lines=lines, **data)
                if confirm:
                    order = services.confirm_order(order=order, actor=request.user)
        except NoPrice as error:
            if "currency" not in data:
                raise
            currency_errors = error.fields.get("product", [error.message])
            raise NoPrice(error.message, fields={**error.fields, "currency": currency_errors}) from error
        return self._detail(order, status_code=status.HTTP_201_CREATED)

    @extend_schema(responses={200: OrderDetailSerializer, **problems(401, 403, 404)})
    def retrieve(self, request: Request, number: str) -> Response:
        """The order with its lines and shipments."""
        return Response(OrderDetailSerializer(order_detail_or_404(number), context={"request": request}).data)

    @extend_schema(
        request=OrderUpdateSerializer,
        responses={200: OrderDetailSerializer, **problems(401, 403, 404, 409, 422)},
        description=(
            "Only a draft can be changed (`confirm: false` at entry); any other order is a 409 "
            "`order_not_editable` and stays as it was. A new or changed price set by hand needs the acting "
            "user's orders.override_price permission (else 403 `price_override_not_allowed`) and an "
            "`override_reason` (else 422); the line's `price_rule` records who, why and the list price."
        ),
    )
    def partial_update(self, request: Request, number: str) -> Response:
        """Change a draft: its lines, quantities, discounts, prices set by hand, PO number or notes. It is
        priced and taxed again as entry prices it, in one transaction, audited with the reason."""
        data = parse(OrderUpdateSerializer, request)
        lines = data.pop("lines", None)
        order = services.update_draft_order(
            order=order_or_404(number),
            actor=request.user,
            lines=None if lines is None else [services.DraftLineInput(**line) for line in lines],
            **data,
        )
        return self._detail(order)

    @extend_schema(request=EmptySerializer, responses={200: OrderDetailSerializer, **problems(401, 403, 404, 409, 422)})
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, number: str) -> Response:
        """Credit-check a draft: it is confirmed with stock reserved, or put on credit hold. Not a draft: 409."""
        parse(EmptySerializer, request)
        order = services.confirm_order(order=order_or_404(number), actor=request.user)
        return self._detail(order)

    @extend_schema(
        request=CancelSerializer, responses={200: OrderDetailSerializer, **problems(401, 403, 404, 409, 422)}
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, number: str) -> Response:
        """Cancel an order not yet shipped; its reservations are released. Shipped or cancelled: 409."""
        data = parse(CancelSerializer, request)
        order = services.cancel_order(order=order_or_404(number), actor=request.user, reason=data["reason"])
        return self._detail(order)

    @extend_schema(
        request=ReleaseSerializer, responses={200: OrderDetailSerializer, **problems(401, 403, 404, 409, 422)}
    )
    @action(detail=True, methods=["post"], url_path="release-credit-hold")
    def release_credit_hold(self, request: Request, number: str) -> Response:
        """Credit control lets a held order through, saying why. The acting user needs the
        orders.release_credit_hold permission (for an API key: the user it acts as), else 403."""
        data = parse(ReleaseSerializer, request)
        order = services.release_credit_hold(order=order_or_404(number), actor=request.user, reason=data["reason"])
        return self._detail(order)

    @extend_schema(
        request=RejectSerializer, responses={200: OrderDetailSerializer, **problems(401, 403, 404, 409, 422)}
    )
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, number: str) -> Response:
        """Credit control refuses a held order: it is cancelled with the reason. Needs the
        orders.release_credit_hold permission, else 403."""
        data = parse(RejectSerializer, request)
        order = services.reject_order(order=order_or_404(number), actor=request.user, reason=data["reason"])
        return self._detail(order)

    @extend_schema(responses={**PDF, **problems(401, 403, 404, 409)})
    @action(detail=True, methods=["get"], url_path="confirmation", renderer_classes=[PdfRenderer, JSONRenderer])
    def confirmation(self, request: Request, number: str) -> FileResponse:
        """The order confirmation as PDF, in the customer's language, rendered once and served as stored
        (the file the confirmation email carried). A draft or an order on credit hold has none: 409."""
        return download(documents.confirmation_document(order=order_or_404(number)))

    @extend_schema(responses={200: OrderTimelineEntrySerializer(many=True), **problems(401, 403, 404)})
    @action(detail=True, methods=["get"], pagination_class=None)
    def timeline(self, request: Request, number: str) -> Response:
        """What happened to the order, oldest first: created, confirmed, held, shipped (with tracking), ..."""
        entries = selectors.order_timeline(order=order_or_404(number))
        return Response(OrderTimelineEntrySerializer(entries, many=True).data)


class OrderShipmentsViewSet(viewsets.GenericViewSet):
    """An order's shipments: list and dispatch."""

    scopes = SHIPMENT_SCOPES
    staff_permissions = {"read": "orders.view_shipment", "write": "orders.add_shipment"}
    queryset = Shipment.objects.all()
    filter_backends = []
    pagination_class = None

    @extend_schema(responses={200: ShipmentSerializer(many=True), **problems(401, 403, 404)})
    def list(self, request: Request, number: str) -> Response:
        """The order's shipments, newest first."""
        order = order_detail_or_404(number)
        return Response(ShipmentSerializer(order.shipments.all(), many=True).data)

    @extend_schema(
        request=ShipmentCreateSerializer,
        responses={201: ShipmentSerializer, **problems(401, 403, 404, 409, 422)},
        parameters=[IDEMPOTENCY_KEY],
        description=(
            "Ship `lines` ({line_no, quantity}) or, without them, everything reserved. More than a stocked line "
            "has reserved (or a service line has open) is a 409 `over_shipment`; an order that cannot ship "
            "(draft, on hold, cancelled, shipped) a 409 `illegal_order_transition`."
        ),
    )
    @idempotent
    def create(self, request: Request, number: str) -> Response:
        """Dispatch a shipment: reserved stock leaves the warehouse and the order becomes (partially) shipped."""
        data = parse(ShipmentCreateSerializer, request)
        order = order_or_404(number)
        quantities = None
        if "lines" in data:
            quantities = {line.pk: item["quantity"] for line, item in _lines_by_number(order, data["lines"])}
        shipment = services.dispatch_shipment(
            order=order,
            actor=request.user,
            quantities=quantities,
            carrier=data["carrier"],
            tracking_number=data["tracking_number"],
            tracking_url=data["tracking_url"],
        )
        return Response(ShipmentSerializer(_shipment(shipment.number)).data, status=status.HTTP_201_CREATED)


def _shipment(number: str) -> Shipment:
    return get_object_or_404(selectors.shipment_list(), number=number)


class ShipmentViewSet(viewsets.GenericViewSet):
    """One shipment: read it, confirm its delivery."""

    scopes = SHIPMENT_SCOPES
    staff_permissions = {"read": "orders.view_shipment", "write": "orders.change_shipment"}
    queryset = Shipment.objects.all()
    lookup_field = "number"
    lookup_value_regex = "[^/]+"

    @extend_schema(responses={200: ShipmentSerializer, **problems(401, 403, 404)})
    def retrieve(self, request: Request, number: str) -> Response:
        return Response(ShipmentSerializer(_shipment(number)).data)

    @extend_schema(responses={**PDF, **problems(401, 403, 404)})
    @action(detail=True, methods=["get"], url_path="delivery-note", renderer_classes=[PdfRenderer, JSONRenderer])
    def delivery_note(self, request: Request, number: str) -> FileResponse:
        """The shipment's delivery note as PDF (goods and quantities, no prices), in the customer's
        language, rendered once and served as stored (the file the dispatch email carried)."""
        return download(documents.delivery_note_document(shipment=_shipment(number)))

    @extend_schema(request=EmptySerializer, responses={200: ShipmentSerializer, **problems(401, 403, 404, 409, 422)})
    @action(detail=True, methods=["post"])
    def deliver(self, request: Request, number: str) -> Response:
        """The carrier delivered; when all its shipments are delivered, a shipped order is completed."""
        parse(EmptySerializer, request)
        services.mark_delivered(shipment=_shipment(number), actor=request.user)
        return Response(ShipmentSerializer(_shipment(number)).data)


class OrderReturnsViewSet(viewsets.GenericViewSet):
    """Goods coming back on an order (RMA): list and register."""

    scopes = ORDER_SCOPES
    staff_permissions = {"read": "orders.view_returnorder", "write": "orders.add_returnorder"}
    queryset = ReturnOrder.objects.all()
    filter_backends = []
    pagination_class = None

    def _returns(self, order: Order) -> QuerySet[ReturnOrder]:
        return order.returns.select_related("order").prefetch_related("lines__order_line__product")

    @extend_schema(responses={200: ReturnSerializer(many=True), **problems(401, 403, 404)})
    def list(self, request: Request, number: str) -> Response:
        """The order's returns, newest first."""
        return Response(ReturnSerializer(self._returns(order_or_404(number)), many=True).data)

    @extend_schema(
        request=ReturnCreateSerializer,
        responses={201: ReturnSerializer, **problems(401, 403, 404, 409, 422)},
        parameters=[IDEMPOTENCY_KEY],
        description="Resellable goods go back on hand. More than was shipped and not yet returned: 409 `over_return`.",
    )
    @idempotent
    def create(self, request: Request, number: str) -> Response:
        """Register returned goods with a reason and, per line, quantity and condition."""
        data = parse(ReturnCreateSerializer, request)
        order = order_or_404(number)
        lines = [(line, item["quantity"], item["condition"]) for line, item in _lines_by_number(order, data["lines"])]
        return_order = services.register_return(order=order, actor=request.user, reason=data["reason"], lines=lines)
        created = self._returns(order).get(pk=return_order.pk)
        return Response(ReturnSerializer(created).data, status=status.HTTP_201_CREATED)


class OrderReturnRequestsViewSet(viewsets.GenericViewSet):
    """What a customer asks to send back on an order, filed by a partner system (the portal files its
    own): list and request. Sales approve or refuse through /return-requests/."""

    scopes = ORDER_SCOPES
    staff_permissions = {"read": "orders.view_returnrequest", "write": "orders.add_returnrequest"}
    queryset = ReturnRequest.objects.all()
    filter_backends = []
    pagination_class = None

    @extend_schema(responses={200: ReturnRequestSerializer(many=True), **problems(401, 403, 404)})
    def list(self, request: Request, number: str) -> Response:
        """The order's return requests, newest first."""
        order = order_or_404(number)
        requests = selectors.return_request_list().filter(order=order).order_by("-pk")
        return Response(ReturnRequestSerializer(requests, many=True).data)

    @extend_schema(
        request=ReturnRequestCreateSerializer,
        responses={201: ReturnRequestSerializer, **problems(401, 403, 404, 409, 422)},
        parameters=[IDEMPOTENCY_KEY],
        description=(
            "Per line up to what was delivered and is neither returned nor in an open request; more is a 409 "
            "`over_return_request`. Reason `other` needs a description."
        ),
    )
    @idempotent
    def create(self, request: Request, number: str) -> Response:
        """Ask to return delivered goods; nothing moves until sales approve."""
        data = parse(ReturnRequestCreateSerializer, request)
        order = order_or_404(number)
        lines = [(line, item["quantity"]) for line, item in _lines_by_number(order, data["lines"])]
        return_request = services.request_return(
            order=order, actor=request.user, reason=data["reason"], description=data["description"], lines=lines
        )
        created = selectors.return_request_list().get(pk=return_request.pk)
        return Response(ReturnRequestSerializer(created).data, status=status.HTTP_201_CREATED)


class ReturnRequestViewSet(viewsets.GenericViewSet):
    """One return request: read it, approve it (the return is registered, the credit note follows) or
    refuse it with a reason."""

    scopes = ORDER_SCOPES
    staff_permissions = {
        "read": "orders.view_returnrequest",
        "write": "orders.decide_returnrequest",
    }
    queryset = ReturnRequest.objects.all()
    lookup_field = "number"
    lookup_value_regex = "[^/]+"

    def _request(self, number: str) -> ReturnRequest:
        return get_object_or_404(selectors.return_request_list(), number=number)

    @extend_schema(responses={200: ReturnRequestSerializer, **problems(401, 403, 404)})
    def retrieve(self, request: Request, number: str) -> Response:
        return Response(ReturnRequestSerializer(self._request(number)).data)

    @extend_schema(
        request=ApproveReturnRequestSerializer,
        responses={200: ReturnRequestSerializer, **problems(401, 403, 404, 409, 422)},
        description="Needs the `orders.decide_returnrequest` permission of the key's user; decided already: 409.",
    )
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, number: str) -> Response:
        """Approve: the goods are registered as returned in the given condition."""
        data = parse(ApproveReturnRequestSerializer, request)
        services.approve_return_request(
            return_request=self._request(number), actor=request.user, condition=data["condition"]
        )
        return Response(ReturnRequestSerializer(self._request(number)).data)

    @extend_schema(
        request=RefuseReturnRequestSerializer,
        responses={200: ReturnRequestSerializer, **problems(401, 403, 404, 409, 422)},
        description="Needs the `orders.decide_returnrequest` permission of the key's user; decided already: 409.",
    )
    @action(detail=True, methods=["post"])
    def refuse(self, request: Request, number: str) -> Response:
        """Refuse with a reason the customer reads."""
        data = parse(RefuseReturnRequestSerializer, request)
        services.refuse_return_request(return_request=self._request(number), actor=request.user, reason=data["reason"])
        return Response(ReturnRequestSerializer(self._request(number)).data)


class CustomerExposureViewSet(viewsets.GenericViewSet):
    """A customer's exposure: open orders and open receivables against the credit limit."""

    scopes = {"read": "customers:read"}
    staff_permissions = {"read": "customers.view_customer"}
    queryset = Customer.objects.all()

    @extend_schema(responses={200: ExposureSerializer, **problems(401, 403, 404)})
    def retrieve(self, request: Request, pk: int) -> Response:
        """Open orders and open receivables against the credit limit, in the credit currency."""
        return Response(ExposureSerializer(selectors.customer_exposure(customer=customer_or_404(pk))).data)
