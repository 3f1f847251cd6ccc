"""The portal speaks the customer's language (compiled catalogues under locale/, built by `make install`)."""

import pytest
from django.test import Client

from customers import services as customer_services
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "words"),
    [("de", ["Bestellungen", "Rechnungen", "Hilfe"]), ("fr", ["Commandes", "Factures", "Aide"]), ("en", ["Orders"])],
)
def test_the_portal_is_in_the_customers_language(clerk, language, words):
    customer = CustomerFactory(actor=clerk, legal_name="Nordwind Handel GmbH", language=language)
    client = Client()
    client.force_login(customer_services.grant_portal_access(customer=customer, actor=clerk, email="b@example.com"))

    response = client.get("/portal/", HTTP_ACCEPT_LANGUAGE="en" if language != "en" else "de")

    page = response.content.decode()
    assert f'<html lang="{language}">' in page
    for word in words:
        assert f">{word}</a>" in page
