from datetime import date
from decimal import Decimal

import pytest
import yaml
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from customers import services as customer_services
from inventory.models import StockLevel, StockMove
from orders import services
from orders.models import Order, OrderLine, OrderStatus, OrderTimelineEntry, ReturnOrder, Shipment
from otc.models import IdempotencyRecord
from otc.services import create_api_key
from tests.factories import CustomerFactory, StaffFactory, make_product, qty

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders/"
SHIPMENTS = "/api/v1/shipments/"
LineInput = services.LineInput


@pytest.fixture
def partner(api_client_for):
    """A web shop: reads and writes orders, dispatches shipments."""
    return api_client_for("orders:read", "orders:write", "shipments:write")


def order_url(number: str, suffix: str = "") -> str:
    return f"{ORDERS}{number}/{suffix}"


def stock(product) -> tuple[Decimal, Decimal]:
    level = StockLevel.objects.get(product=product)
    return level.on_hand, level.reserved


def counts() -> tuple[int, int, int, int]:
    return Order.objects.count(), OrderLine.objects.count(), StockMove.objects.count(), Shipment.objects.count()


def new_order(customer, /, **overrides) -> dict:
    return {
        "customer": customer.pk,
        "po_number": "PO-778",
        "lines": [{"product": "WIDGET", "quantity": "12"}, {"product": "MANUAL", "quantity": "3"}],
        **overrides,
    }


def confirmed_order(clerk, customer, *lines: tuple) -> Order:
    order = services.create_order(actor=clerk, customer=customer, lines=[LineInput(p, qty(q)) for p, q in lines])
    return services.confirm_order(order=order, actor=clerk)


# Create, confirm, replay


def test_create_and_confirm_an_order_with_an_idempotency_key_and_replay_it(partner, customer, widget, manual):
    first = partner.post(ORDERS, new_order(customer), HTTP_IDEMPOTENCY_KEY="shop-order-1001")
    replay = partner.post(ORDERS, new_order(customer), HTTP_IDEMPOTENCY_KEY="shop-order-1001")

    assert first.status_code == replay.status_code == 201, first.json()
    assert replay.json() == first.json()
    assert replay["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    order = Order.objects.get()
    body = first.json()
    assert body["number"] == order.number
    assert body["status"] == "confirmed"
    assert body["customer"] == {"id": customer.pk, "number": customer.number, "legal_name": "Nordwind Handel GmbH"}
    # 12 × 9.00 (break) = 108.00 + 19% 20.52; 3 × 19.99 = 59.97 + 7% 4.20 (4.1979 half-up)
    assert (body["currency"], body["net_total"], body["tax_total"], body["gross_total"]) == (
        "EUR",
        "167.97",
        "24.72",
        "192.69",
    )
    assert (body["po_number"], body["warehouse"], body["hold_reason"]) == ("PO-778", "main", "")
    first_line, second_line = body["lines"]
    assert first_line == {
        "line_no": 1,
        "product": "WIDGET",
        "description": "Product WIDGET",
        "quantity": "12.000",
        "unit_price": "9.0000",
        "price_rule": "price list 'List EUR' from 10",
        "price_overridden": False,
        "discount_percent": "0.00",
        "tax_rate": "19.00",
        "reverse_charge": False,
        "tax_category": "S",
        "tax_note": "",
        "net_amount": "108.00",
        "tax_amount": "20.52",
        "quantity_reserved": "12.000",
        "quantity_shipped": "0.000",
        "quantity_backordered": "0.000",
        "quantity_returned": "0.000",
    }
    assert (second_line["product"], second_line["net_amount"], second_line["tax_amount"]) == ("MANUAL", "59.97", "4.20")
    assert body["shipping_address"]["city"] == "Hamburg"
    assert body["billing_address"] is None
    assert body["shipments"] == []
    assert body["links"]["self"] == f"http://testserver/api/v1/orders/{order.number}/"
    assert body["links"]["timeline"] == f"http://testserver/api/v1/orders/{order.number}/timeline/"
    assert (stock(widget), stock(manual)) == ((100, 12), (50, 3))
    assert OrderLine.objects.count() == 2
    assert StockMove.objects.filter(kind="reservation").count() == 2
    assert order.created_by_id == partner.api_key.user_id
    assert IdempotencyRecord.objects.get().response_status == 201


def test_the_same_key_with_a_different_body_is_a_422_and_writes_nothing(partner, customer, widget, manual):
    partner.post(ORDERS, new_order(customer), HTTP_IDEMPOTENCY_KEY="shop-order-1001")
    before = counts()

    response = partner.post(ORDERS, new_order(customer, po_number="PO-779"), HTTP_IDEMPOTENCY_KEY="shop-order-1001")

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert counts() == before
    assert Order.objects.get().po_number == "PO-778"


def test_an_order_can_be_entered_as_a_draft_and_confirmed_later(partner, customer, widget, manual):
    created = partner.post(ORDERS, new_order(customer, confirm=False, notes="call before delivery"))

    assert created.status_code == 201, created.json()
    assert created.json()["status"] == "draft"
    assert created.json()["lines"][0]["quantity_reserved"] == "0.000"
    assert created.json()["lines"][0]["quantity_backordered"] == "0.000"
    assert stock(widget) == (100, 0)

    confirmed = partner.post(order_url(created.json()["number"], "confirm/"))

    assert confirmed.status_code == 200, confirmed.json()
    assert confirmed.json()["status"] == "confirmed"
    assert confirmed.json()["notes"] == "call before delivery"
    assert stock(widget) == (100, 12)


def test_addresses_discounts_and_delivery_date_are_taken_from_the_request(partner, clerk, customer, widget):
    billing = customer_services.add_address(
        customer=customer,
        actor=clerk,
        data={"kind": "billing", "line1": "Kontorhaus 1", "postal_code": "20095", "city": "Hamburg", "country": "DE"},
    )
    depot = customer_services.add_address(
        customer=customer,
        actor=clerk,
        data={
            "kind": "shipping",
            "is_default": False,
            "name": "Lager Süd",
            "line1": "Industriestr. 5",
            "postal_code": "80331",
            "city": "München",
            "country": "DE",
        },
    )

    response = partner.post(
        ORDERS,
        {
            "customer": customer.pk,
            "currency": "EUR",
            "requested_delivery_date": "2026-12-15",
            "warehouse": "main",
            "shipping_address": depot.pk,
            "billing_address": billing.pk,
            "discount_percent": "2",
            "lines": [{"product": "WIDGET", "quantity": "12", "discount_percent": "5"}],
        },
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["shipping_address"]["name"] == "Lager Süd"
    assert body["shipping_address"]["city"] == "München"
    assert body["billing_address"]["line1"] == "Kontorhaus 1"
    assert body["requested_delivery_date"] == "2026-12-15"
    assert body["discount_percent"] == "2.00"
    assert body["lines"][0]["net_amount"] == "100.55"  # 12 × 9.00 −5% −2% = 100.548
    assert body["gross_total"] == "119.65"


# Bad input: a clear 422 and nothing written


@pytest.mark.parametrize(
    ("overrides", "path"),
    [
        ({"lines": [{"product": "NOPE", "quantity": "1"}]}, ["lines", "0", "product"]),
        (
            {"lines": [{"product": "WIDGET", "quantity": "1"}, {"product": "GHOST", "quantity": "1"}]},
            ["lines", "1", "product"],
        ),
        ({"customer": 999999}, ["customer"]),
        ({"customer": "ACME"}, ["customer"]),
        ({"lines": [{"product": "WIDGET", "quantity": "0"}]}, ["lines", "0", "quantity"]),
        ({"lines": [{"product": "WIDGET", "quantity": "-2"}]}, ["lines", "0", "quantity"]),
        ({"lines": [{"product": "WIDGET", "quantity": "abc"}]}, ["lines", "0", "quantity"]),
        ({"lines": [{"product": "WIDGET"}]}, ["lines", "0", "quantity"]),
        (
            {"lines": [{"product": "WIDGET", "quantity": "1", "discount_percent": "101"}]},
            ["lines", "0", "discount_percent"],
        ),
        ({"lines": []}, ["lines"]),
        ({"currency": "XYZ"}, ["currency"]),
        ({"currency": "USD"}, ["currency"]),  # a real currency without a price list
        ({"warehouse": "nowhere"}, ["warehouse"]),
        ({"discount_percent": "-1"}, ["discount_percent"]),
        ({"requested_delivery_date": "15.12.2026"}, ["requested_delivery_date"]),
        ({"shipping_address": 999999}, ["shipping_address"]),
        ({"priority": "high"}, ["priority"]),
        ({"lines": [{"product": "WIDGET", "quantity": "1", "price": "0.01"}]}, ["lines", "0", "price"]),
    ],
)
def test_bad_order_input_names_the_field_and_writes_nothing(partner, customer, widget, manual, overrides, path):
    before = counts()

    response = partner.post(ORDERS, new_order(customer, **overrides), HTTP_IDEMPOTENCY_KEY="bad-1")

    assert response.status_code == 422, response.json()
    assert response["Content-Type"] == "application/problem+json"
    node = response.json()["errors"]
    for step in path:
        node = node[step]
    assert node, response.json()
    assert counts() == before
    assert stock(widget) == (100, 0)
    assert not IdempotencyRecord.objects.exists()  # a failed request may be retried with its key


def test_no_price_in_the_currency_is_the_no_price_problem(partner, customer, widget):
    response = partner.post(ORDERS, new_order(customer, currency="USD", lines=[{"product": "WIDGET", "quantity": "1"}]))

    assert response.status_code == 422
    assert response.json()["code"] == "no_price"
    assert "No USD price for WIDGET" in response.json()["detail"]
    assert not Order.objects.exists()


def test_an_address_of_another_customer_is_refused(partner, clerk, customer, widget):
    other = CustomerFactory(
        actor=clerk,
        addresses=[
            {"kind": "shipping", "line1": "Elsewhere 1", "postal_code": "10115", "city": "Berlin", "country": "DE"}
        ],
    )

    response = partner.post(ORDERS, new_order(customer, shipping_address=other.addresses.get().pk, lines=[]))
    valid_lines = partner.post(
        ORDERS,
        new_order(customer, shipping_address=other.addresses.get().pk, lines=[{"product": "WIDGET", "quantity": "1"}]),
    )

    assert response.status_code == valid_lines.status_code == 422
    assert valid_lines.json()["errors"]["shipping_address"] == ["This address belongs to another customer."]
    assert not Order.objects.exists()


def test_an_inactive_product_or_a_missing_po_number_is_refused(partner, clerk, customer, widget):
    customer_services.update_preferences(customer=customer, actor=clerk, data={"po_number_required": True})

    without_po = partner.post(ORDERS, new_order(customer, po_number="", lines=[{"product": "WIDGET", "quantity": "1"}]))

    assert without_po.status_code == 422
    assert without_po.json()["code"] == "po_number_required"
    assert "po_number" in without_po.json()["errors"]
    assert not Order.objects.exists()


def test_short_stock_refused_by_policy_is_a_409_and_no_order_is_written(partner, customer, widget, manual, settings):
    settings.OTC_SHORT_STOCK_POLICY = "refuse"
    before = counts()

    response = partner.post(
        ORDERS,
        new_order(customer, lines=[{"product": "MANUAL", "quantity": "5"}, {"product": "WIDGET", "quantity": "101"}]),
        HTTP_IDEMPOTENCY_KEY="short-1",
    )

    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_stock"
    assert "WIDGET: 1 short" in response.json()["detail"]
    assert counts() == before
    assert (stock(widget), stock(manual)) == ((100, 0), (50, 0))


def test_short_stock_is_backordered_by_default(partner, customer, widget):
    response = partner.post(ORDERS, new_order(customer, lines=[{"product": "WIDGET", "quantity": "130"}]))

    assert response.status_code == 201
    line = response.json()["lines"][0]
    assert (line["quantity_reserved"], line["quantity_backordered"]) == ("100.000", "30.000")


# Scopes and permissions


def test_a_read_key_cannot_create_confirm_or_ship(api_client_for, clerk, customer, widget, manual):
    reader = api_client_for("orders:read")
    order = services.create_order(actor=clerk, customer=customer, lines=[LineInput(widget, qty("1"))])

    created = reader.post(ORDERS, new_order(customer))
    confirmed = reader.post(order_url(order.number, "confirm/"))
    shipped = api_client_for("orders:read", "orders:write").post(order_url(order.number, "shipments/"), {})

    assert created.status_code == confirmed.status_code == shipped.status_code == 403
    assert created.json()["code"] == "permission_denied"
    assert "orders:write" in created.json()["detail"]
    assert "shipments:write" in shipped.json()["detail"]
    assert reader.get(ORDERS).status_code == 200
    assert Order.objects.get().status == OrderStatus.DRAFT


def test_a_key_without_orders_read_cannot_list(api_client_for):
    assert api_client_for("inventory:read").get(ORDERS).status_code == 403


def test_releasing_a_credit_hold_needs_the_permission_of_the_keys_user(
    partner, clerk, customer, widget, credit_controller
):
    customer_services.place_credit_hold(customer=customer, actor=clerk, reason="cheque bounced")
    held = partner.post(ORDERS, new_order(customer, lines=[{"product": "WIDGET", "quantity": "5"}]))
    number = held.json()["number"]
    assert held.status_code == 201
    assert (held.json()["status"], held.json()["hold_reason"]) == ("on_credit_hold", "Customer is on credit hold.")
    assert held.json()["lines"][0]["quantity_backordered"] == "0.000"
    _, plaintext = create_api_key(
        name="credit desk", scopes=["orders:read", "orders:write"], actor=clerk, user=credit_controller
    )
    credit_desk = APIClient()
    credit_desk.credentials(HTTP_AUTHORIZATION=f"Api-Key {plaintext}")

    refused = partner.post(order_url(number, "release-credit-hold/"), {"reason": "prepaid"})

    assert refused.status_code == 403
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["code"] == "permission_denied"
    assert Order.objects.get().status == OrderStatus.ON_CREDIT_HOLD

    without_reason = credit_desk.post(order_url(number, "release-credit-hold/"))
    assert without_reason.status_code == 422
    assert Order.objects.get().status == OrderStatus.ON_CREDIT_HOLD

    released = credit_desk.post(order_url(number, "release-credit-hold/"), {"reason": "prepaid by wire"})

    assert released.status_code == 200, released.json()
    assert released.json()["status"] == "confirmed"
    assert stock(widget) == (100, 5)
    assert Order.objects.get().timeline.get(kind="released").detail.endswith(": prepaid by wire")
    again = credit_desk.post(order_url(number, "release-credit-hold/"), {"reason": "again"})
    assert again.status_code == 409
    assert again.json()["code"] == "illegal_order_transition"


def test_credit_control_rejects_a_held_order_with_a_reason(partner, clerk, customer, credit_controller):
    make_product(actor=clerk, sku="PRESS", price="9000.00", stock="5")
    held = partner.post(ORDERS, new_order(customer, lines=[{"product": "PRESS", "quantity": "1"}]))
    assert held.json()["hold_reason"] == "Over credit limit: exposure 0.00 + order 10710.00 > limit 10000.00 EUR."
    finance = APIClient()
    finance.force_login(credit_controller)
    url = order_url(held.json()["number"], "reject/")

    without_reason = finance.post(url, {})
    by_partner = partner.post(url, {"reason": "no"})
    rejected = finance.post(url, {"reason": "customer insolvent"})

    assert without_reason.status_code == 422
    assert "reason" in without_reason.json()["errors"]
    assert by_partner.status_code == 403
    assert rejected.status_code == 200
    assert rejected.json()["status"] == "cancelled"
    assert Order.objects.get().timeline.last().detail == "customer insolvent"


def test_staff_sessions_need_the_order_permissions(clerk, customer, widget):
    finance, service_desk = APIClient(), APIClient()
    finance.force_login(clerk)  # finance may change orders but not enter them
    service_desk.force_login(StaffFactory(groups=["service"]))
    sales = APIClient()
    sales.force_login(StaffFactory(groups=["sales"]))

    assert service_desk.get(ORDERS).status_code == 200
    assert finance.post(ORDERS, new_order(customer, lines=[{"product": "WIDGET", "quantity": "1"}])).status_code == 403
    created = sales.post(ORDERS, new_order(customer, lines=[{"product": "WIDGET", "quantity": "1"}]))
    assert created.status_code == 201
    assert service_desk.post(order_url(created.json()["number"], "cancel/")).status_code == 403
    assert finance.post(order_url(created.json()["number"], "cancel/")).status_code == 200


# Lists


def test_list_filters_by_status_customer_date_range_and_po_number(partner, clerk, customer, widget):
    other = CustomerFactory(actor=clerk)
    march = services.create_order(
        actor=clerk, customer=customer, po_number="PO-1", order_date=date(2026, 3, 2), lines=[LineInput(widget, 1)]
    )
    april = confirmed_order(clerk, customer, (widget, "1"))
    services.cancel_order(order=april, actor=clerk)
    elsewhere = services.create_order(
        actor=clerk, customer=other, po_number="PO-2", order_date=date(2026, 4, 20), lines=[LineInput(widget, 1)]
    )

    def numbers(**params) -> set[str]:
        response = partner.get(ORDERS, params)
        assert response.status_code == 200, response.json()
        return {row["number"] for row in response.json()["results"]}

    assert numbers() == {march.number, april.number, elsewhere.number}
    assert numbers(status="cancelled") == {april.number}
    assert numbers(customer=other.pk) == {elsewhere.number}
    assert numbers(order_date_after="2026-03-01", order_date_before="2026-04-30") == {march.number, elsewhere.number}
    assert numbers(order_date_before="2026-03-02") == {march.number}
    assert numbers(po_number="PO-2") == {elsewhere.number}
    assert numbers(search="po-1") == {march.number}
    assert numbers(search=april.number) == {april.number}
    assert partner.get(ORDERS, {"status": "lost"}).status_code == 422
    assert "customer" in partner.get(ORDERS, {"customer": 999999}).json()["errors"]


def _queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_order_list_costs_the_same_queries_for_3_and_25_orders(partner, clerk, customer, widget, manual):
    def add(count: int) -> None:
        for _ in range(count):
            confirmed_order(clerk, customer, (widget, "1"), (manual, "1"))

    add(3)
    partner.get(ORDERS)  # the key's last_used_at is written on first use only
    with_3 = _queries_for(partner, ORDERS)
    add(22)
    with_25 = _queries_for(partner, ORDERS)

    assert len(partner.get(ORDERS).json()["results"]) == 25
    assert with_3 == with_25
    assert with_25 <= 3  # key look-up, page of orders with customer and warehouse, their lines with products


def test_order_detail_costs_constant_queries(partner, clerk, customer, widget, manual):
    small = confirmed_order(clerk, customer, (widget, "2"))
    big = confirmed_order(clerk, customer, *[(widget, "1")] * 4, *[(manual, "1")] * 4)
    services.dispatch_shipment(order=small, actor=clerk)
    for line in big.lines.all()[:3]:
        services.dispatch_shipment(order=big, actor=clerk, quantities={line.pk: qty("1")})
    partner.get(ORDERS)

    assert _queries_for(partner, order_url(small.number)) == _queries_for(partner, order_url(big.number))


# Transitions


def test_confirming_twice_is_a_409(partner, customer, widget):
    created = partner.post(ORDERS, new_order(customer, lines=[{"product": "WIDGET", "quantity": "5"}]))

    again = partner.post(order_url(created.json()["number"], "confirm/"))

    assert again.status_code == 409
    assert again["Content-Type"] == "application/problem+json"
    assert again.json()["code"] == "illegal_order_transition"
    assert stock(widget) == (100, 5)


def test_cancelling_releases_stock_and_a_shipped_order_cannot_be_cancelled(partner, clerk, customer, widget):
    created = partner.post(ORDERS, new_order(customer, lines=[{"product": "WIDGET", "quantity": "40"}]))

    cancelled = partner.post(order_url(created.json()["number"], "cancel/"), {"reason": "customer changed mind"})

    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert stock(widget) == (100, 0)
    assert OrderTimelineEntry.objects.filter(kind="cancelled").get().detail == "customer changed mind"

    shipped = confirmed_order(clerk, customer, (widget, "1"))
    services.dispatch_shipment(order=shipped, actor=clerk)
    refused = partner.post(order_url(shipped.number, "cancel/"), {"reason": "too late"})

    assert refused.status_code == 409
    assert refused.json()["code"] == "illegal_order_transition"
    shipped.refresh_from_db()
    assert shipped.status == OrderStatus.SHIPPED
    assert stock(widget) == (99, 0)


def test_an_unknown_order_is_a_404(partner):
    assert partner.get(order_url("SO-2026-999999")).status_code == 404
    response = partner.post(order_url("SO-2026-999999", "confirm/"))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


# Shipments, delivery, timeline


def test_a_partial_shipment_then_the_rest_then_delivery(partner, clerk, customer, widget, manual):
    created = partner.post(
        ORDERS,
        new_order(customer, lines=[{"product": "WIDGET", "quantity": "10"}, {"product": "MANUAL", "quantity": "2"}]),
    )
    number = created.json()["number"]

    first = partner.post(
        order_url(number, "shipments/"),
        {
            "lines": [{"line_no": 1, "quantity": "4"}],
            "carrier": "DHL",
            "tracking_number": "JJD0001",
            "tracking_url": "https://track.example/JJD0001",
        },
        HTTP_IDEMPOTENCY_KEY="ship-1",
    )
    replay = partner.post(
        order_url(number, "shipments/"),
        {
            "lines": [{"line_no": 1, "quantity": "4"}],
            "carrier": "DHL",
            "tracking_number": "JJD0001",
            "tracking_url": "https://track.example/JJD0001",
        },
        HTTP_IDEMPOTENCY_KEY="ship-1",
    )

    assert first.status_code == 201, first.json()
    assert replay.json() == first.json()
    assert Shipment.objects.count() == 1
    assert first.json()["order"] == number
    assert first.json()["status"] == "dispatched"
    assert first.json()["lines"] == [{"line_no": 1, "quantity": "4.000"}]
    assert Order.objects.get().status == OrderStatus.PARTIALLY_SHIPPED
    assert (stock(widget), stock(manual)) == ((96, 6), (50, 2))
    detail = partner.get(order_url(number)).json()
    assert [(line["quantity_shipped"], line["quantity_reserved"]) for line in detail["lines"]] == [
        ("4.000", "6.000"),
        ("0.000", "2.000"),
    ]

    rest = partner.post(order_url(number, "shipments/"), {"carrier": "DHL", "tracking_number": "JJD0002"})

    assert rest.status_code == 201, rest.json()
    assert sorted((line["line_no"], line["quantity"]) for line in rest.json()["lines"]) == [
        (1, "6.000"),
        (2, "2.000"),
    ]
    assert Order.objects.get().status == OrderStatus.SHIPPED
    assert (stock(widget), stock(manual)) == ((90, 0), (48, 0))
    listed = partner.get(order_url(number, "shipments/")).json()
    assert {s["number"] for s in listed} == {first.json()["number"], rest.json()["number"]}

    delivered = partner.post(f"{SHIPMENTS}{first.json()['number']}/deliver/")
    assert delivered.status_code == 200
    assert delivered.json()["status"] == "delivered"
    assert Order.objects.get().status == OrderStatus.SHIPPED
    assert partner.post(f"{SHIPMENTS}{first.json()['number']}/deliver/").status_code == 409
    partner.post(f"{SHIPMENTS}{rest.json()['number']}/deliver/")
    assert Order.objects.get().status == OrderStatus.COMPLETED
    assert partner.get(f"{SHIPMENTS}{rest.json()['number']}/").json()["delivered_at"] is not None


def test_the_timeline_shows_the_tracking_link(partner, clerk, customer, widget):
    created = partner.post(ORDERS, new_order(customer, lines=[{"product": "WIDGET", "quantity": "3"}]))
    number = created.json()["number"]
    shipment = partner.post(
        order_url(number, "shipments/"),
        {"carrier": "UPS", "tracking_number": "1Z999", "tracking_url": "https://track.example/1Z999"},
    ).json()["number"]
    partner.post(f"{SHIPMENTS}{shipment}/deliver/")

    response = partner.get(order_url(number, "timeline/"))

    assert response.status_code == 200
    entries = response.json()
    assert [entry["kind"] for entry in entries] == ["created", "confirmed", "shipped", "delivered"]
    shipped = entries[2]
    assert shipped["detail"] == f"{shipment} UPS 1Z999"
    assert (shipped["shipment"], shipped["carrier"], shipped["tracking_number"], shipped["tracking_url"]) == (
        shipment,
        "UPS",
        "1Z999",
        "https://track.example/1Z999",
    )
    assert entries[0]["shipment"] is None
    assert entries[0]["tracking_url"] is None


def test_shipping_more_than_reserved_is_a_409_and_ships_nothing(partner, customer, widget):
    created = partner.post(ORDERS, new_order(customer, lines=[{"product": "WIDGET", "quantity": "120"}]))
    before = counts()

    response = partner.post(
        order_url(created.json()["number"], "shipments/"), {"lines": [{"line_no": 1, "quantity": "120"}]}
    )

    assert response.status_code == 409
    assert response.json()["code"] == "over_shipment"
    assert "120 asked, 100 reserved" in response.json()["detail"]
    assert counts() == before
    assert stock(widget) == (100, 100)


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"lines": [{"line_no": 7, "quantity": "1"}]}, ["lines", "0", "line_no"]),
        ({"lines": [{"line_no": 1, "quantity": "0"}]}, ["lines", "0", "quantity"]),
        ({"lines": [{"line_no": 1, "quantity": "1"}, {"line_no": 1, "quantity": "1"}]}, ["lines", "1", "line_no"]),
        ({"lines": []}, ["lines"]),
        ({"tracking_url": "not a url"}, ["tracking_url"]),
        ({"weight": "3kg"}, ["weight"]),
    ],
)
def test_bad_shipment_input_names_the_field_and_ships_nothing(partner, customer, widget, body, path):
    created = partner.post(ORDERS, new_order(customer, lines=[{"product": "WIDGET", "quantity": "5"}]))
    before = counts()

    response = partner.post(order_url(created.json()["number"], "shipments/"), body)

    assert response.status_code == 422, response.json()
    node = response.json()["errors"]
    for step in path:
        node = node[step]
    assert node
    assert counts() == before


def test_a_draft_cannot_be_shipped(partner, customer, widget):
    created = partner.post(ORDERS, new_order(customer, confirm=False, lines=[{"product": "WIDGET", "quantity": "5"}]))

    response = partner.post(order_url(created.json()["number"], "shipments/"), {})

    assert response.status_code == 409
    assert response.json()["code"] == "illegal_order_transition"
    assert not Shipment.objects.exists()


# Returns


def test_returns_bring_resellable_goods_back_and_never_more_than_shipped(partner, clerk, customer, widget):
    order = confirmed_order(clerk, customer, (widget, "10"))
    services.dispatch_shipment(order=order, actor=clerk)
    body = {
        "reason": "wrong size",
        "lines": [{"line_no": 1, "quantity": "3", "condition": "resellable"}],
    }

    returned = partner.post(order_url(order.number, "returns/"), body, HTTP_IDEMPOTENCY_KEY="rma-1")
    replay = partner.post(order_url(order.number, "returns/"), body, HTTP_IDEMPOTENCY_KEY="rma-1")
    damaged = partner.post(
        order_url(order.number, "returns/"),
        {"reason": "broken in transit", "lines": [{"line_no": 1, "quantity": "2", "condition": "damaged"}]},
    )
    too_many = partner.post(
        order_url(order.number, "returns/"),
        {"reason": "more", "lines": [{"line_no": 1, "quantity": "6", "condition": "resellable"}]},
    )

    assert returned.status_code == 201, returned.json()
    assert returned.json()["lines"] == [
        {"line_no": 1, "product": "WIDGET", "quantity": "3.000", "condition": "resellable"}
    ]
    assert replay.json() == returned.json()
    assert damaged.status_code == 201
    assert too_many.status_code == 409
    assert too_many.json()["code"] == "over_return"
    assert ReturnOrder.objects.count() == 2
    assert stock(widget) == (93, 0)
    assert OrderLine.objects.get().quantity_returned == 5
    listed = partner.get(order_url(order.number, "returns/")).json()
    assert {r["reason"] for r in listed} == {"wrong size", "broken in transit"}


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"lines": [{"line_no": 1, "quantity": "1", "condition": "resellable"}]}, ["reason"]),
        ({"reason": "x", "lines": [{"line_no": 1, "quantity": "1", "condition": "mint"}]}, ["lines", "0", "condition"]),
        (
            {"reason": "x", "lines": [{"line_no": 9, "quantity": "1", "condition": "damaged"}]},
            ["lines", "0", "line_no"],
        ),
        (
            {"reason": "x", "lines": [{"line_no": 1, "quantity": "-1", "condition": "damaged"}]},
            ["lines", "0", "quantity"],
        ),
        ({"reason": "x", "lines": []}, ["lines"]),
    ],
)
def test_bad_return_input_names_the_field_and_writes_nothing(partner, clerk, customer, widget, body, path):
    order = confirmed_order(clerk, customer, (widget, "4"))
    services.dispatch_shipment(order=order, actor=clerk)
    before = (counts(), ReturnOrder.objects.count())

    response = partner.post(order_url(order.number, "returns/"), body)

    assert response.status_code == 422, response.json()
    node = response.json()["errors"]
    for step in path:
        node = node[step]
    assert node
    assert (counts(), ReturnOrder.objects.count()) == before


# OpenAPI

ORDER_PATHS = {
    "/api/v1/products/",
    "/api/v1/products/{sku}/",
    "/api/v1/availability/",
    "/api/v1/prices/",
    "/api/v1/stock-receipts/",
    "/api/v1/stock-adjustments/",
    "/api/v1/orders/",
    "/api/v1/orders/{number}/",
    "/api/v1/orders/{number}/confirm/",
    "/api/v1/orders/{number}/cancel/",
    "/api/v1/orders/{number}/release-credit-hold/",
    "/api/v1/orders/{number}/reject/",
    "/api/v1/orders/{number}/timeline/",
    "/api/v1/orders/{number}/shipments/",
    "/api/v1/orders/{number}/returns/",
    "/api/v1/orders/{number}/return-requests/",
    "/api/v1/return-requests/{number}/",
    "/api/v1/return-requests/{number}/approve/",
    "/api/v1/return-requests/{number}/refuse/",
    "/api/v1/shipments/{number}/",
    "/api/v1/shipments/{number}/deliver/",
}


def test_the_schema_validates_without_warnings_and_documents_the_order_api(tmp_path):
    target = tmp_path / "schema.yml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    schema = yaml.safe_load(target.read_text())
    assert set(schema["paths"]) >= ORDER_PATHS
    create = schema["paths"]["/api/v1/orders/"]["post"]
    assert "Idempotency-Key" in {p["name"] for p in create["parameters"] if p["in"] == "header"}
    assert set(create["responses"]) >= {"201", "409", "422"}
    assert set(create["responses"]["409"]["content"]) == {"application/problem+json"}
    prices = schema["paths"]["/api/v1/prices/"]["get"]
    assert {"customer", "product", "quantity", "date", "currency"} <= {p["name"] for p in prices["parameters"]}
