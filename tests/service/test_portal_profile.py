"""The company's profile in the portal: its admin adds and changes addresses, and asks for a new bank
account, which waits for the four-eyes approval of our finance staff instead of taking effect."""

import pytest
from django.test import Client

from customers import services as customer_services
from customers.models import Address, BankAccount, ChangeRequest, ChangeRequestStatus, PortalRole

pytestmark = pytest.mark.django_db

IBAN = "DE89 3704 0044 0532 0130 00"


@pytest.fixture
def admin_client(buyer, clerk) -> Client:
    user = customer_services.grant_portal_access(
        customer=buyer, actor=clerk, email="ada@nordwind.example", roles=[PortalRole.ADMIN]
    )
    client = Client()
    client.force_login(user)
    return client


def test_the_portal_admin_adds_a_default_shipping_address_and_changes_it(admin_client, buyer):
    new = {"kind": "shipping", "is_default": "on", "line1": "Hafenweg 9", "postal_code": "20457"}
    added = admin_client.post("/portal/addresses/add/", {**new, "city": "Hamburg", "country": "DE"})

    assert added.status_code == 302
    address = Address.objects.get(customer=buyer, line1="Hafenweg 9")
    assert (address.kind, address.is_default, address.city) == ("shipping", True, "Hamburg")

    admin_client.post(f"/portal/addresses/{address.pk}/", {**new, "city": "Hamburg-Altona", "country": "DE"})

    address.refresh_from_db()
    assert address.city == "Hamburg-Altona"


def test_an_address_without_a_city_is_refused_and_nothing_is_written(admin_client, buyer):
    before = Address.objects.count()

    response = admin_client.post("/portal/addresses/add/", {"kind": "billing", "line1": "X 1", "country": "DE"})

    assert response.status_code == 200
    assert Address.objects.count() == before


def test_a_new_bank_account_waits_for_four_eyes_and_the_page_says_so(admin_client, buyer):
    response = admin_client.post(
        "/portal/bank-account/",
        {"holder_name": "Nordwind Handel GmbH", "iban": IBAN, "bic": "", "reason": "new house bank"},
        follow=True,
    )

    assert "waits for approval by our finance team (four eyes)" in response.content.decode()
    request = ChangeRequest.objects.get(customer=buyer)
    assert request.status == ChangeRequestStatus.PENDING
    assert not BankAccount.objects.filter(customer=buyer).exists()


def test_a_malformed_iban_is_shown_on_the_form_and_no_request_is_made(admin_client, buyer):
    response = admin_client.post(
        "/portal/bank-account/", {"holder_name": "Nordwind", "iban": "DE00 1234", "reason": "new bank"}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["iban"]
    assert not ChangeRequest.objects.filter(customer=buyer).exists()
