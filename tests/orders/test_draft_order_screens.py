"""Changing a draft order in the admin (its form, the running total) and over the API (PATCH): the same
service, the same rules: a price set by hand needs the permission and a reason, a confirmed order
stays read only and unchanged."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from orders import services
from orders.models import Order, OrderLine, TimelineKind
from tests.factories import StaffFactory, qty

pytestmark = pytest.mark.django_db

ADMIN_ORDERS = "/admin/orders/order/"
API_ORDERS = "/api/v1/orders/"
LineInput = services.LineInput


def override_permission() -> Permission:
    return Permission.objects.get(codename="override_price", content_type__app_label="orders")


@pytest.fixture
def seller(db):
    return StaffFactory(email="sam@otc.test", full_name="Sam Sales", groups=["sales"])


@pytest.fixture
def pricing_manager(db):
    manager = StaffFactory(email="olga@otc.test", full_name="Olga Override", groups=["sales"])
    manager.user_permissions.add(override_permission())
    return manager


@pytest.fixture
def draft(seller, customer, widget, manual):
    """5 widgets at 10.00 (line 1) and a manual at 19.99 (line 2): net 69.99, tax 10.90, gross 80.89."""
    return services.create_order(
        actor=seller, customer=customer, lines=[LineInput(widget, qty("5")), LineInput(manual, qty("1"))]
    )


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def draft_form(order: Order, rows: list[dict], **header) -> dict:
    """The draft's change form as posted: header fields, then one row per line (existing lines by id)."""
    data = {
        "po_number": order.po_number,
        "discount_percent": str(order.discount_percent),
        "notes": order.notes,
        "lines-TOTAL_FORMS": str(len(rows)),
        "lines-INITIAL_FORMS": str(sum(1 for row in rows if "id" in row)),
        "lines-MIN_NUM_FORMS": "1",
        "lines-MAX_NUM_FORMS": "1000",
        "timeline-TOTAL_FORMS": "0",  # the read-only timeline tab posts no rows
        "timeline-INITIAL_FORMS": "0",
        "_save": "Save",
        **header,
    }
    for index, row in enumerate(rows):
        values = {"order": order.pk, "discount_percent": "", "unit_price_override": "", "override_reason": ""} | row
        data |= {f"lines-{index}-{name}": value for name, value in values.items()}
    return data


def line_row(line: OrderLine, **changes) -> dict:
    return {
        "id": line.pk,
        "product": line.product_id,
        "quantity": str(line.quantity),
        "discount_percent": str(line.discount_percent),
    } | changes


# Admin


def test_a_draft_change_page_offers_its_lines_for_editing_with_a_running_total(seller, draft):
    page = signed_in(seller).get(f"{ADMIN_ORDERS}{draft.pk}/change/").content.decode()

    assert 'name="lines-0-quantity"' in page
    assert 'name="discount_percent"' in page
    assert f"/admin/orders/order/total/?order\\u003D{draft.pk}" in page  # in a script, escaped
    assert "Running total" in page
    assert 'name="lines-0-unit_price_override"' in page
    assert "Needs the permission to override prices." in page


def test_a_clerk_changes_a_draft_in_the_admin_and_it_is_priced_again(seller, draft, manual):
    first, second = draft.lines.order_by("line_no")
    form = draft_form(
        draft,
        [
            line_row(first, quantity="12", discount_percent="5"),
            line_row(second, DELETE="on"),
            {"product": manual.pk, "quantity": "3"},
        ],
        discount_percent="2",
    )

    response = signed_in(seller).post(f"{ADMIN_ORDERS}{draft.pk}/change/", form, follow=True)

    assert response.status_code == 200
    draft.refresh_from_db()
    assert (draft.net_total, draft.tax_total, draft.gross_total) == (
        Decimal("159.32"),
        Decimal("23.21"),
        Decimal("182.53"),
    )
    assert list(draft.lines.order_by("line_no").values_list("line_no", "quantity", "net_amount")) == [
        (1, Decimal("12"), Decimal("100.55")),
        (3, Decimal("3"), Decimal("58.77")),
    ]
    assert draft.timeline.filter(kind=TimelineKind.CHANGED, actor=seller).exists()
    assert f"Draft {draft.number} changed: 182.53 EUR." in response.content.decode()


def test_a_posted_price_from_someone_without_the_permission_is_ignored(seller, draft):
    first, second = draft.lines.order_by("line_no")
    form = draft_form(draft, [line_row(first, unit_price_override="1.00", override_reason="friend"), line_row(second)])

    signed_in(seller).post(f"{ADMIN_ORDERS}{draft.pk}/change/", form)

    first.refresh_from_db()
    assert (first.unit_price, first.price_overridden, first.price_rule) == (
        Decimal("10.00"),
        False,
        "price list 'List EUR'",
    )


def test_a_pricing_manager_overrides_a_price_with_a_reason(pricing_manager, draft):
    first, second = draft.lines.order_by("line_no")
    without_reason = draft_form(draft, [line_row(first, unit_price_override="8.50"), line_row(second)])
    client = signed_in(pricing_manager)

    refused = client.post(f"{ADMIN_ORDERS}{draft.pk}/change/", without_reason)

    assert refused.status_code == 200
    assert "Required with a price set by hand." in refused.content.decode()
    first.refresh_from_db()
    assert first.unit_price == Decimal("10.00")

    with_reason = draft_form(
        draft, [line_row(first, unit_price_override="8.50", override_reason="competitor offer"), line_row(second)]
    )
    client.post(f"{ADMIN_ORDERS}{draft.pk}/change/", with_reason)

    first.refresh_from_db()
    draft.refresh_from_db()
    assert (first.unit_price, first.net_amount) == (Decimal("8.50"), Decimal("42.50"))
    assert first.price_rule == "override by Olga Override: competitor offer, list price 10.0000"
    assert draft.gross_total == Decimal("71.97")  # 42.50 + 8.08 (8.075) + 19.99 + 1.40 (1.3993)


def test_the_running_total_is_what_saving_would_give(seller, draft, manual):
    first, second = draft.lines.order_by("line_no")
    form = draft_form(
        draft,
        [
            line_row(first, quantity="12", discount_percent="5"),
            line_row(second, DELETE="on"),
            {"product": manual.pk, "quantity": "3"},
        ],
        discount_percent="2",
    )

    total = signed_in(seller).post(f"{ADMIN_ORDERS}total/?order={draft.pk}", form).json()

    assert total == {"currency": "EUR", "net": "159.32", "tax": "23.21", "gross": "182.53"}
    draft.refresh_from_db()
    assert draft.gross_total == Decimal("80.89")  # the total writes nothing


def test_the_running_total_of_a_new_order_and_its_errors(seller, customer, widget):
    client = signed_in(seller)
    form = {
        "customer": customer.pk,
        "currency": "",
        "discount_percent": "0",
        "lines-TOTAL_FORMS": "2",
        "lines-0-product": widget.pk,
        "lines-0-quantity": "10",
        "lines-1-product": "",
        "lines-1-quantity": "",
    }

    assert client.post(f"{ADMIN_ORDERS}total/", form).json() == {
        "currency": "EUR",
        "net": "90.00",
        "tax": "17.10",
        "gross": "107.10",
    }
    bad = client.post(f"{ADMIN_ORDERS}total/", form | {"lines-0-quantity": "-1"})
    assert bad.status_code == 422
    assert "quantity" in bad.json()["error"]
    assert client.post(f"{ADMIN_ORDERS}total/", form | {"customer": ""}).status_code == 400


def test_a_confirmed_order_stays_read_only_in_the_admin(seller, confirmed_order):
    client = signed_in(seller)
    page = client.get(f"{ADMIN_ORDERS}{confirmed_order.pk}/change/").content.decode()
    line = confirmed_order.lines.order_by("line_no").first()

    response = client.post(
        f"{ADMIN_ORDERS}{confirmed_order.pk}/change/", draft_form(confirmed_order, [line_row(line, quantity="1")])
    )

    assert 'name="lines-0-quantity"' not in page
    assert 'name="_save"' not in page
    assert "Running total" not in page
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.quantity == Decimal("12")
    assert client.post(f"{ADMIN_ORDERS}total/?order={confirmed_order.pk}", {}).status_code == 409


# API


def test_patch_changes_a_draft_and_prices_it_again(api_client_for, draft):
    partner = api_client_for("orders:read", "orders:write")

    response = partner.patch(
        f"{API_ORDERS}{draft.number}/",
        {
            "discount_percent": "2",
            "reason": "Customer called",
            "lines": [
                {"line_no": 1, "product": "WIDGET", "quantity": "12", "discount_percent": "5"},
                {"product": "MANUAL", "quantity": "3"},
            ],
        },
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["net_total"], body["tax_total"], body["gross_total"]) == ("159.32", "23.21", "182.53")
    assert [(line["line_no"], line["net_amount"]) for line in body["lines"]] == [(1, "100.55"), (3, "58.77")]
    change = draft.timeline.get(kind=TimelineKind.CHANGED)
    assert change.detail.endswith("Customer called")


def test_patch_with_an_override_needs_the_permission_and_a_reason(api_client_for, draft):
    partner = api_client_for("orders:read", "orders:write")
    override = {"line_no": 1, "product": "WIDGET", "quantity": "5", "unit_price": "8.50"}
    url = f"{API_ORDERS}{draft.number}/"

    refused = partner.patch(url, {"lines": [override | {"override_reason": "deal"}]}, format="json")

    assert refused.status_code == 403
    assert refused["Content-Type"].startswith("application/problem+json")
    assert refused.json()["code"] == "price_override_not_allowed"
    assert draft.lines.count() == 2
    assert draft.lines.get(line_no=1).unit_price == Decimal("10.00")

    partner.api_key.user.user_permissions.add(override_permission())
    without_reason = partner.patch(url, {"lines": [override]}, format="json")
    assert without_reason.status_code == 422
    assert without_reason.json()["code"] == "price_override_reason_required"

    accepted = partner.patch(url, {"lines": [override | {"override_reason": "deal"}]}, format="json")
    assert accepted.status_code == 200, accepted.json()
    (line,) = accepted.json()["lines"]
    assert (line["unit_price"], line["price_overridden"], line["net_amount"]) == ("8.5000", True, "42.50")
    assert line["price_rule"].endswith(": deal, list price 10.0000")


def test_patch_on_a_confirmed_order_is_a_conflict_and_changes_nothing(api_client_for, confirmed_order):
    partner = api_client_for("orders:read", "orders:write")
    before = list(confirmed_order.lines.values_list("quantity", "net_amount"))

    response = partner.patch(
        f"{API_ORDERS}{confirmed_order.number}/",
        {"lines": [{"line_no": 1, "product": "WIDGET", "quantity": "1"}]},
        format="json",
    )

    assert response.status_code == 409
    assert response.json()["code"] == "order_not_editable"
    assert list(confirmed_order.lines.values_list("quantity", "net_amount")) == before


def test_patch_needs_the_write_scope_and_names_unknown_fields(api_client_for, draft):
    reader = api_client_for("orders:read")
    writer = api_client_for("orders:read", "orders:write")

    assert reader.patch(f"{API_ORDERS}{draft.number}/", {"notes": "x"}, format="json").status_code == 403
    unknown = writer.patch(f"{API_ORDERS}{draft.number}/", {"customer": 1}, format="json")
    assert unknown.status_code == 422
    noted = writer.patch(f"{API_ORDERS}{draft.number}/", {"notes": "ring twice"}, format="json")
    assert noted.status_code == 200
    assert noted.json()["notes"] == "ring twice"
