"""Add pages opened with a customer in the URL (?customer=, as the customer 360's links do) start from
that customer; a value that names no customer is ignored rather than failing the page."""

import pytest
from django.test import Client

from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("value", ["abc", "12abc", "-1", "999999", ""])
@pytest.mark.parametrize(
    ("group", "url"), [("sales", "/admin/orders/order/add/"), ("finance", "/admin/payments/payment/add/")]
)
def test_an_add_page_opened_for_no_real_customer_still_opens(group, url, value):
    client = Client()
    client.force_login(StaffFactory(email=f"{group}@otc.test", groups=[group]))

    response = client.get(f"{url}?customer={value}")

    assert response.status_code == 200


def test_a_refused_admin_page_says_which_role_allows_it():
    client = Client()
    client.force_login(StaffFactory(email="clara@otc.test", groups=["finance"]))

    response = client.get("/admin/orders/order/add/")

    page = response.content.decode()
    assert response.status_code == 403
    assert 'id="refused"' in page
    assert "It needs one of these roles: admin, sales." in page
    assert "clara@otc.test" in page
