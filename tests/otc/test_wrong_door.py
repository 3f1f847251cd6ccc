"""Each kind of user who opens the other's door gets a clear page saying where to go, never a redirect
loop: a portal user at /admin/, a staff member at /portal/."""

import pytest
from django.test import Client

from customers import services as customer_services
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def follow(client: Client, path: str):
    response = client.get(path, follow=True)
    assert len(response.redirect_chain) < 3, response.redirect_chain
    return response


def test_a_portal_user_at_the_admin_is_told_the_admin_is_for_staff(clerk):
    customer = CustomerFactory(actor=clerk)
    client = Client()
    client.force_login(customer_services.grant_portal_access(customer=customer, actor=clerk, email="p@n.example"))

    response = follow(client, "/admin/invoicing/invoice/")

    assert response.status_code == 403
    assert "The admin is for staff" in response.content.decode()
    assert 'href="/portal/"' in response.content.decode()


def test_a_staff_member_at_the_portal_is_told_the_portal_is_for_customers(clerk):
    client = Client()
    client.force_login(clerk)

    response = follow(client, "/portal/invoices/")

    assert response.status_code == 403
    assert "The portal is for customers" in response.content.decode()
    assert 'href="/admin/"' in response.content.decode()


def test_signed_out_visitors_still_go_to_the_sign_in_page(db):
    assert Client().get("/admin/")["Location"].startswith("/admin/login/")
    assert Client().get("/portal/")["Location"].startswith("/accounts/login/")
