"""Orders placed by customers in the portal. They go through orders' own services, so the PO-number
rule, pricing, the credit check (hold or confirm), reservations and backorders, and the confirmation
email behave exactly as for orders staff or partner systems enter."""

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from customers.models import Customer
from inventory.models import Product
from orders import services as orders
from orders.models import Order
from otc.errors import InvalidInput
from otc.models import User


@transaction.atomic
def place_order(
    *,
    customer: Customer,
    actor: User,
    lines: list[tuple[Product, Decimal]],
    po_number: str = "",
    requested_delivery_date: date | None = None,
) -> Order:
    """Enter and confirm the order in one transaction: it is confirmed (stock reserved, the rest on
    backorder) or waits on credit hold, as the credit check decides."""
    if requested_delivery_date is not None and requested_delivery_date < timezone.localdate():
        raise InvalidInput(
            "The requested delivery date is in the past.",
            fields={"requested_delivery_date": ["Choose today or a later day."]},
        )
    order = orders.create_order(
        actor=actor,
        customer=customer,
        lines=[orders.LineInput(product, quantity) for product, quantity in lines],
        po_number=po_number.strip(),
        requested_delivery_date=requested_delivery_date,
    )
    return orders.confirm_order(order=order, actor=actor)
