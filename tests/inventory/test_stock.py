from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from inventory import services
from inventory.errors import InsufficientStock
from inventory.models import ReorderPoint, StockLevel, StockMove
from inventory.selectors import stock_discrepancies
from inventory.services import StockRequest
from otc.errors import InvalidInput
from tests.factories import StaffFactory, make_catalogue, make_product
from workflows.handlers import HANDLERS
from workflows.models import Delivery, OutboxEvent
from workflows.services import dispatch_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def warehouse(clerk):
    return make_catalogue(actor=clerk)[1]


def level(product, warehouse) -> StockLevel:
    return StockLevel.objects.get(product=product, warehouse=warehouse)


def test_receipt_and_adjustment_are_moves_and_levels_follow(clerk, warehouse):
    product = make_product(actor=clerk, sku="BOLT-8", price="0.50", stock="100")

    services.adjust_stock(
        product=product, warehouse=warehouse, quantity_delta=Decimal("-2.5"), reason="count", actor=clerk
    )

    assert level(product, warehouse).on_hand == Decimal("97.500")
    assert list(StockMove.objects.filter(product=product).order_by("pk").values_list("kind", "on_hand_delta")) == [
        ("receipt", Decimal("100.000")),
        ("adjustment", Decimal("-2.500")),
    ]
    assert stock_discrepancies() == []


def test_adjustment_needs_a_reason_and_cannot_take_reserved_stock(clerk, warehouse):
    product = make_product(actor=clerk, sku="NUT-8", price="0.20", stock="10")
    services.reserve_stock(
        requests=[StockRequest(product.pk, warehouse.pk, Decimal("8"), "order:1")], actor=clerk, allow_partial=False
    )

    with pytest.raises(InvalidInput):
        services.adjust_stock(
            product=product, warehouse=warehouse, quantity_delta=Decimal("-1"), reason=" ", actor=clerk
        )
    with pytest.raises(InsufficientStock):
        services.adjust_stock(
            product=product, warehouse=warehouse, quantity_delta=Decimal("-3"), reason="broken", actor=clerk
        )

    assert (level(product, warehouse).on_hand, level(product, warehouse).reserved) == (Decimal("10"), Decimal("8"))
    assert StockMove.objects.filter(product=product, kind="adjustment").count() == 0


def test_reservation_refuses_more_than_available_and_reserves_nothing(clerk, warehouse):
    bolt = make_product(actor=clerk, sku="BOLT-10", price="0.50", stock="5")
    nut = make_product(actor=clerk, sku="NUT-10", price="0.20", stock="50")

    with pytest.raises(InsufficientStock, match="BOLT-10: 1 short"), transaction.atomic():
        services.reserve_stock(
            requests=[
                StockRequest(nut.pk, warehouse.pk, Decimal("10")),
                StockRequest(bolt.pk, warehouse.pk, Decimal("6")),
            ],
            actor=clerk,
            allow_partial=False,
        )

    assert level(bolt, warehouse).reserved == 0
    assert level(nut, warehouse).reserved == 0
    assert not StockMove.objects.filter(kind="reservation").exists()


def test_partial_reservation_takes_what_is_there(clerk, warehouse):
    bolt = make_product(actor=clerk, sku="BOLT-12", price="0.50", stock="5")

    granted = services.reserve_stock(
        requests=[StockRequest(bolt.pk, warehouse.pk, Decimal("4")), StockRequest(bolt.pk, warehouse.pk, Decimal("3"))],
        actor=clerk,
        allow_partial=True,
    )

    assert granted == {(bolt.pk, warehouse.pk): Decimal("5.000")}
    assert level(bolt, warehouse).reserved == Decimal("5")


def test_the_database_refuses_negative_available_stock_even_past_the_service(clerk, warehouse):
    bolt = make_product(actor=clerk, sku="BOLT-14", price="0.50", stock="5")

    with pytest.raises(DatabaseError), transaction.atomic():
        StockLevel.objects.filter(product=bolt).update(reserved=Decimal("6"))


def test_stock_moves_are_append_only(clerk, warehouse):
    bolt = make_product(actor=clerk, sku="BOLT-16", price="0.50", stock="5")
    move = StockMove.objects.get(product=bolt)

    with pytest.raises(DatabaseError), transaction.atomic():
        StockMove.objects.filter(pk=move.pk).update(on_hand_delta=Decimal("500"))
    with pytest.raises(DatabaseError), transaction.atomic():
        move.delete()
    assert StockMove.objects.get(pk=move.pk).on_hand_delta == Decimal("5")


def test_levels_can_be_verified_and_rebuilt_from_the_moves(clerk, warehouse, capsys):
    bolt = make_product(actor=clerk, sku="BOLT-18", price="0.50", stock="5")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE inventory_stocklevel SET on_hand = 9 WHERE product_id = %s", [bolt.pk])

    assert stock_discrepancies() == [
        {
            "product_id": bolt.pk,
            "warehouse_id": warehouse.pk,
            "level_on_hand": Decimal("9.000"),
            "moves_on_hand": Decimal("5.000"),
            "level_reserved": Decimal("0.000"),
            "moves_reserved": Decimal("0"),
        }
    ]
    with pytest.raises(SystemExit):
        call_command("verify_stock")
    assert services.rebuild_stock_levels(actor=clerk) == 1
    call_command("verify_stock")
    assert level(bolt, warehouse).on_hand == Decimal("5")


def test_low_stock_event_is_sent_once_when_available_crosses_the_reorder_point(clerk, warehouse):
    bolt = make_product(actor=clerk, sku="BOLT-20", price="0.50", stock="20")
    ReorderPoint.objects.create(product=bolt, warehouse=warehouse, minimum=Decimal("10"), reorder_quantity=100)

    for quantity in ("5", "6", "2"):  # available 15 (above), 9 (crossed), 7 (still below)
        services.reserve_stock(
            requests=[StockRequest(bolt.pk, warehouse.pk, Decimal(quantity))], actor=clerk, allow_partial=False
        )

    events = OutboxEvent.objects.filter(event_type="inventory.low_stock")
    assert events.count() == 1
    assert events.get().payload == {
        "product_id": bolt.pk,
        "sku": "BOLT-20",
        "warehouse_id": warehouse.pk,
        "warehouse_code": warehouse.code,
        "available": "9.000",
        "minimum": "10.000",
        "reorder_quantity": "100.000",
    }


def test_a_service_holds_no_stock(clerk, warehouse):
    consulting = make_product(actor=clerk, sku="CONSULT-H", price="120", kind="service")

    with pytest.raises(InvalidInput, match="service"):
        services.receive_stock(product=consulting, warehouse=warehouse, quantity=Decimal("1"), actor=clerk)


def test_an_invalid_gtin_is_refused(clerk):
    standard, _, _ = make_catalogue(actor=clerk)

    with pytest.raises(InvalidInput) as error:
        services.create_product(actor=clerk, sku="X-1", name="X", tax_category=standard, gtin="4006381333932")

    assert "gtin" in error.value.fields


def test_stock_managers_are_emailed_once_of_low_stock(clerk, warehouse):
    keeper = StaffFactory(full_name="Sven Stock", email="sven@otc.test")
    keeper.user_permissions.add(
        Permission.objects.get(codename="receive_low_stock_alerts", content_type__app_label="inventory")
    )
    bolt = make_product(actor=clerk, sku="BOLT-30", price="0.50", stock="20")
    ReorderPoint.objects.create(product=bolt, warehouse=warehouse, minimum=Decimal("10"), reorder_quantity=100)
    services.reserve_stock(
        requests=[StockRequest(bolt.pk, warehouse.pk, Decimal("11"))], actor=clerk, allow_partial=False
    )
    event = OutboxEvent.objects.get(event_type="inventory.low_stock")

    dispatch_event(event_id=event.pk, handlers=HANDLERS)
    dispatch_event(event_id=event.pk, handlers=HANDLERS)

    (notification,) = Delivery.objects.filter(event=event)
    assert notification.recipient == "sven@otc.test"
    assert "BOLT-30" in notification.body_text
    assert "Available: 9.000" in notification.body_text
