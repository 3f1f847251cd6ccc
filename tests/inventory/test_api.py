from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from inventory import services
from inventory.models import CustomerPrice, PriceList, PriceListItem, StockLevel, StockMove, TaxCategory, Warehouse
from inventory.services import StockRequest
from tests.factories import CustomerFactory, StaffFactory, make_catalogue, make_product

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"
AVAILABILITY = "/api/v1/availability/"
PRICES = "/api/v1/prices/"
RECEIPTS = "/api/v1/stock-receipts/"
ADJUSTMENTS = "/api/v1/stock-adjustments/"
GTIN = "4006381333931"


@pytest.fixture
def warehouse(clerk):
    return make_catalogue(actor=clerk)[1]


@pytest.fixture
def widget(clerk, warehouse):
    return make_product(actor=clerk, sku="WIDGET", price="10.00", stock="100", breaks={"10": "9.00"})


@pytest.fixture
def reader(api_client_for):
    return api_client_for("inventory:read")


@pytest.fixture
def stock_keeper(api_client_for):
    return api_client_for("inventory:read", "inventory:write")


def level(product, warehouse) -> tuple[Decimal, Decimal]:
    stock = StockLevel.objects.get(product=product, warehouse=warehouse)
    return stock.on_hand, stock.reserved


def skus(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [row["sku"] for row in response.json()["results"]]


# Products


def test_products_are_listed_by_sku_filtered_and_searched(reader, clerk, widget):
    reduced = TaxCategory.objects.create(code="reduced", name="Reduced rate")
    manual = make_product(actor=clerk, sku="MANUAL", price="19.99", tax_category=reduced)
    setup = make_product(actor=clerk, sku="SETUP", price="80.00", kind="service")
    services.update_product(product=widget, actor=clerk, data={"gtin": GTIN})
    services.update_product(product=setup, actor=clerk, data={"is_active": False})

    assert skus(reader.get(PRODUCTS)) == ["MANUAL", "SETUP", "WIDGET"]
    assert skus(reader.get(PRODUCTS, {"kind": "service"})) == ["SETUP"]
    assert skus(reader.get(PRODUCTS, {"is_active": "true"})) == ["MANUAL", "WIDGET"]
    assert skus(reader.get(PRODUCTS, {"tax_category": "reduced"})) == ["MANUAL"]
    assert skus(reader.get(PRODUCTS, {"search": "widg"})) == ["WIDGET"]
    assert skus(reader.get(PRODUCTS, {"search": GTIN[:8]})) == ["WIDGET"]
    assert skus(reader.get(PRODUCTS, {"search": "product man"})) == ["MANUAL"]
    assert manual.tax_category == reduced


def test_a_product_is_read_by_sku_or_by_id(reader, widget):
    by_sku = reader.get(f"{PRODUCTS}WIDGET/")
    by_id = reader.get(f"{PRODUCTS}{widget.pk}/")
    missing = reader.get(f"{PRODUCTS}NOPE/")

    assert by_sku.status_code == by_id.status_code == 200
    assert by_sku.json() == by_id.json()
    body = by_sku.json()
    assert {key: body[key] for key in ("id", "sku", "name", "unit", "kind", "tax_category", "gtin", "is_active")} == {
        "id": widget.pk,
        "sku": "WIDGET",
        "name": "Product WIDGET",
        "unit": "pc",
        "kind": "stocked",
        "tax_category": "standard",
        "gtin": "",
        "is_active": True,
    }
    assert missing.status_code == 404
    assert missing["Content-Type"] == "application/problem+json"
    assert missing.json()["code"] == "not_found"


def test_an_invalid_product_filter_is_a_422_naming_it(reader, widget):
    response = reader.get(PRODUCTS, {"kind": "gadget"})

    assert response.status_code == 422
    assert "kind" in response.json()["errors"]


def _queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_product_and_availability_lists_cost_constant_queries(reader, clerk, warehouse):
    make_product(actor=clerk, sku="P-00", price="1.00", stock="5")
    reader.get(PRODUCTS)  # the key's last_used_at is written on first use only
    few = (_queries_for(reader, PRODUCTS), _queries_for(reader, AVAILABILITY))

    for n in range(1, 25):
        make_product(actor=clerk, sku=f"P-{n:02d}", price="1.00", stock="5")

    assert len(reader.get(PRODUCTS).json()["results"]) == 25
    assert len(reader.get(AVAILABILITY).json()["results"]) == 25
    assert (_queries_for(reader, PRODUCTS), _queries_for(reader, AVAILABILITY)) == few
    assert few == (2, 2)  # key look-up, one page


# Availability


def test_availability_per_product_and_warehouse_with_filters(reader, clerk, widget, warehouse):
    bolt = make_product(actor=clerk, sku="BOLT", price="0.50", stock="40")
    outlet = Warehouse.objects.create(code="outlet", name="Outlet", country="DE")
    services.receive_stock(product=widget, warehouse=outlet, quantity=Decimal("7.5"), actor=clerk)
    services.reserve_stock(
        requests=[StockRequest(widget.pk, warehouse.pk, Decimal("30"), "order:test")], actor=clerk, allow_partial=False
    )

    def rows(**params) -> set[tuple]:
        response = reader.get(AVAILABILITY, params)
        assert response.status_code == 200, response.json()
        return {
            (row["product"], row["warehouse"], row["on_hand"], row["reserved"], row["available"])
            for row in response.json()["results"]
        }

    assert rows() == {
        ("WIDGET", "main", "100.000", "30.000", "70.000"),
        ("WIDGET", "outlet", "7.500", "0.000", "7.500"),
        ("BOLT", "main", "40.000", "0.000", "40.000"),
    }
    assert rows(product="WIDGET") == {
        ("WIDGET", "main", "100.000", "30.000", "70.000"),
        ("WIDGET", "outlet", "7.500", "0.000", "7.500"),
    }
    assert rows(product="WIDGET,BOLT", warehouse="main") == {
        ("WIDGET", "main", "100.000", "30.000", "70.000"),
        ("BOLT", "main", "40.000", "0.000", "40.000"),
    }
    assert rows(warehouse="outlet") == {("WIDGET", "outlet", "7.500", "0.000", "7.500")}
    assert bolt.sku == "BOLT"


# Prices


def test_the_price_quote_returns_the_quantity_break_price_its_rule_and_the_tax(reader, clerk, widget):
    customer = CustomerFactory(actor=clerk)

    single = reader.get(PRICES, {"customer": customer.pk, "product": "WIDGET", "quantity": "9", "date": "2026-03-01"})
    bulk = reader.get(PRICES, {"customer": customer.pk, "product": "WIDGET", "quantity": "10", "date": "2026-03-01"})

    assert single.status_code == bulk.status_code == 200, bulk.json()
    assert single.json()["unit_price"] == "10.0000"
    assert single.json()["rule"] == "price list 'List EUR'"
    assert bulk.json() == {
        "customer": customer.pk,
        "product": "WIDGET",
        "quantity": "10.000",
        "date": "2026-03-01",
        "currency": "EUR",
        "unit_price": "9.0000",
        "discount_percent": "0.00",
        "rule": "price list 'List EUR' from 10",
        "tax": {"country": "DE", "rate": "19.00", "category": "S", "reverse_charge": False, "note": ""},
    }


def test_the_price_quote_shows_a_customer_discount_and_the_tax_of_the_shipping_country(reader, clerk, widget):
    customer = CustomerFactory(
        actor=clerk,
        legal_name="Outillage Parisien SARL",
        country="FR",
        tax_id="FR40303265045",
        addresses=[{"kind": "shipping", "line1": "1 rue X", "postal_code": "75001", "city": "Paris", "country": "FR"}],
    )
    CustomerPrice.objects.create(
        customer=customer, product=widget, currency="EUR", discount_percent="5", valid_from=date(2020, 1, 1)
    )

    response = reader.get(PRICES, {"customer": customer.pk, "product": "WIDGET"})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["quantity"], body["unit_price"], body["discount_percent"]) == ("1.000", "10.0000", "5.00")
    assert body["rule"] == "price list 'List EUR', customer discount 5%"
    assert body["tax"]["country"] == "FR"
    assert (body["tax"]["reverse_charge"], body["tax"]["category"]) == (True, "K")
    assert body["tax"]["rate"] == "0.00"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"customer": None}, "customer"),
        ({"customer": 999999}, "customer"),
        ({"customer": "abc"}, "customer"),
        ({"product": None}, "product"),
        ({"product": "NOPE"}, "product"),
        ({"quantity": "0"}, "quantity"),
        ({"quantity": "-3"}, "quantity"),
        ({"quantity": "abc"}, "quantity"),
        ({"quantity": "1.0001"}, "quantity"),
        ({"date": "23.11.2026"}, "date"),
        ({"currency": "EUX"}, "currency"),
        ({"country": "XX"}, "country"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_price_parameters_are_a_422_naming_the_parameter(reader, clerk, widget, params, field):
    customer = CustomerFactory(actor=clerk)
    query = {"customer": customer.pk, "product": "WIDGET", "quantity": "2", **params}

    response = reader.get(PRICES, {name: value for name, value in query.items() if value is not None})

    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert field in response.json()["errors"], response.json()


def test_no_price_in_the_currency_is_a_422_no_price(reader, clerk, widget):
    customer = CustomerFactory(actor=clerk)

    response = reader.get(PRICES, {"customer": customer.pk, "product": "WIDGET", "currency": "USD"})

    assert response.status_code == 422
    assert response.json()["code"] == "no_price"
    assert "No USD price for WIDGET" in response.json()["detail"]


def test_a_usd_price_list_answers_in_usd(reader, clerk, widget):
    customer = CustomerFactory(actor=clerk)
    usd = PriceList.objects.create(name="List USD", currency="USD", valid_from=date(2020, 1, 1))
    PriceListItem.objects.create(price_list=usd, product=widget, unit_price="11.50")

    response = reader.get(PRICES, {"customer": customer.pk, "product": "WIDGET", "currency": "USD"})

    assert (response.json()["currency"], response.json()["unit_price"]) == ("USD", "11.5000")


# Stock receipts and adjustments


def test_a_stock_receipt_raises_on_hand_and_a_replay_receives_once(stock_keeper, widget, warehouse):
    body = {"product": "WIDGET", "warehouse": "main", "quantity": "25.5", "reference": "DN-4711"}

    first = stock_keeper.post(RECEIPTS, body, HTTP_IDEMPOTENCY_KEY="dn-4711")
    replay = stock_keeper.post(RECEIPTS, body, HTTP_IDEMPOTENCY_KEY="dn-4711")

    assert first.status_code == replay.status_code == 201, first.json()
    assert first.json() == {
        "product": "WIDGET",
        "warehouse": "main",
        "on_hand": "125.500",
        "reserved": "0.000",
        "available": "125.500",
    }
    assert replay.json() == first.json()
    assert replay["Idempotent-Replayed"] == "true"
    assert level(widget, warehouse) == (Decimal("125.5"), Decimal("0"))
    receipt = StockMove.objects.filter(kind="receipt", reference="DN-4711").get()
    assert receipt.actor_id == stock_keeper.api_key.user_id


def test_a_receipt_into_a_new_warehouse_creates_its_level(stock_keeper, widget):
    Warehouse.objects.create(code="outlet", name="Outlet", country="DE")

    response = stock_keeper.post(RECEIPTS, {"product": "WIDGET", "warehouse": "outlet", "quantity": "3"})

    assert response.status_code == 201
    assert response.json()["on_hand"] == "3.000"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"product": "NOPE"}, "product"),
        ({"product": "SETUP"}, "product"),  # a service holds no stock
        ({"warehouse": "nowhere"}, "warehouse"),
        ({"quantity": "0"}, "quantity"),
        ({"quantity": "-5"}, "quantity"),
        ({"quantity": "lots"}, "quantity"),
        ({"quantity": None}, "quantity"),
        ({"lot": "L1"}, "lot"),
    ],
)
def test_a_bad_receipt_names_the_field_and_moves_nothing(stock_keeper, clerk, widget, warehouse, overrides, field):
    make_product(actor=clerk, sku="SETUP", price="80.00", kind="service")
    moves = StockMove.objects.count()
    body = {"product": "WIDGET", "warehouse": "main", "quantity": "5", **overrides}

    response = stock_keeper.post(RECEIPTS, {name: value for name, value in body.items() if value is not None})

    assert response.status_code == 422
    assert field in response.json()["errors"], response.json()
    assert StockMove.objects.count() == moves
    assert level(widget, warehouse) == (Decimal("100"), Decimal("0"))


def test_an_adjustment_needs_a_reason_and_changes_on_hand(stock_keeper, widget, warehouse):
    without_reason = stock_keeper.post(ADJUSTMENTS, {"product": "WIDGET", "warehouse": "main", "quantity_delta": "-2"})
    blank_reason = stock_keeper.post(
        ADJUSTMENTS, {"product": "WIDGET", "warehouse": "main", "quantity_delta": "-2", "reason": " "}
    )
    zero = stock_keeper.post(
        ADJUSTMENTS, {"product": "WIDGET", "warehouse": "main", "quantity_delta": "0", "reason": "count"}
    )

    assert [r.status_code for r in (without_reason, blank_reason, zero)] == [422, 422, 422]
    assert "reason" in without_reason.json()["errors"]
    assert "reason" in blank_reason.json()["errors"]
    assert "quantity_delta" in zero.json()["errors"]
    assert not StockMove.objects.filter(kind="adjustment").exists()

    broken = stock_keeper.post(
        ADJUSTMENTS, {"product": "WIDGET", "warehouse": "main", "quantity_delta": "-2.5", "reason": "breakage"}
    )

    assert broken.status_code == 201, broken.json()
    assert broken.json()["on_hand"] == "97.500"
    assert level(widget, warehouse) == (Decimal("97.5"), Decimal("0"))
    move = StockMove.objects.get(kind="adjustment")
    assert (move.on_hand_delta, move.reason) == (Decimal("-2.5"), "breakage")


def test_an_adjustment_cannot_take_stock_reserved_for_orders(stock_keeper, clerk, widget, warehouse):
    services.reserve_stock(
        requests=[StockRequest(widget.pk, warehouse.pk, Decimal("90"), "order:test")], actor=clerk, allow_partial=False
    )
    body = {"product": "WIDGET", "warehouse": "main", "reason": "shrinkage"}

    refused = stock_keeper.post(ADJUSTMENTS, {**body, "quantity_delta": "-11"})

    assert refused.status_code == 409
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["code"] == "insufficient_stock"
    assert level(widget, warehouse) == (Decimal("100"), Decimal("90"))
    assert not StockMove.objects.filter(kind="adjustment").exists()

    allowed = stock_keeper.post(ADJUSTMENTS, {**body, "quantity_delta": "-10"})

    assert allowed.status_code == 201
    assert allowed.json()["available"] == "0.000"
    assert level(widget, warehouse) == (Decimal("90"), Decimal("90"))


# Scopes


def test_a_read_key_cannot_receive_or_adjust_stock(reader, widget, warehouse):
    receipt = reader.post(RECEIPTS, {"product": "WIDGET", "warehouse": "main", "quantity": "5"})
    adjustment = reader.post(
        ADJUSTMENTS, {"product": "WIDGET", "warehouse": "main", "quantity_delta": "-1", "reason": "x"}
    )

    assert receipt.status_code == adjustment.status_code == 403
    assert "inventory:write" in receipt.json()["detail"]
    assert level(widget, warehouse) == (Decimal("100"), Decimal("0"))


def test_a_key_without_inventory_read_cannot_see_products_or_prices(api_client_for, clerk, widget):
    customers_only = api_client_for("customers:read")
    customer = CustomerFactory(actor=clerk)

    assert customers_only.get(PRODUCTS).status_code == 403
    assert customers_only.get(AVAILABILITY).status_code == 403
    assert customers_only.get(PRICES, {"customer": customer.pk, "product": "WIDGET"}).status_code == 403


def test_a_staff_session_needs_the_stock_permission_to_receive(clerk, widget, warehouse):
    finance, admin = APIClient(), APIClient()
    finance.force_login(clerk)  # finance may view stock but not move it
    admin.force_login(StaffFactory(groups=["admin"]))
    body = {"product": "WIDGET", "warehouse": "main", "quantity": "1"}

    assert finance.get(AVAILABILITY).status_code == 200
    assert finance.post(RECEIPTS, body).status_code == 403
    assert admin.post(RECEIPTS, body).status_code == 201
    assert level(widget, warehouse) == (Decimal("101"), Decimal("0"))
