"""Changing a draft order before it is confirmed: lines added, changed and removed, priced and taxed
again exactly as entry prices them; a price set by hand needs the permission and a reason and is
recorded in the line's price rule; a confirmed order cannot be changed; every change is audited."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from pghistory.models import Events

from orders import services
from orders.errors import OrderNotEditable, PriceOverrideNotAllowed, PriceOverrideReasonRequired
from orders.models import Order, OrderLine, OrderStatus, OrderTimelineEntry, TimelineKind
from otc.errors import InvalidInput
from tests.factories import StaffFactory, qty

pytestmark = pytest.mark.django_db
LineInput, DraftLine = services.LineInput, services.DraftLineInput


@pytest.fixture
def pricing_manager(db):
    """Sales staff who may override prices."""
    manager = StaffFactory(email="olga@otc.test", full_name="Olga Override", groups=["sales"])
    manager.user_permissions.add(Permission.objects.get(codename="override_price", content_type__app_label="orders"))
    return manager


@pytest.fixture
def draft(clerk, customer, widget, manual):
    """5 widgets at 10.00 (line 1), a manual at 19.99 (line 2), one more widget (line 3); no discount."""
    return services.create_order(
        actor=clerk,
        customer=customer,
        lines=[LineInput(widget, qty("5")), LineInput(manual, qty("1")), LineInput(widget, qty("1"))],
    )


def snapshot(order: Order) -> tuple:
    """Everything a refused change must leave as it was."""
    order.refresh_from_db()
    lines = list(
        OrderLine.objects.filter(order=order).values_list(
            "line_no", "product__sku", "quantity", "unit_price", "price_rule", "net_amount", "tax_amount"
        )
    )
    timeline = list(OrderTimelineEntry.objects.filter(order=order).values_list("kind", flat=True))
    return order.status, order.discount_percent, order.net_total, order.tax_total, order.gross_total, lines, timeline


def test_a_draft_is_repriced_and_retaxed_to_the_cent_as_entry_would_price_it(clerk, draft, widget, manual):
    first = draft.lines.get(line_no=1)

    order = services.update_draft_order(
        order=draft,
        actor=clerk,
        discount_percent=Decimal("2"),
        reason="Customer called: more widgets, the manual three times",
        lines=[
            DraftLine(widget, qty("12"), Decimal("5"), line_no=1),  # 12 × 9.00 (break) −5% −2% = 100.548 -> 100.55
            DraftLine(manual, qty("3")),  # new line: 3 × 19.99 −2% = 58.7706 -> 58.77
        ],  # lines 2 and 3 removed
    )

    lines = list(order.lines.order_by("line_no"))
    assert [(line.line_no, line.product.sku, line.quantity) for line in lines] == [
        (1, "WIDGET", Decimal("12")),
        (4, "MANUAL", Decimal("3")),
    ]
    assert lines[0].pk == first.pk  # changed in place, not replaced
    assert (lines[0].unit_price, lines[0].price_rule, lines[0].net_amount, lines[0].tax_amount) == (
        Decimal("9.00"),
        "price list 'List EUR' from 10",
        Decimal("100.55"),
        Decimal("19.10"),
    )
    assert (lines[1].net_amount, lines[1].tax_rate, lines[1].tax_amount) == (
        Decimal("58.77"),
        Decimal("7.00"),
        Decimal("4.11"),
    )
    order.refresh_from_db()
    assert (order.discount_percent, order.net_total, order.tax_total, order.gross_total) == (
        Decimal("2"),
        Decimal("159.32"),
        Decimal("23.21"),
        Decimal("182.53"),
    )
    entered = services.create_order(
        actor=clerk,
        customer=order.customer,
        discount_percent=Decimal("2"),
        lines=[LineInput(widget, qty("12"), Decimal("5")), LineInput(manual, qty("3"))],
    )
    assert (entered.net_total, entered.tax_total) == (order.net_total, order.tax_total)
    change = order.timeline.get(kind=TimelineKind.CHANGED)
    assert change.actor == clerk
    assert change.detail == (
        "Changed line 1, added line 4, removed line 2, 3; gross 182.53 EUR; "
        "Customer called: more widgets, the manual three times"
    )


def test_tax_is_rounded_once_per_vat_group_not_per_line(pricing_manager, draft, widget, manual):
    order = services.update_draft_order(
        order=draft,
        actor=pricing_manager,
        lines=[
            DraftLine(widget, qty("1"), line_no=1),  # 10.00 at 19% = 1.90
            DraftLine(manual, qty("1"), unit_price=Decimal("0.07"), override_reason="sample", line_no=2),
            DraftLine(manual, qty("1"), unit_price=Decimal("0.07"), override_reason="sample", line_no=3),
        ],  # 7%: 0.14 × 7% = 0.0098 -> 0.01 for the group; per line it would be 0.0049 -> 0.00 twice
    )

    order.refresh_from_db()
    assert (order.net_total, order.tax_total, order.gross_total) == (
        Decimal("10.14"),
        Decimal("1.91"),
        Decimal("12.05"),
    )
    reduced = order.lines.filter(tax_rate=Decimal("7.00"))
    assert sorted(line.tax_amount for line in reduced) == [Decimal("0.00"), Decimal("0.01")]


def test_a_price_override_is_recorded_in_the_price_rule_and_audited(pricing_manager, draft, widget):
    order = services.update_draft_order(
        order=draft,
        actor=pricing_manager,
        reason="matched a competitor's offer",
        lines=[
            DraftLine(widget, qty("5"), unit_price=Decimal("8.50"), override_reason="competitor offer", line_no=1),
            DraftLine(widget, qty("1"), line_no=3),
        ],
    )

    line = order.lines.get(line_no=1)
    assert (line.unit_price, line.price_overridden, line.net_amount, line.tax_amount) == (
        Decimal("8.50"),
        True,
        Decimal("42.50"),
        Decimal("8.08"),  # group: (42.50 + 10.00) × 19% = 9.975 -> 9.98, shared 8.075 / 1.90
    )
    assert line.price_rule == "override by Olga Override: competitor offer, list price 10.0000"
    order.refresh_from_db()
    assert (order.net_total, order.tax_total, order.gross_total) == (
        Decimal("52.50"),
        Decimal("9.98"),
        Decimal("62.48"),
    )
    update = Events.objects.tracks(line).filter(pgh_label="update").get()
    assert update.pgh_context["user"] == pricing_manager.pk
    assert update.pgh_context["reason"] == "change draft order: matched a competitor's offer"
    removed = Events.objects.filter(pgh_label="delete", pgh_obj_model="orders.OrderLine").get()
    assert removed.pgh_context["reason"] == "change draft order: matched a competitor's offer"


def test_an_override_without_the_permission_is_refused_and_nothing_changes(clerk, draft, widget):
    before = snapshot(draft)

    with pytest.raises(PriceOverrideNotAllowed) as error:
        services.update_draft_order(
            order=draft,
            actor=clerk,
            discount_percent=Decimal("10"),
            lines=[DraftLine(widget, qty("5"), unit_price=Decimal("1.00"), override_reason="friend", line_no=1)],
        )

    assert error.value.status == 403
    assert "unit_price" in error.value.fields
    assert snapshot(draft) == before


def test_an_override_without_a_reason_is_refused_and_nothing_changes(pricing_manager, draft, widget):
    before = snapshot(draft)

    with pytest.raises(PriceOverrideReasonRequired) as error:
        services.update_draft_order(
            order=draft,
            actor=pricing_manager,
            lines=[DraftLine(widget, qty("5"), unit_price=Decimal("1.00"), override_reason="  ", line_no=1)],
        )

    assert error.value.status == 422
    assert snapshot(draft) == before


def test_a_clerk_without_the_permission_may_change_a_line_that_keeps_its_override(
    clerk, pricing_manager, draft, widget
):
    services.update_draft_order(
        order=draft,
        actor=pricing_manager,
        lines=[DraftLine(widget, qty("5"), unit_price=Decimal("8.50"), override_reason="loyalty", line_no=1)],
    )

    order = services.update_draft_order(
        order=draft,
        actor=clerk,
        lines=[DraftLine(widget, qty("20"), unit_price=Decimal("8.50"), line_no=1)],
    )

    line = order.lines.get()
    assert (line.quantity, line.unit_price, line.net_amount) == (Decimal("20"), Decimal("8.50"), Decimal("170.00"))
    assert line.price_rule == "override by Olga Override: loyalty, list price 10.0000"
    order = services.update_draft_order(order=draft, actor=clerk, discount_percent=Decimal("10"))
    line.refresh_from_db()
    assert (line.unit_price, line.price_overridden, order.net_total) == (Decimal("8.50"), True, Decimal("153.00"))
    with pytest.raises(PriceOverrideNotAllowed):
        services.update_draft_order(
            order=draft, actor=clerk, lines=[DraftLine(widget, qty("20"), unit_price=Decimal("8.00"), line_no=1)]
        )


def test_dropping_the_override_prices_the_line_by_the_rules_again(pricing_manager, clerk, draft, widget):
    services.update_draft_order(
        order=draft,
        actor=pricing_manager,
        lines=[DraftLine(widget, qty("5"), unit_price=Decimal("8.50"), override_reason="loyalty", line_no=1)],
    )

    order = services.update_draft_order(order=draft, actor=clerk, lines=[DraftLine(widget, qty("5"), line_no=1)])

    line = order.lines.get()
    assert (line.unit_price, line.price_overridden, line.price_rule, order.gross_total) == (
        Decimal("10.00"),
        False,
        "price list 'List EUR'",
        Decimal("59.50"),
    )


def test_a_confirmed_order_cannot_be_changed_and_stays_as_it_was(clerk, confirmed_order, widget):
    before = snapshot(confirmed_order)

    with pytest.raises(OrderNotEditable) as error:
        services.update_draft_order(
            order=confirmed_order, actor=clerk, lines=[DraftLine(widget, qty("1"), line_no=1)], reason="more"
        )

    assert error.value.status == 409
    assert "is confirmed; only a draft can be changed" in error.value.message
    assert snapshot(confirmed_order) == before
    assert before[0] == OrderStatus.CONFIRMED


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ([], "lines"),
        ([{"quantity": qty("1"), "line_no": 9}], "line_no"),
        ([{"quantity": qty("1"), "line_no": 1}, {"quantity": qty("2"), "line_no": 1}], "line_no"),
        ([{"quantity": "0", "line_no": 1}], "quantity"),
        ([{"quantity": qty("1"), "unit_price": "-1", "override_reason": "x", "line_no": 1}], "unit_price"),
        ([{"quantity": qty("1"), "unit_price": "1.001", "override_reason": "x", "line_no": 1}], "unit_price"),
    ],
)
def test_bad_lines_are_refused_and_nothing_changes(pricing_manager, draft, widget, given, field):
    lines = [DraftLine(widget, **line) for line in given]
    before = snapshot(draft)

    with pytest.raises(InvalidInput) as error:
        services.update_draft_order(order=draft, actor=pricing_manager, lines=lines)

    assert field in error.value.fields
    assert snapshot(draft) == before


def test_an_unchanged_draft_records_no_change(clerk, draft, widget, manual):
    same = [
        DraftLine(widget, qty("5"), line_no=1),
        DraftLine(manual, qty("1"), line_no=2),
        DraftLine(widget, qty("1"), line_no=3),
    ]
    before = snapshot(draft)

    services.update_draft_order(order=draft, actor=clerk, lines=same)

    assert snapshot(draft) == before
