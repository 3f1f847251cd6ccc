"""Page bodies and customer emails in the customer's language (German and French catalogues in
locale/, compiled by `make install`): an order page of the portal and the order confirmation."""

from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client

from customers import services as customer_services
from customers.models import PortalRole
from tests.factories import CustomerFactory, approved_limit, make_product, placed_order
from tests.support.outbox import run_outbox

pytestmark = pytest.mark.django_db

EXPECTED = {
    "de": {
        "page": [
            "Auftrag {number}",
            "Alle Bestellungen",
            "Positionen",
            "Sendungsverfolgung",
            "Lieferadresse",
            "Gesamt",
        ],
        "subject": "Auftragsbestätigung {number}",
        "body": [
            "Guten Tag,",
            "vielen Dank für Ihre Bestellung. Wir haben den Auftrag {number} für Nordwind",
            "Netto:",
        ],
    },
    "fr": {
        "page": ["Commande {number}", "Toutes les commandes", "Articles", "Suivi", "Adresse de livraison", "Total"],
        "subject": "Confirmation de commande {number}",
        "body": [
            "Bonjour,",
            "merci pour votre commande. Nous avons confirmé la commande {number} pour Nordwind",
            "HT:",
        ],
    },
}


@pytest.mark.parametrize("language", ["de", "fr"])
def test_an_order_page_and_its_confirmation_speak_the_customers_language(clerk, approver, language):
    widget = make_product(actor=clerk, sku="WID-1", price="12.50", stock="50")
    customer = CustomerFactory(
        actor=clerk,
        legal_name="Nordwind Handel GmbH",
        language=language,
        contacts=[{"name": "Paula", "email": "paula@nordwind.example", "roles": ["purchasing"]}],
    )
    approved_limit(customer, limit="1000", clerk=clerk, approver=approver)
    order = placed_order(customer, clerk, (widget, "2"))
    client = Client()
    client.force_login(
        customer_services.grant_portal_access(
            customer=customer, actor=clerk, email="b@nordwind.example", roles=[PortalRole.BUYER]
        )
    )
    expected = EXPECTED[language]

    page = client.get(f"/portal/orders/{order.number}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    run_outbox("order.confirmed")

    for text in expected["page"]:
        assert text.format(number=order.number) in page, text
    assert "Delivery address" not in page
    (message,) = mail.outbox
    assert message.subject == expected["subject"].format(number=order.number)
    for text in expected["body"]:
        assert text.format(number=order.number) in message.body, text
    assert order.gross_total == Decimal("29.75")
