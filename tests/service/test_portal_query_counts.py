"""Every portal page answers in a fixed number of queries: the same count with one row of each kind
as with several (orders, invoices, tickets, contacts, invitations)."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from customers import services as customer_services
from orders import services as orders
from service import services
from service.models import TicketChannel
from tests.factories import make_product
from tests.service.test_portal_roles import BUYER, invoice_for, routes, world  # noqa: F401  (fixture by name)

pytestmark = pytest.mark.django_db


def queries_per_page(client: Client, made) -> dict[str, int]:
    counts = {}
    for method, _role, own, _foreign in routes(made):
        if method == "get" and own:
            with CaptureQueriesContext(connection) as captured:
                assert client.get(own).status_code in (200, 302), own
            counts[own] = len(captured)
    return counts


def test_every_portal_page_answers_in_a_fixed_number_of_queries(world, clerk):  # noqa: F811
    made, _ = world
    customer = made["mine"]["order"].customer
    client = Client()
    client.force_login(customer_services.grant_portal_access(customer=customer, actor=clerk, email="all@mine.example"))
    queries_per_page(client, made)  # warm caches (content types, sessions) so both rounds start alike
    with_one = queries_per_page(client, made)

    gadget = make_product(actor=clerk, sku="GAD-1", price="7.00", stock="50")
    for number in range(3):
        orders.create_order(actor=clerk, customer=customer, lines=[orders.LineInput(gadget, Decimal("2"))])
        invoice_for(customer, clerk)
        services.open_ticket(
            customer=customer, subject=f"Question {number}", body="Hello", channel=TicketChannel.EMAIL, actor=clerk
        )
        customer.contacts.create(name=f"Contact {number}", email=f"contact{number}@mine.example")
        customer_services.invite_portal_user(
            customer=customer, actor=clerk, email=f"more{number}@mine.example", roles=[BUYER]
        )
    with_many = queries_per_page(client, made)

    assert {url: (with_one[url], with_many[url]) for url in with_one if with_one[url] != with_many[url]} == {}
