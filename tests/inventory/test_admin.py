"""The inventory admin: products are written through the service, stock changes only by receipts and
adjustments that call the stock services (a refused one changes nothing), the move ledger cannot be
edited, and product and price files are imported whole or not at all."""

import csv
import io
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from pghistory.models import Events

from inventory import services
from inventory.models import PriceListItem, Product, StockLevel, StockMove
from otc.models import User
from tests.factories import StaffFactory, make_catalogue, make_product

pytestmark = pytest.mark.django_db

PRODUCTS = "/admin/inventory/product/"
LEVELS = "/admin/inventory/stocklevel/"
MOVES = "/admin/inventory/stockmove/"
PRICES = "/admin/inventory/pricelistitem/"
CSV_FORMAT = "0"


@pytest.fixture
def keeper(db):
    """A warehouse lead: the admin role may change the catalogue and move stock."""
    return StaffFactory(email="wanda@otc.test", full_name="Wanda Warehouse", groups=["admin"])


@pytest.fixture
def catalogue(keeper):
    return make_catalogue(actor=keeper)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def level_of(product, warehouse) -> tuple[Decimal, Decimal]:
    level = StockLevel.objects.get(product=product, warehouse=warehouse)
    return level.on_hand, level.reserved


def csv_file(headers, rows, name="file.csv") -> SimpleUploadedFile:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows(rows)
    return SimpleUploadedFile(name, buffer.getvalue().encode(), content_type="text/csv")


def import_through_admin(client: Client, url: str, upload: SimpleUploadedFile):
    preview = client.post(f"{url}import/", {"import_file": upload, "format": CSV_FORMAT, "resource": "0"})
    assert preview.status_code == 200
    confirm_form = preview.context.get("confirm_form")
    if confirm_form is None:
        return preview, None
    return preview, client.post(f"{url}process_import/", confirm_form.initial)


# -- products ----------------------------------------------------------------------------------------


def test_adding_a_product_writes_it_through_the_service_with_an_audit_row(keeper, catalogue):
    standard = catalogue[0]
    response = signed_in(keeper).post(
        f"{PRODUCTS}add/",
        {
            "sku": "BOLT-M8",
            "name": "Bolt M8",
            "description": "",
            "gtin": "4006381333931",
            "kind": "stocked",
            "unit": "pc",
            "tax_category": standard.pk,
            "is_active": "on",
            "_save": "Save",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    product = Product.objects.get(sku="BOLT-M8")
    assert (product.name, product.gtin, product.tax_category) == ("Bolt M8", "4006381333931", standard)
    created = Events.objects.tracks(product).get(pgh_label="insert")
    assert created.pgh_context["user"] == keeper.pk


def test_a_bad_gtin_in_the_product_form_is_shown_and_nothing_is_written(keeper, catalogue):
    response = signed_in(keeper).post(
        f"{PRODUCTS}add/",
        {"sku": "BOLT-M8", "name": "Bolt M8", "gtin": "123", "kind": "stocked", "unit": "pc"}
        | {"tax_category": catalogue[0].pk, "_save": "Save"},
    )

    assert response.status_code == 200
    assert "gtin" in response.context["adminform"].form.errors
    assert not Product.objects.exists()


def test_changing_a_product_keeps_its_sku_and_goes_through_the_service(keeper, catalogue):
    product = make_product(actor=keeper, sku="NUT-M8", price="0.10")
    response = signed_in(keeper).post(
        f"{PRODUCTS}{product.pk}/change/",
        {"name": "Hex nut M8", "description": "", "gtin": "", "kind": "stocked", "unit": "pc"}
        | {"tax_category": catalogue[0].pk, "_save": "Save"},
    )

    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.sku, product.name, product.is_active) == ("NUT-M8", "Hex nut M8", False)


def test_the_product_list_searches_by_sku_name_and_gtin(keeper):
    make_product(actor=keeper, sku="BOLT-M8", price="0.20")
    make_product(actor=keeper, sku="WASHER", price="0.05")
    page = signed_in(keeper).get(PRODUCTS, {"q": "bolt"}).content.decode()

    assert "BOLT-M8" in page
    assert "WASHER" not in page


# -- stock ----------------------------------------------------------------------------------------------


def test_receiving_stock_through_the_admin_adds_to_the_level_and_the_ledger(keeper, catalogue):
    product = make_product(actor=keeper, sku="BOLT-M8", price="0.20", stock="5")
    warehouse = catalogue[1]

    response = signed_in(keeper).post(
        f"{LEVELS}receive/",
        {"product": product.pk, "warehouse": warehouse.pk, "quantity": "20", "reference": "DN-4711", "reason": ""},
    )

    assert response.status_code == 302
    assert level_of(product, warehouse) == (Decimal("25"), Decimal("0"))
    move = StockMove.objects.filter(product=product).first()
    assert (move.kind, move.on_hand_delta, move.reference, move.actor) == ("receipt", Decimal("20"), "DN-4711", keeper)
    assert any("Received 20 of BOLT-M8" in text for text in messages_of(response))


def test_receiving_a_zero_quantity_is_refused_by_the_service_and_changes_nothing(keeper, catalogue):
    product = make_product(actor=keeper, sku="BOLT-M8", price="0.20", stock="5")

    response = signed_in(keeper).post(
        f"{LEVELS}receive/", {"product": product.pk, "warehouse": catalogue[1].pk, "quantity": "0"}
    )

    assert response.status_code == 200
    assert "quantity" in response.context["form"].errors
    assert level_of(product, catalogue[1]) == (Decimal("5"), Decimal("0"))


def test_an_adjustment_needs_a_reason_and_is_recorded_with_it(keeper, catalogue):
    product = make_product(actor=keeper, sku="BOLT-M8", price="0.20", stock="10")
    warehouse = catalogue[1]
    client = signed_in(keeper)

    without = client.post(
        f"{LEVELS}adjust/", {"product": product.pk, "warehouse": warehouse.pk, "quantity_delta": "-2", "reason": ""}
    )
    assert without.status_code == 200
    assert "reason" in without.context["form"].errors
    assert level_of(product, warehouse) == (Decimal("10"), Decimal("0"))

    done = client.post(
        f"{LEVELS}adjust/",
        {"product": product.pk, "warehouse": warehouse.pk, "quantity_delta": "-2", "reason": "Broken in transit"},
    )
    assert done.status_code == 302
    assert level_of(product, warehouse) == (Decimal("8"), Decimal("0"))
    move = StockMove.objects.filter(product=product, kind="adjustment").get()
    assert (move.on_hand_delta, move.reason, move.actor) == (Decimal("-2"), "Broken in transit", keeper)


def test_an_adjustment_that_would_take_reserved_stock_is_refused_and_changes_nothing(keeper, catalogue):
    product = make_product(actor=keeper, sku="BOLT-M8", price="0.20", stock="10")
    warehouse = catalogue[1]
    services.reserve_stock(
        requests=[services.StockRequest(product.pk, warehouse.pk, Decimal("8"), "order:SO-1")],
        actor=keeper,
        allow_partial=False,
    )
    moves_before = StockMove.objects.count()

    response = signed_in(keeper).post(
        f"{LEVELS}adjust/",
        {"product": product.pk, "warehouse": warehouse.pk, "quantity_delta": "-5", "reason": "Stock count"},
    )

    assert response.status_code == 200
    assert "would take stock reserved for orders" in " ".join(response.context["form"].non_field_errors())
    assert level_of(product, warehouse) == (Decimal("10"), Decimal("8"))
    assert StockMove.objects.count() == moves_before


def test_stock_levels_list_on_hand_reserved_and_available_by_warehouse(keeper, catalogue):
    product = make_product(actor=keeper, sku="BOLT-M8", price="0.20", stock="10")
    services.reserve_stock(
        requests=[services.StockRequest(product.pk, catalogue[1].pk, Decimal("3"), "order:SO-1")],
        actor=keeper,
        allow_partial=False,
    )

    response = signed_in(keeper).get(LEVELS, {"warehouse__id__exact": catalogue[1].pk})

    assert response.status_code == 200
    row = response.context["cl"].result_list[0]
    assert (row.on_hand, row.reserved, row.available_quantity) == (Decimal("10"), Decimal("3"), Decimal("7"))
    page = response.content.decode()
    assert "Receive stock" in page
    assert "Adjust stock" in page


def test_a_sales_user_cannot_move_stock(catalogue):
    sales = StaffFactory(groups=["sales"])
    product = make_product(actor=sales, sku="BOLT-M8", price="0.20", stock="10")

    response = signed_in(sales).post(
        f"{LEVELS}receive/", {"product": product.pk, "warehouse": catalogue[1].pk, "quantity": "5"}
    )

    assert response.status_code == 403
    assert level_of(product, catalogue[1]) == (Decimal("10"), Decimal("0"))


def test_the_move_ledger_cannot_be_added_changed_or_deleted(keeper, catalogue):
    make_product(actor=keeper, sku="BOLT-M8", price="0.20", stock="10")
    move = StockMove.objects.get()
    client = signed_in(keeper)

    assert client.get(MOVES).status_code == 200
    assert client.get(f"{MOVES}add/").status_code == 403
    change = client.post(f"{MOVES}{move.pk}/change/", {"reason": "tampered", "on_hand_delta": "99"})
    assert client.post(f"{MOVES}{move.pk}/delete/", {"post": "yes"}).status_code == 403
    move.refresh_from_db()
    assert change.status_code in (302, 403)
    assert (move.reason, move.on_hand_delta) == ("", Decimal("10"))
    page = client.get(f"{MOVES}{move.pk}/change/").content.decode()
    assert 'name="_save"' not in page


def test_the_move_ledger_filters_by_kind_and_warehouse(keeper, catalogue):
    product = make_product(actor=keeper, sku="BOLT-M8", price="0.20", stock="10")
    services.adjust_stock(
        product=product, warehouse=catalogue[1], quantity_delta=Decimal("-1"), reason="Count", actor=keeper
    )

    response = signed_in(keeper).get(MOVES, {"kind__exact": "adjustment", "warehouse__id__exact": catalogue[1].pk})

    assert [move.kind for move in response.context["cl"].result_list] == ["adjustment"]


# -- import / export ----------------------------------------------------------------------------------


PRODUCT_HEADERS = ["sku", "name", "unit", "kind", "tax_category", "gtin"]


def test_a_good_product_file_creates_every_product_through_the_service(keeper, catalogue):
    rows = [
        ["BOLT-M8", "Bolt M8", "pc", "stocked", "standard", "4006381333931"],
        ["INSTALL", "Installation", "h", "service", "standard", ""],
    ]

    _, confirmed = import_through_admin(signed_in(keeper), PRODUCTS, csv_file(PRODUCT_HEADERS, rows))

    assert confirmed.status_code == 302
    products = {p.sku: p for p in Product.objects.all()}
    assert set(products) == {"BOLT-M8", "INSTALL"}
    assert (products["INSTALL"].kind, products["INSTALL"].unit, products["INSTALL"].is_active) == ("service", "h", True)
    created = Events.objects.tracks(products["BOLT-M8"]).get(pgh_label="insert")
    assert created.pgh_context["user"] == keeper.pk


def test_a_product_file_with_one_bad_row_writes_nothing_and_reports_that_row(keeper, catalogue):
    rows = [
        ["BOLT-M8", "Bolt M8", "pc", "stocked", "standard", ""],
        ["NUT-M8", "Nut M8", "pc", "stocked", "standard", "123"],
        ["WASHER", "Washer", "pc", "stocked", "standard", ""],
    ]

    preview, confirmed = import_through_admin(signed_in(keeper), PRODUCTS, csv_file(PRODUCT_HEADERS, rows))

    assert confirmed is None
    result = preview.context["result"]
    assert [(row.number, list(row.field_specific_errors)) for row in result.invalid_rows] == [(2, ["gtin"])]
    assert not Product.objects.exists()


def test_an_unknown_tax_category_is_reported_on_its_column(keeper, catalogue):
    rows = [["BOLT-M8", "Bolt M8", "pc", "stocked", "luxury", ""]]

    preview, confirmed = import_through_admin(signed_in(keeper), PRODUCTS, csv_file(PRODUCT_HEADERS, rows))

    assert confirmed is None
    assert "No tax category with the code luxury." in preview.content.decode()
    assert not Product.objects.exists()


def test_price_items_import_adds_breaks_and_updates_prices_and_rejects_a_bad_file_whole(keeper, catalogue):
    price_list = catalogue[2]
    product = make_product(actor=keeper, sku="BOLT-M8", price="0.20")
    headers = ["price_list", "product", "min_quantity", "unit_price"]
    client = signed_in(keeper)

    bad = [[price_list.pk, "BOLT-M8", "100", "0.15"], [price_list.pk, "NOPE", "1", "1.00"]]
    preview, confirmed = import_through_admin(client, PRICES, csv_file(headers, bad))
    assert confirmed is None
    assert [row.number for row in preview.context["result"].invalid_rows] == [2]
    assert PriceListItem.objects.filter(product=product).count() == 1

    good = [[price_list.pk, "BOLT-M8", "1", "0.22"], [price_list.pk, "BOLT-M8", "100", "0.15"]]
    _, confirmed = import_through_admin(client, PRICES, csv_file(headers, good))
    assert confirmed.status_code == 302
    prices = dict(PriceListItem.objects.filter(product=product).values_list("min_quantity", "unit_price"))
    assert prices == {Decimal("1"): Decimal("0.22"), Decimal("100"): Decimal("0.15")}


def test_product_export_writes_the_master_data_columns(keeper, catalogue):
    make_product(actor=keeper, sku="BOLT-M8", price="0.20")

    response = signed_in(keeper).post(f"{PRODUCTS}export/", {"format": CSV_FORMAT, "resource": "0"})

    assert response.status_code == 200
    lines = response.content.decode().splitlines()
    assert lines[0].startswith("sku,name")
    assert lines[1].startswith("BOLT-M8,Product BOLT-M8")


@pytest.mark.parametrize(
    "url",
    [
        PRODUCTS,
        f"{PRODUCTS}add/",
        LEVELS,
        f"{LEVELS}receive/",
        f"{LEVELS}adjust/",
        MOVES,
        PRICES,
        *(f"/admin/inventory/{model}/" for model in ("pricelist", "customerprice", "warehouse", "taxcategory")),
        *(f"/admin/inventory/{model}/" for model in ("taxrate", "reorderpoint")),
    ],
)
def test_inventory_admin_pages_render(keeper, catalogue, url):
    make_product(actor=keeper, sku="BOLT-M8", price="0.20", stock="3")

    assert signed_in(keeper).get(url).status_code == 200
