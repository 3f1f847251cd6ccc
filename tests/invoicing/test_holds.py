"""Invoice holds: typed (kind, reason code, source), placed and released only through invoicing's
services, at most one active hold per invoice and kind (the database refuses a second one too)."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from invoicing import selectors, services
from invoicing.errors import HoldAlreadyActive, HoldNotActive, InvoiceNotDraft
from invoicing.models import HoldKind, InvoiceHold
from otc.errors import InvalidInput

pytestmark = pytest.mark.django_db
D = Decimal


def test_a_hold_on_an_issued_invoice_is_placed_and_released_without_touching_its_amounts(clerk, shipment):
    invoice = services.invoice_shipments(shipments=[shipment], actor=clerk)

    held = services.place_hold(
        invoice=invoice, kind=HoldKind.QUERY, reason_code="price", text="Asks about the discount", actor=clerk
    )
    assert (held.kind, held.reason_code, held.text, held.placed_by, held.is_active) == (
        "query",
        "price",
        "Asks about the discount",
        clerk,
        True,
    )
    assert selectors.is_on_hold(invoice)
    released = services.release_hold(hold=held, actor=clerk, note="answered")
    assert (released.released_by, released.release_note, released.released_at >= released.placed_at) == (
        clerk,
        "answered",
        True,
    )
    assert not selectors.is_on_hold(invoice)
    invoice.refresh_from_db()
    assert (invoice.gross_total, invoice.open_amount) == (D("182.53"), D("182.53"))
    with pytest.raises(HoldNotActive):
        services.release_hold(hold=held, actor=clerk)
    with pytest.raises(InvalidInput):
        services.place_hold(invoice=invoice, kind=HoldKind.QUERY, reason_code=" ", actor=clerk)
    with pytest.raises(InvalidInput):
        services.place_hold(invoice=invoice, kind="gossip", reason_code="price", actor=clerk)


def test_two_active_holds_of_one_kind_are_refused_but_kinds_stack(clerk, shipment):
    invoice = services.invoice_shipments(shipments=[shipment], actor=clerk)
    first = services.place_hold(invoice=invoice, kind=HoldKind.MANUAL, reason_code="audit", actor=clerk)

    with pytest.raises(HoldAlreadyActive):
        services.place_hold(invoice=invoice, kind=HoldKind.MANUAL, reason_code="audit", actor=clerk)
    with pytest.raises(IntegrityError), transaction.atomic():
        InvoiceHold.objects.create(
            invoice=invoice, kind=HoldKind.MANUAL, reason_code="x", placed_by=clerk, placed_at=first.placed_at
        )
    services.place_hold(invoice=invoice, kind=HoldKind.QUERY, reason_code="price", actor=clerk)
    services.release_hold(hold=first, actor=clerk)
    again = services.place_hold(invoice=invoice, kind=HoldKind.MANUAL, reason_code="audit", actor=clerk)

    assert list(invoice.holds.filter(released_at__isnull=True).values_list("kind", flat=True).order_by("kind")) == [
        "manual",
        "query",
    ]
    assert again.pk != first.pk


def test_a_draft_is_not_held(clerk, customer):
    draft = services.create_manual_invoice(
        customer=customer,
        actor=clerk,
        lines=[services.ManualLine(description="x", quantity=D("1"), unit_price=D("10"), tax_rate=D("19"))],
        issue=False,
    )
    with pytest.raises(InvoiceNotDraft):
        services.place_hold(invoice=draft, kind=HoldKind.MANUAL, reason_code="audit", actor=clerk)
    assert not InvoiceHold.objects.exists()
