"""The order desk in the admin: entry priced by the service, a live price, bulk confirm and ship, the
credit-hold queue with release and reject for finance only, dispatch and delivery, returns; every
refused service call is an admin message and changes nothing; the list costs constant queries."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from inventory.models import CustomerPrice, StockLevel
from orders import services
from orders.models import Order, OrderStatus, Shipment, ShipmentStatus
from otc.models import User
from tests.factories import CustomerFactory, StaffFactory, approved_limit, qty

pytestmark = pytest.mark.django_db

ORDERS = "/admin/orders/order/"


@pytest.fixture
def seller(db):
    return StaffFactory(email="sam@otc.test", full_name="Sam Sales", groups=["sales"])


@pytest.fixture
def small_customer(clerk, approver, warehouse):
    """A customer whose credit limit of 100 EUR an ordinary order exceeds."""
    customer = CustomerFactory(actor=clerk, legal_name="Kleinkram KG")
    approved_limit(customer, limit="100", clerk=clerk, approver=approver)
    return customer


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def order_for(customer, actor, *lines, **kwargs) -> Order:
    return services.create_order(
        actor=actor,
        customer=customer,
        lines=[services.LineInput(product, qty(quantity)) for product, quantity in lines],
        **kwargs,
    )


def entry_form(customer, *lines, **overrides) -> dict:
    data = {
        "customer": customer.pk,
        "currency": "",
        "po_number": "PO-77",
        "requested_delivery_date": "",
        "warehouse": "",
        "discount_percent": "0",
        "notes": "",
        "lines-TOTAL_FORMS": str(len(lines)),
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "1",
        "lines-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }
    for index, (product, quantity) in enumerate(lines):
        data |= {f"lines-{index}-product": product.pk, f"lines-{index}-quantity": quantity}
        data[f"lines-{index}-discount_percent"] = ""  # the customer's negotiated discount, if any
    return data | overrides


def bulk(client: Client, action: str, orders, **extra):
    return client.post(ORDERS, {"action": action, "_selected_action": [o.pk for o in orders], **extra}, follow=True)


def stock_of(product, warehouse) -> tuple[Decimal, Decimal]:
    level = StockLevel.objects.get(product=product, warehouse=warehouse)
    return level.on_hand, level.reserved


# -- entry ------------------------------------------------------------------------------------------------


def test_an_order_entered_in_the_admin_is_priced_and_taxed_by_the_service_to_the_cent(seller, customer, widget, manual):
    response = signed_in(seller).post(f"{ORDERS}add/", entry_form(customer, (widget, "12"), (manual, "1")))

    assert response.status_code == 302, response.context["adminform"].form.errors
    order = Order.objects.get()
    assert response["Location"] == f"{ORDERS}{order.pk}/change/"
    assert (order.status, order.po_number, order.currency, order.created_by) == ("draft", "PO-77", "EUR", seller)
    first, second = order.lines.order_by("line_no")
    assert (first.unit_price, first.net_amount, first.tax_amount) == (
        Decimal("9.00"),
        Decimal("108.00"),
        Decimal("20.52"),
    )
    assert first.price_rule == "price list 'List EUR' from 10"
    assert (second.unit_price, second.tax_rate, second.tax_amount) == (
        Decimal("19.99"),
        Decimal("7.00"),
        Decimal("1.40"),
    )
    assert (order.net_total, order.tax_total, order.gross_total) == (
        Decimal("127.99"),
        Decimal("21.92"),
        Decimal("149.91"),
    )

    page = signed_in(seller).get(response["Location"]).content.decode()
    assert order.number in page
    assert "price list &#x27;List EUR&#x27; from 10" in page
    assert 'name="_save"' in page  # a draft stays editable until it is confirmed


def test_an_empty_line_discount_takes_the_customers_and_an_explicit_zero_overrides_it(seller, customer, widget):
    CustomerPrice.objects.create(
        customer=customer, product=widget, currency="EUR", discount_percent="10", valid_from=date(2020, 1, 1)
    )
    client = signed_in(seller)

    client.post(f"{ORDERS}add/", entry_form(customer, (widget, "1")))
    client.post(f"{ORDERS}add/", entry_form(customer, (widget, "1"), **{"lines-0-discount_percent": "0"}))

    negotiated, overridden = Order.objects.order_by("pk")
    assert (negotiated.lines.get().discount_percent, negotiated.net_total) == (Decimal("10.00"), Decimal("9.00"))
    assert (overridden.lines.get().discount_percent, overridden.net_total) == (Decimal("0.00"), Decimal("10.00"))


def test_an_order_the_service_refuses_shows_the_reason_and_writes_nothing(seller, customer, widget):
    customer.preferences.po_number_required = True
    customer.preferences.save()

    response = signed_in(seller).post(f"{ORDERS}add/", entry_form(customer, (widget, "2"), po_number=""))

    assert response.status_code == 200
    assert "Required for this customer." in response.content.decode()
    assert not Order.objects.exists()


def test_an_order_opened_for_a_customer_starts_in_its_currency_and_for_nobody_in_the_customers_default(seller, clerk):
    swiss = CustomerFactory(actor=clerk, legal_name="Zürcher Feinmechanik AG", default_currency="CHF")
    client = signed_in(seller)

    for_swiss = client.get(f"{ORDERS}add/?customer={swiss.pk}").context["adminform"].form
    for_nobody = client.get(f"{ORDERS}add/").context["adminform"].form
    for_no_such_customer = client.get(f"{ORDERS}add/?customer=999999").context["adminform"].form

    assert (for_swiss["customer"].value(), for_swiss["currency"].value()) == (str(swiss.pk), "CHF")
    assert for_nobody["currency"].value() == ""
    assert for_no_such_customer["currency"].value() == "EUR"


def test_finance_cannot_enter_orders(clerk, customer, widget):
    assert signed_in(clerk).get(f"{ORDERS}add/").status_code == 403


def test_the_price_endpoint_answers_the_quantity_break_price_and_its_rule(seller, customer, widget):
    client = signed_in(seller)

    one = client.get(f"{ORDERS}price/", {"customer": customer.pk, "product": widget.pk, "quantity": "1"}).json()
    ten = client.get(f"{ORDERS}price/", {"customer": customer.pk, "product": widget.pk, "quantity": "10"}).json()

    assert (Decimal(one["unit_price"]), one["currency"], one["rule"]) == (
        Decimal("10.00"),
        "EUR",
        "price list 'List EUR'",
    )
    assert (Decimal(ten["unit_price"]), ten["rule"]) == (Decimal("9.00"), "price list 'List EUR' from 10")


def test_the_price_endpoint_explains_a_missing_price(seller, customer, widget):
    response = signed_in(seller).get(
        f"{ORDERS}price/", {"customer": customer.pk, "product": widget.pk, "quantity": "1", "currency": "USD"}
    )

    assert response.status_code == 422
    assert response.json()["code"] == "no_price"
    assert signed_in(seller).get(f"{ORDERS}price/", {"customer": customer.pk}).status_code == 400


@pytest.mark.parametrize(
    "given", [{"quantity": "NaN"}, {"quantity": "Infinity"}, {"quantity": "1,5"}, {"date": "2026-02-30"}]
)
def test_the_price_endpoint_refuses_a_quantity_or_date_that_is_not_one(seller, customer, widget, given):
    """Regression: NaN passed the old parser and its comparison with zero was a server error."""
    query = {"customer": customer.pk, "product": widget.pk, "quantity": "1", **given}
    response = signed_in(seller).get(f"{ORDERS}price/", query)
    assert (response.status_code, response.json()) == (
        400,
        {"error": "Choose a customer, a product, a quantity and a date."},
    )


def test_the_add_page_offers_product_search_and_the_live_price_script(seller, customer, widget):
    page = signed_in(seller).get(f"{ORDERS}add/").content.decode()

    assert "/admin/orders/order/price/" in page
    assert "admin-autocomplete" in page


# -- list, filters, queue ---------------------------------------------------------------------------------


def test_order_list_costs_the_same_queries_for_3_or_20_orders(seller, customer, small_customer, widget):
    client = signed_in(seller)
    for index in range(3):
        order_for(customer if index % 2 else small_customer, seller, (widget, "1"))
    client.get(ORDERS)  # warm caches

    with CaptureQueriesContext(connection) as three:
        response = client.get(ORDERS)
    assert response.status_code == 200
    for index in range(17):
        order_for(customer if index % 2 else small_customer, seller, (widget, "1"))
    with CaptureQueriesContext(connection) as twenty:
        response = client.get(ORDERS)

    assert response.content.decode().count("11.90 EUR") >= 20
    assert len(twenty) == len(three)
    assert not [q for q in twenty if "COUNT(" in q["sql"].upper() and "orders_order" in q["sql"]]


def test_order_list_filters_by_status_and_customer_and_searches(seller, customer, small_customer, widget):
    mine = order_for(customer, seller, (widget, "1"), po_number="PO-ALPHA")
    theirs = order_for(small_customer, seller, (widget, "1"))
    services.cancel_order(order=theirs, actor=seller)
    client = signed_in(seller)

    by_status = client.get(ORDERS, {"status__exact": "cancelled"}).context["cl"].result_list
    by_customer = client.get(ORDERS, {"customer__id__exact": customer.pk}).context["cl"].result_list
    by_po = client.get(ORDERS, {"q": "PO-ALPHA"}).context["cl"].result_list
    by_name = client.get(ORDERS, {"q": "Kleinkram"}).context["cl"].result_list

    assert list(by_status) == [theirs]
    assert list(by_customer) == [mine]
    assert list(by_po) == [mine]
    assert list(by_name) == [theirs]


def test_the_credit_hold_queue_shows_only_held_orders_with_their_reason(seller, customer, small_customer, widget):
    held = order_for(small_customer, seller, (widget, "20"))
    services.confirm_order(order=held, actor=seller)
    draft = order_for(customer, seller, (widget, "1"))
    confirmed = order_for(customer, seller, (widget, "2"))
    services.confirm_order(order=confirmed, actor=seller)

    response = signed_in(seller).get(f"{ORDERS}credit-hold-queue/", follow=True)

    assert list(response.context["cl"].result_list) == [held]
    page = response.content.decode()
    assert held.number in page
    assert draft.number not in page
    assert confirmed.number not in page
    assert "Over credit limit" in page


# -- bulk actions -------------------------------------------------------------------------------------------


def test_bulk_confirm_puts_the_over_limit_order_on_hold_and_confirms_the_others(
    seller, customer, small_customer, widget, warehouse
):
    first = order_for(customer, seller, (widget, "5"))
    second = order_for(customer, seller, (widget, "3"))
    over = order_for(small_customer, seller, (widget, "20"))  # 214.20 EUR against a 100 EUR limit
    already = order_for(customer, seller, (widget, "1"))
    services.confirm_order(order=already, actor=seller)

    response = bulk(signed_in(seller), "confirm_selected", [first, second, over, already])

    statuses = dict(Order.objects.values_list("pk", "status"))
    assert statuses[first.pk] == statuses[second.pk] == OrderStatus.CONFIRMED
    assert statuses[over.pk] == OrderStatus.ON_CREDIT_HOLD
    texts = messages_of(response)
    assert "Confirmed 2 order(s)." in texts
    assert "Put 1 order(s) on credit hold for finance to review." in texts
    assert any(text.startswith(f"{already.number}:") and "not a draft" in text for text in texts)
    assert stock_of(widget, warehouse) == (Decimal("100"), Decimal("9"))  # 5 + 3 + 1; nothing for the held one


def test_bulk_ship_dispatches_everything_reserved_and_reports_refusals(seller, customer, widget, warehouse):
    confirmed = order_for(customer, seller, (widget, "4"))
    services.confirm_order(order=confirmed, actor=seller)
    draft = order_for(customer, seller, (widget, "1"))

    response = bulk(signed_in(seller), "ship_selected", [confirmed, draft])

    confirmed.refresh_from_db()
    assert confirmed.status == OrderStatus.SHIPPED
    assert Shipment.objects.filter(order=confirmed).count() == 1
    assert not Shipment.objects.filter(order=draft).exists()
    assert stock_of(widget, warehouse) == (Decimal("96"), Decimal("0"))
    texts = messages_of(response)
    assert "Dispatched 1 shipment(s) with everything reserved." in texts
    assert any(text.startswith(f"{draft.number}:") for text in texts)


# -- credit hold: finance releases or rejects, sales may not ------------------------------------------------


@pytest.fixture
def held_order(seller, small_customer, widget):
    order = order_for(small_customer, seller, (widget, "20"))
    return services.confirm_order(order=order, actor=seller)


def test_finance_releases_a_held_order_from_its_page(credit_controller, held_order, widget, warehouse):
    client = signed_in(credit_controller)
    assert "Release credit hold" in client.get(f"{ORDERS}{held_order.pk}/change/").content.decode()

    without_reason = client.post(f"{ORDERS}{held_order.pk}/release/")
    assert without_reason.status_code == 200  # the form again, asking for the reason
    held_order.refresh_from_db()
    assert held_order.status == OrderStatus.ON_CREDIT_HOLD

    response = client.post(f"{ORDERS}{held_order.pk}/release/", {"reason": "customer prepaid"}, follow=True)

    held_order.refresh_from_db()
    assert held_order.status == OrderStatus.CONFIRMED
    assert f"{held_order.number} released and confirmed." in messages_of(response)
    assert stock_of(widget, warehouse) == (Decimal("100"), Decimal("20"))
    assert held_order.timeline.get(kind="released", actor=credit_controller).detail.endswith(": customer prepaid")


def test_a_sales_user_cannot_release_a_held_order(seller, held_order, widget, warehouse):
    client = signed_in(seller)
    page = client.get(f"{ORDERS}{held_order.pk}/change/").content.decode()
    assert f"{ORDERS}{held_order.pk}/release/" not in page
    assert client.post(f"{ORDERS}{held_order.pk}/release/").status_code == 403

    assert "release_selected" not in client.get(ORDERS).content.decode()  # the bulk action is not offered
    response = bulk(client, "release_selected", [held_order], apply="1", reason="prepaid")

    held_order.refresh_from_db()
    assert held_order.status == OrderStatus.ON_CREDIT_HOLD
    assert "No action selected." in messages_of(response)
    assert stock_of(widget, warehouse) == (Decimal("100"), Decimal("0"))


def test_finance_rejects_held_orders_with_a_reason(credit_controller, held_order):
    client = signed_in(credit_controller)

    asked = client.post(ORDERS, {"action": "reject_selected", "_selected_action": [held_order.pk]})
    assert asked.status_code == 200
    assert "reason" in asked.context["form"].fields
    response = bulk(client, "reject_selected", [held_order], apply="1", reason="Overdue invoices")

    held_order.refresh_from_db()
    assert held_order.status == OrderStatus.CANCELLED
    assert "Rejected 1 order(s)." in messages_of(response)
    assert held_order.timeline.get(kind="rejected").detail == "Overdue invoices"


# -- one order: confirm, cancel, dispatch, deliver, return ---------------------------------------------------


def test_the_dispatch_form_ships_the_chosen_quantities_and_moves_stock(seller, customer, widget, warehouse):
    order = services.confirm_order(order=order_for(customer, seller, (widget, "12")), actor=seller)
    line = order.lines.get()
    client = signed_in(seller)

    form = client.get(f"{ORDERS}{order.pk}/dispatch/").context["form"]
    assert form.fields[f"line_{line.pk}"].initial == "12"
    response = client.post(
        f"{ORDERS}{order.pk}/dispatch/",
        {f"line_{line.pk}": "5", "carrier": "DHL", "tracking_number": "JJD0001", "tracking_url": ""},
        follow=True,
    )

    shipment = Shipment.objects.get(order=order)
    assert (shipment.carrier, shipment.tracking_number) == ("DHL", "JJD0001")
    assert shipment.lines.get().quantity == Decimal("5")
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_SHIPPED
    assert stock_of(widget, warehouse) == (Decimal("95"), Decimal("7"))
    assert f"Shipment for {order.number} dispatched." in messages_of(response)


def test_shipping_more_than_reserved_is_refused_and_changes_nothing(seller, customer, widget, warehouse):
    order = services.confirm_order(order=order_for(customer, seller, (widget, "3")), actor=seller)
    line = order.lines.get()

    response = signed_in(seller).post(f"{ORDERS}{order.pk}/dispatch/", {f"line_{line.pk}": "4"})

    assert response.status_code == 200
    assert any("4 asked, 3 reserved" in text for text in messages_of(response))
    assert not Shipment.objects.exists()
    assert stock_of(widget, warehouse) == (Decimal("100"), Decimal("3"))


def test_delivery_completes_the_order_and_a_return_brings_stock_back(seller, customer, widget, warehouse):
    order = services.confirm_order(order=order_for(customer, seller, (widget, "2")), actor=seller)
    shipment = services.dispatch_shipment(order=order, actor=seller)
    client = signed_in(seller)

    client.post(f"{ORDERS}{order.pk}/shipments/{shipment.pk}/deliver/")
    shipment.refresh_from_db()
    order.refresh_from_db()
    assert (shipment.status, order.status) == (ShipmentStatus.DELIVERED, OrderStatus.COMPLETED)

    line = order.lines.get()
    response = client.post(
        f"{ORDERS}{order.pk}/return/",
        {"reason": "Wrong colour", "condition": "resellable", f"line_{line.pk}": "1"},
        follow=True,
    )
    line.refresh_from_db()
    assert line.quantity_returned == Decimal("1")
    assert stock_of(widget, warehouse) == (Decimal("99"), Decimal("0"))
    assert f"Return for {order.number} registered." in messages_of(response)


def test_cancelling_from_the_order_page_releases_stock_and_a_second_cancel_is_refused(
    seller, customer, widget, warehouse
):
    order = services.confirm_order(order=order_for(customer, seller, (widget, "6")), actor=seller)
    client = signed_in(seller)

    client.post(f"{ORDERS}{order.pk}/cancel/", {"reason": "Customer changed their mind"})
    again = client.post(f"{ORDERS}{order.pk}/cancel/", {"reason": ""}, follow=True)

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert stock_of(widget, warehouse) == (Decimal("100"), Decimal("0"))
    assert any("cannot become cancelled" in text for text in messages_of(again))


def line_columns_and_timeline_shown(page: str) -> bool:
    return all(text in page for text in ("Reserved", "Shipped", "Confirmed")) and "timeline" in page.lower()


def test_confirming_from_the_order_page(seller, customer, widget):
    order = order_for(customer, seller, (widget, "2"))

    response = signed_in(seller).post(f"{ORDERS}{order.pk}/confirm/", follow=True)

    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
    assert f"{order.number} confirmed; stock reserved." in messages_of(response)
    page = response.content.decode()
    assert "Backordered" in page
    assert line_columns_and_timeline_shown(page)
