from decimal import Decimal

import pytest

from customers import services as customer_services
from orders import services as orders
from tests.factories import CustomerFactory, make_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(client, clerk, approver):
    widget = make_product(actor=clerk, sku="WID-1", price="12.50", stock="50")
    mine = CustomerFactory(actor=clerk, legal_name="Nordwind Handel GmbH")
    theirs = CustomerFactory(actor=clerk, legal_name="Konkurrenz AG")
    for customer in (mine, theirs):
        request = customer_services.request_credit_limit_change(
            customer=customer, actor=clerk, credit_limit="5000", reason="r"
        )
        customer_services.approve_change_request(change_request=request, actor=approver)
    my_order = orders.create_order(
        actor=clerk, customer=mine, po_number="PO-1", lines=[orders.LineInput(widget, Decimal("4"))]
    )
    orders.confirm_order(order=my_order, actor=clerk)
    orders.dispatch_shipment(
        order=my_order, actor=clerk, carrier="DHL", tracking_number="JJD1", tracking_url="https://track.example/JJD1"
    )
    their_order = orders.create_order(actor=clerk, customer=theirs, lines=[orders.LineInput(widget, Decimal("2"))])
    client.force_login(customer_services.grant_portal_access(customer=mine, actor=clerk, email="b@nordwind.example"))
    return client, my_order, their_order


def test_the_portal_lists_only_the_customers_own_orders(shop, django_assert_max_num_queries):
    client, mine, theirs = shop

    with django_assert_max_num_queries(8):
        response = client.get("/portal/orders/")

    assert response.status_code == 200
    assert mine.number.encode() in response.content
    assert theirs.number.encode() not in response.content


def test_an_order_shows_its_tracking_and_another_customers_order_is_a_404(shop):
    client, mine, theirs = shop

    response = client.get(f"/portal/orders/{mine.number}/")
    assert response.status_code == 200
    assert b"https://track.example/JJD1" in response.content
    assert b"59.50 EUR" in response.content  # 4 x 12.50 + 19 % tax
    assert client.get(f"/portal/orders/{theirs.number}/").status_code == 404
