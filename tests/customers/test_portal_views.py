import pytest

from customers import services
from customers.models import Contact
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def portal(client, clerk):
    mine = CustomerFactory(
        actor=clerk,
        legal_name="Nordwind Handel GmbH",
        contacts=[{"name": "Nora", "email": "nora@nordwind.example", "roles": ["purchasing"]}],
    )
    theirs = CustomerFactory(
        actor=clerk, legal_name="Konkurrenz AG", contacts=[{"name": "Karl", "email": "karl@konkurrenz.example"}]
    )
    user = services.grant_portal_access(customer=mine, actor=clerk, email="buyer@nordwind.example")
    client.force_login(user)
    client.mine, client.theirs, client.user = mine, theirs, user
    return client


def test_portal_home_shows_only_the_users_customer(portal, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        response = portal.get("/portal/")

    assert response.status_code == 200
    assert b"Nordwind Handel GmbH" in response.content
    assert b"nora@nordwind.example" in response.content
    assert b"Konkurrenz" not in response.content
    assert b"karl@" not in response.content


def test_another_customers_contact_is_a_404(portal):
    other = portal.theirs.contacts.get()

    assert portal.get(f"/portal/contacts/{other.pk}/").status_code == 404
    response = portal.post(f"/portal/contacts/{other.pk}/", {"name": "Hacked", "email": "x@y.example"})
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.name == "Karl"


def test_customer_updates_its_own_contact_and_preferences(portal):
    contact = portal.mine.contacts.get()

    response = portal.post(
        f"/portal/contacts/{contact.pk}/",
        {"name": "Nora Nord", "email": "nora@nordwind.example", "roles": ["purchasing", "billing"]},
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.name == "Nora Nord"
    assert contact.roles == ["billing", "purchasing"]

    response = portal.post(
        "/portal/preferences/", {"channels": ["email"], "opt_outs": ["survey"], "invoice_delivery": "e_invoice"}
    )
    assert response.status_code == 302
    preferences = portal.mine.preferences
    preferences.refresh_from_db()
    assert (preferences.channels, preferences.opt_outs, preferences.invoice_delivery) == (
        ["email"],
        ["survey"],
        "e_invoice",
    )


def test_an_invalid_contact_email_is_refused_and_nothing_changes(portal):
    response = portal.post("/portal/contacts/add/", {"name": "Bad", "email": "not-an-email"})

    assert response.status_code == 200
    assert b"Enter a valid email address" in response.content
    assert Contact.objects.filter(customer=portal.mine).count() == 1


def test_staff_in_the_portal_are_sent_to_the_admin(client, clerk):
    client.force_login(clerk)

    response = client.get("/portal/")

    assert response.status_code == 403
    assert b'href="/admin/"' in response.content


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/portal/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
