"""The doors customers and partners come through, as live: the partner's web shop orders through the
REST API with its key, buyers order and write to the service desk in the portal, signed in, and
customers answer a survey from the link in its mail. Each is a real request through the whole stack
(middleware, authentication, throttles, views, templates), served in process by Django's test client,
and timed: the run reports its slowest requests.
"""

import json
import time
from dataclasses import dataclass, field
from decimal import Decimal

from django.test import Client
from django.urls import resolve, reverse

from customers import services as customers
from customers.models import Customer, PortalRole
from inventory.models import Product
from orders.models import Order
from otc.models import User
from otc.services import create_api_key
from service.models import Ticket

SLOWEST_KEPT = 5
SHOP_KEY_NAME = "Simulated web shop"


class RequestRefused(Exception):
    """A simulated request was answered with another status than the one a working system gives."""


@dataclass
class Requests:
    """How many requests each door served, and the slowest of all."""

    served: dict[str, int] = field(default_factory=dict)
    slowest: list[tuple[float, str]] = field(default_factory=list)

    def record(self, door: str, seconds: float, what: str) -> None:
        self.served[door] = self.served.get(door, 0) + 1
        self.slowest = sorted([*self.slowest, (seconds, what)], reverse=True)[:SLOWEST_KEPT]


class Channels:
    def __init__(self, *, actor: User):
        _, key = create_api_key(name=SHOP_KEY_NAME, scopes=["orders:read", "orders:write"], actor=actor)
        self.actor = actor
        self.shop = Client(headers={"Authorization": f"Api-Key {key}"})
        self.portal: dict[int, User] = {}  # the buyer of each customer using the portal
        self.requests = Requests()

    def open_portal(self, customer: Customer, email: str) -> None:
        """The customer's buyer gets portal access (granted by staff, as on onboarding)."""
        self.portal[customer.pk] = customers.grant_portal_access(
            customer=customer, actor=self.actor, email=email, roles=[PortalRole.BUYER, PortalRole.ACCOUNTS_PAYABLE]
        )

    def _signed_in(self, customer: Customer) -> Client:
        """A browser of the customer's buyer, signed in for this visit (sessions expire between days)."""
        client = Client()
        client.force_login(self.portal[customer.pk])
        return client

    def order_through_api(self, customer: Customer, lines: list[tuple[Product, Decimal]], po_number: str) -> Order:
        body = {
            "customer": customer.pk,
            "po_number": po_number,
            "lines": [{"product": product.sku, "quantity": str(quantity)} for product, quantity in lines],
        }
        response = self._send(
            "api",
            self.shop,
            "/api/v1/orders/",
            data=json.dumps(body),
            content_type="application/json",
            expect=201,
            headers={"Idempotency-Key": f"shop-{po_number}"},
        )
        return Order.objects.get(number=response.json()["number"])

    def order_in_portal(self, customer: Customer, lines: list[tuple[Product, Decimal]], po_number: str) -> Order:
        client = self._signed_in(customer)
        for product, quantity in lines:
            self._send("portal", client, reverse("portal:cart-add"), data={"product": product.pk, "quantity": quantity})
        response = self._send("portal", client, reverse("portal:cart"), data={"po_number": po_number})
        return Order.objects.get(number=_landed_on(response, "portal:order"), customer=customer)

    def write_to_service_desk(
        self, customer: Customer, *, category: str, subject: str, body: str, order: Order
    ) -> Ticket:
        response = self._send(
            "portal",
            self._signed_in(customer),
            reverse("portal:ticket-new"),
            data={"category": category, "subject": subject, "body": body, "order": order.number},
        )
        return Ticket.objects.get(number=_landed_on(response, "portal:ticket"), customer=customer)

    def answer_survey(self, token: str, *, csat: int, comment: str) -> None:
        answer = {"csat": csat, "comment": comment}
        self._send("survey", Client(), reverse("survey-answer", args=[token]), data=answer, expect=200)

    def _send(self, door: str, client: Client, path: str, *, expect: int = 302, **options):
        started = time.perf_counter()
        response = client.post(path, **options)
        self.requests.record(door, time.perf_counter() - started, f"POST {path}")
        if response.status_code != expect:
            raise RequestRefused(f"POST {path}: {response.status_code}, not {expect}: {response.content[:500]!r}")
        return response


def _landed_on(response, view_name: str) -> str:
    """The number of the document a successful form redirects to (its page); anywhere else (the form
    again, the sign-in) means the portal refused."""
    landed = resolve(response["Location"].split("?", 1)[0])
    if landed.view_name != view_name:
        raise RequestRefused(f"The portal sent the user to {response['Location']}, not to {view_name}.")
    return landed.kwargs["number"]
