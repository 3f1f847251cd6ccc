from datetime import date
from decimal import Decimal

import pytest
from django.core import mail

from customers import services as customer_services
from inventory.errors import InsufficientStock
from inventory.models import CustomerPrice, StockLevel, StockMove
from orders import services
from orders.errors import IllegalOrderTransition, OverReturn, OverShipment, PurchaseOrderNumberRequired
from orders.models import Order, OrderStatus
from orders.selectors import customer_exposure
from otc.errors import InvalidInput, PermissionDenied
from tests.factories import StaffFactory, make_product, qty
from workflows.models import Delivery, OutboxEvent

pytestmark = pytest.mark.django_db
LineInput = services.LineInput


def available(product) -> Decimal:
    level = StockLevel.objects.get(product=product)
    return level.on_hand - level.reserved


def test_an_order_is_priced_and_taxed_line_by_line_to_the_cent(clerk, customer, widget, manual):
    order = services.create_order(
        actor=clerk,
        customer=customer,
        discount_percent=Decimal("2"),
        lines=[
            LineInput(widget, qty("12"), Decimal("5")),  # 12 × 9.00 (break) −5% −2% = 100.548 -> 100.55
            LineInput(manual, qty("3")),  # 3 × 19.99 −2% = 58.7706 -> 58.77
        ],
    )

    first, second = order.lines.order_by("line_no")
    assert (first.unit_price, first.price_rule, first.net_amount, first.tax_amount) == (
        Decimal("9.00"),
        "price list 'List EUR' from 10",
        Decimal("100.55"),
        Decimal("19.10"),
    )
    assert (second.net_amount, second.tax_rate, second.tax_amount) == (
        Decimal("58.77"),
        Decimal("7.00"),
        Decimal("4.11"),
    )
    assert (order.net_total, order.tax_total, order.gross_total) == (
        Decimal("159.32"),
        Decimal("23.21"),
        Decimal("182.53"),
    )
    assert order.number.startswith("SO-")
    assert order.status == OrderStatus.DRAFT
    assert order.shipping_address["city"] == "Hamburg"


@pytest.mark.parametrize(("quantity", "field"), [("0", "quantity"), ("-2", "quantity"), ("abc", "quantity")])
def test_bad_quantities_are_refused_and_nothing_is_written(clerk, customer, widget, quantity, field):
    with pytest.raises(InvalidInput) as error:
        services.create_order(actor=clerk, customer=customer, lines=[LineInput(widget, quantity)])

    assert field in error.value.fields
    assert not Order.objects.exists()


def test_a_wrong_currency_is_refused(clerk, customer, widget):
    with pytest.raises(InvalidInput, match="No USD price"):
        services.create_order(actor=clerk, customer=customer, currency="USD", lines=[LineInput(widget, qty("1"))])
    with pytest.raises(InvalidInput, match="XYZ is not a supported currency"):
        services.create_order(actor=clerk, customer=customer, currency="XYZ", lines=[LineInput(widget, qty("1"))])
    assert not Order.objects.exists()


def test_po_number_is_required_where_the_customer_says_so(clerk, customer, widget):
    customer_services.update_preferences(customer=customer, actor=clerk, data={"po_number_required": True})

    with pytest.raises(PurchaseOrderNumberRequired):
        services.create_order(actor=clerk, customer=customer, lines=[LineInput(widget, qty("1"))])
    order = services.create_order(
        actor=clerk, customer=customer, po_number="PO-778", lines=[LineInput(widget, qty("1"))]
    )
    assert order.po_number == "PO-778"


def test_confirmation_reserves_stock_and_emails_the_purchasing_contact_once(
    clerk, customer, widget, django_capture_on_commit_callbacks
):
    order = services.create_order(actor=clerk, customer=customer, lines=[LineInput(widget, qty("30"))])
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.confirm_order(order=order, actor=clerk)

    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
    assert order.lines.get().quantity_reserved == 30
    assert available(widget) == 70
    assert [message.to for message in mail.outbox] == [["paula@nordwind.example"]]
    assert mail.outbox[0].subject == f"Order confirmation {order.number}"
    assert "270.00 EUR" in mail.outbox[0].body
    assert Delivery.objects.filter(event__event_type="order.confirmed").count() == 1


def test_opted_out_customers_get_no_order_confirmation(clerk, customer, widget, django_capture_on_commit_callbacks):
    customer_services.update_preferences(customer=customer, actor=clerk, data={"opt_outs": ["order_confirmation"]})
    order = services.create_order(actor=clerk, customer=customer, lines=[LineInput(widget, qty("1"))])

    with django_capture_on_commit_callbacks(execute=True):
        services.confirm_order(order=order, actor=clerk)

    assert OutboxEvent.objects.get(event_type="order.confirmed").status == "done"
    assert not Delivery.objects.filter(event__event_type="order.confirmed").exists()


def test_over_the_credit_limit_the_order_waits_and_credit_control_hears(
    clerk, customer, widget, credit_controller, django_capture_on_commit_callbacks
):
    big = make_product(actor=clerk, sku="PRESS", price="9000.00", stock="5")
    order = services.create_order(actor=clerk, customer=customer, lines=[LineInput(big, qty("1"))])
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.confirm_order(order=order, actor=clerk)

    order.refresh_from_db()
    assert order.status == OrderStatus.ON_CREDIT_HOLD
    assert order.hold_reason == "Over credit limit: exposure 0.00 + order 10710.00 > limit 10000.00 EUR."
    assert available(big) == 5
    # everyone who may release held orders (the finance group) and the customer's sales rep
    assert sorted(r for m in mail.outbox for r in m.to) == [
        "anton@otc.test",
        "clara@otc.test",
        "fiona@otc.test",
        "rita@otc.test",
    ]


def test_finance_releases_a_held_order_and_sales_may_not(clerk, customer, widget, credit_controller):
    customer_services.place_credit_hold(customer=customer, actor=clerk, reason="cheque bounced")
    order = services.confirm_order(
        order=services.create_order(actor=clerk, customer=customer, lines=[LineInput(widget, qty("5"))]), actor=clerk
    )
    assert order.hold_reason == "Customer is on credit hold."
    salesman = make_sales_user()

    with pytest.raises(PermissionDenied):
        services.release_credit_hold(order=order, actor=salesman, reason="paid in advance")
    services.release_credit_hold(order=order, actor=credit_controller, reason="paid in advance")

    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
    assert available(widget) == 95
    assert [entry.kind for entry in order.timeline.all()] == ["created", "held", "released", "confirmed"]


def make_sales_user():
    return StaffFactory(groups=["sales"])


def test_finance_rejects_a_held_order(clerk, customer, widget, credit_controller):
    customer_services.block_customer(customer=customer, actor=clerk, reason="insolvency")
    order = services.confirm_order(
        order=services.create_order(actor=clerk, customer=customer, lines=[LineInput(widget, qty("5"))]), actor=clerk
    )

    services.reject_order(order=order, actor=credit_controller, reason="customer insolvent")

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert order.timeline.last().detail == "customer insolvent"


def test_short_stock_backorders_by_default(clerk, customer, widget):
    order = services.create_order(actor=clerk, customer=customer, lines=[LineInput(widget, qty("130"))])

    services.confirm_order(order=order, actor=clerk)

    line = order.lines.get()
    assert (line.quantity_reserved, line.quantity_backordered) == (100, 30)
    assert order.timeline.get(kind="confirmed").detail == "30 on backorder"


def test_short_stock_refuses_when_the_policy_says_so(clerk, customer, widget, manual, settings):
    settings.OTC_SHORT_STOCK_POLICY = "refuse"
    order = services.create_order(
        actor=clerk, customer=customer, lines=[LineInput(manual, qty("5")), LineInput(widget, qty("101"))]
    )

    with pytest.raises(InsufficientStock, match="WIDGET: 1 short"):
        services.confirm_order(order=order, actor=clerk)

    order.refresh_from_db()
    assert order.status == OrderStatus.DRAFT
    assert (available(widget), available(manual)) == (100, 50)
    assert not StockMove.objects.filter(kind="reservation").exists()


def test_confirming_twice_is_an_illegal_transition(clerk, customer, widget):
    order = services.create_order(actor=clerk, customer=customer, lines=[LineInput(widget, qty("5"))])
    services.confirm_order(order=order, actor=clerk)

    with pytest.raises(IllegalOrderTransition):
        services.confirm_order(order=order, actor=clerk)
    assert available(widget) == 95


def test_partial_shipments_then_the_rest_and_tracking_reaches_the_customer(
    clerk, customer, widget, manual, django_capture_on_commit_callbacks
):
    order = services.create_order(
        actor=clerk, customer=customer, lines=[LineInput(widget, qty("10")), LineInput(manual, qty("2"))]
    )
    services.confirm_order(order=order, actor=clerk)
    first_line = order.lines.get(line_no=1)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        first = services.dispatch_shipment(
            order=order,
            actor=clerk,
            quantities={first_line.pk: qty("4")},
            carrier="DHL",
            tracking_number="JJD0001",
            tracking_url="https://track.example/JJD0001",
        )
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_SHIPPED
    assert [m.to for m in mail.outbox] == [["sven@nordwind.example"]]
    assert "https://track.example/JJD0001" in mail.outbox[0].body

    services.dispatch_shipment(order=order, actor=clerk)
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert StockLevel.objects.get(product=widget).on_hand == 90
    assert StockLevel.objects.get(product=widget).reserved == 0
    services.mark_delivered(shipment=first, actor=clerk)
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    services.mark_delivered(shipment=order.shipments.exclude(pk=first.pk).get(), actor=clerk)
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED


def test_shipping_more_than_reserved_is_refused(clerk, customer, widget):
    order = services.create_order(actor=clerk, customer=customer, lines=[LineInput(widget, qty("120"))])
    services.confirm_order(order=order, actor=clerk)
    line = order.lines.get()

    with pytest.raises(OverShipment, match="120 asked, 100 reserved"):
        services.dispatch_shipment(order=order, actor=clerk, quantities={line.pk: qty("120")})
    assert not order.shipments.exists()


def test_cancellation_releases_reservations_and_a_shipped_order_cannot_be_cancelled(clerk, customer, widget):
    order = services.create_order(actor=clerk, customer=customer, lines=[LineInput(widget, qty("40"))])
    services.confirm_order(order=order, actor=clerk)

    services.cancel_order(order=order, actor=clerk, reason="customer changed mind")
    assert available(widget) == 100
    assert StockMove.objects.filter(kind="release").get().reserved_delta == Decimal("-40")

    shipped = services.create_order(actor=clerk, customer=customer, lines=[LineInput(widget, qty("1"))])
    services.confirm_order(order=shipped, actor=clerk)
    services.dispatch_shipment(order=shipped, actor=clerk)
    with pytest.raises(IllegalOrderTransition):
        services.cancel_order(order=shipped, actor=clerk)


def test_returns_bring_resellable_goods_back_and_never_more_than_shipped(clerk, customer, widget):
    order = services.create_order(actor=clerk, customer=customer, lines=[LineInput(widget, qty("10"))])
    services.confirm_order(order=order, actor=clerk)
    services.dispatch_shipment(order=order, actor=clerk)
    line = order.lines.get()

    services.register_return(
        order=order,
        actor=clerk,
        reason="wrong size",
        lines=[(line, qty("3"), "resellable"), (line, qty("2"), "damaged")],
    )
    assert StockLevel.objects.get(product=widget).on_hand == 93
    with pytest.raises(OverReturn, match="6 returned but only 5 shipped"):
        services.register_return(order=order, actor=clerk, reason="more", lines=[(line, qty("6"), "resellable")])
    line.refresh_from_db()
    assert line.quantity_returned == 5


def test_open_orders_count_towards_the_customers_exposure(clerk, customer, widget):
    order = services.create_order(actor=clerk, customer=customer, lines=[LineInput(widget, qty("10"))])
    services.confirm_order(order=order, actor=clerk)
    services.dispatch_shipment(order=order, actor=clerk, quantities={order.lines.get().pk: qty("4")})

    exposure = customer_exposure(customer=customer)

    assert exposure.open_orders == Decimal("64.26")  # 6 of 10 × 9.00 × 1.19
    assert exposure.available == Decimal("9935.74")


def test_an_explicit_zero_line_discount_overrides_the_customers_discount(clerk, customer, widget):
    CustomerPrice.objects.create(
        customer=customer, product=widget, currency="EUR", discount_percent="10", valid_from=date(2020, 1, 1)
    )

    negotiated = services.create_order(actor=clerk, customer=customer, lines=[LineInput(widget, qty("1"))])
    overridden = services.create_order(
        actor=clerk, customer=customer, lines=[LineInput(widget, qty("1"), Decimal("0"))]
    )

    assert negotiated.lines.get().net_amount == Decimal("9.00")
    assert overridden.lines.get().net_amount == Decimal("10.00")
