"""Inventory API for partner systems: the catalogue, availability and price quotes (read), stock receipts
and adjustments (write). Each handler parses with an input serializer, calls one service or selector with
the caller as actor, and renders with an output serializer; errors become problem+json."""

from django.db.models import QuerySet
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.selectors import shipping_country
from inventory import selectors, services
from inventory.api.filters import AvailabilityFilter, ProductFilter
from inventory.api.serializers import (
    PriceQuoteQuerySerializer,
    PriceQuoteSerializer,
    ProductSerializer,
    StockAdjustmentSerializer,
    StockChangeSerializer,
    StockLevelSerializer,
    StockReceiptSerializer,
)
from inventory.models import Product, StockLevel
from otc.api.idempotency import idempotent
from otc.api.pagination import NewestFirstCursorPagination
from otc.api.schema import IDEMPOTENCY_KEY, problems
from otc.api.serializers import parse

INVENTORY_READ = {"read": "inventory:read"}
INVENTORY_WRITE = {"write": "inventory:write"}


class BySkuCursorPagination(NewestFirstCursorPagination):
    ordering = "sku"


def product_or_404(sku_or_id: str) -> Product:
    """By SKU; an all-digit value that is no SKU is tried as the id."""
    products = selectors.product_list()
    product = products.filter(sku=sku_or_id).first()
    if product is None and sku_or_id.isdigit():
        product = products.filter(pk=int(sku_or_id)).first()
    if product is None:
        raise NotFound(f"No product with SKU or id {sku_or_id}.")
    return product


class ProductViewSet(viewsets.GenericViewSet):
    """The catalogue: list and read products."""

    scopes = INVENTORY_READ
    staff_permissions = {"read": "inventory.view_product"}
    filterset_class = ProductFilter
    search_fields = ["sku", "name", "gtin"]
    pagination_class = BySkuCursorPagination
    lookup_field = "sku"
    lookup_value_regex = "[^/]+"

    def get_queryset(self) -> QuerySet[Product]:
        return selectors.product_list()

    @extend_schema(responses={200: ProductSerializer(many=True), **problems(401, 403, 422)})
    def list(self, request: Request) -> Response:
        """Products by SKU, one cursor page at a time; filter by kind, active flag or tax category code, or
        `search` by SKU, name or GTIN."""
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(ProductSerializer(page, many=True).data)

    @extend_schema(responses={200: ProductSerializer, **problems(401, 403, 404)})
    def retrieve(self, request: Request, sku: str) -> Response:
        """One product by SKU (or by id)."""
        return Response(ProductSerializer(product_or_404(sku)).data)


class AvailabilityViewSet(viewsets.GenericViewSet):
    """Stock per product and warehouse: on hand, reserved for orders, available."""

    scopes = INVENTORY_READ
    staff_permissions = {"read": "inventory.view_stocklevel"}
    filter_backends = [DjangoFilterBackend]
    filterset_class = AvailabilityFilter

    def get_queryset(self) -> QuerySet[StockLevel]:
        return selectors.availability()

    @extend_schema(responses={200: StockLevelSerializer(many=True), **problems(401, 403, 422)})
    def list(self, request: Request) -> Response:
        """Stock levels, one cursor page at a time; filter by `product` (SKUs, comma-separated) and `warehouse`."""
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(StockLevelSerializer(page, many=True).data)


class PriceQuoteView(APIView):
    """The price of a product for a customer, quantity, date and currency, with the rule behind it and the tax."""

    scopes = INVENTORY_READ
    staff_permissions = {"read": "inventory.view_pricelist"}

    @extend_schema(
        parameters=[PriceQuoteQuerySerializer],
        responses={200: PriceQuoteSerializer, **problems(401, 403, 422)},
        description=(
            "No price for this customer, currency and date is a 422 `no_price`; no tax rate for the destination a "
            "422 `no_tax_rate`. An unknown customer or product is a 422 naming the parameter."
        ),
    )
    def get(self, request: Request) -> Response:
        query = PriceQuoteQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        customer, product, quantity = (query.validated_data[name] for name in ("customer", "product", "quantity"))
        on_date = query.validated_data.get("date") or timezone.localdate()
        price = selectors.quote_price(
            customer=customer,
            product=product,
            quantity=quantity,
            on_date=on_date,
            currency=query.validated_data.get("currency"),
        )
        destination = query.validated_data.get("country") or shipping_country(customer)
        tax = selectors.quote_taxes(customer=customer, products=[product], destination=destination, on_date=on_date)[
            product.pk
        ]
        quote = {
            "customer": customer.pk,
            "product": product.sku,
            "quantity": quantity,
            "date": on_date,
            "currency": price.currency,
            "unit_price": price.unit_price,
            "discount_percent": price.discount_percent,
            "rule": price.rule,
            "tax": {
                "country": destination,
                "rate": tax.rate,
                "category": tax.category,
                "reverse_charge": tax.reverse_charge,
                "note": tax.note,
            },
        }
        return Response(PriceQuoteSerializer(quote).data)


class StockReceiptViewSet(viewsets.GenericViewSet):
    """Goods received into a warehouse."""

    scopes = INVENTORY_WRITE
    staff_permissions = {"write": "inventory.add_stockmove"}

    @extend_schema(
        request=StockReceiptSerializer,
        responses={201: StockChangeSerializer, **problems(401, 403, 422)},
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def create(self, request: Request) -> Response:
        """Receive stock: on hand goes up. Answers with the resulting level."""
        data = parse(StockReceiptSerializer, request)
        level = services.receive_stock(actor=request.user, **data)
        return _level_response(level, data)


class StockAdjustmentViewSet(viewsets.GenericViewSet):
    """Count corrections, breakage, shrinkage: always with a reason."""

    scopes = INVENTORY_WRITE
    staff_permissions = {"write": "inventory.add_stockmove"}

    @extend_schema(
        request=StockAdjustmentSerializer,
        responses={201: StockChangeSerializer, **problems(401, 403, 409, 422)},
        parameters=[IDEMPOTENCY_KEY],
        description="Stock reserved for orders cannot be taken: that is a 409 `insufficient_stock`.",
    )
    @idempotent
    def create(self, request: Request) -> Response:
        """Adjust stock on hand by `quantity_delta`. Answers with the resulting level."""
        data = parse(StockAdjustmentSerializer, request)
        level = services.adjust_stock(actor=request.user, **data)
        return _level_response(level, data)


def _level_response(level: StockLevel, data: dict) -> Response:
    """The level as the service's conditional update left it (not re-read: later changes are not ours)."""
    level.product, level.warehouse = data["product"], data["warehouse"]
    return Response(StockChangeSerializer(level).data, status=status.HTTP_201_CREATED)
