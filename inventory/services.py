"""Write side of inventory. Stock changes are conditional UPDATEs on the level row plus an
append-only move, in one transaction: available stock cannot go negative under any concurrency
(the CHECK constraint backs the WHERE clause)."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection, transaction

from inventory.errors import InsufficientStock
from inventory.events import LowStock, StockReceived
from inventory.models import MoveKind, Product, StockLevel, StockMove, Warehouse, format_quantity
from otc.audit import acting
from otc.bulk_rows import insert_rows
from otc.errors import InvalidInput
from otc.events import publish
from otc.models import User
from otc.money import parse_decimal
from otc.services import model_update, validate_model

PRODUCT_FIELDS = ("name", "description", "unit", "kind", "tax_category", "gtin", "is_active")
ZERO = Decimal("0")


@dataclass(frozen=True)
class LevelChange:
    """What a stock change did to a place's availability, with its reorder point if it has one."""

    product_id: int
    warehouse_id: int
    available: Decimal
    drop: Decimal
    minimum: Decimal | None
    reorder_quantity: Decimal | None


@dataclass(frozen=True)
class StockRequest:
    """How much of a product a caller wants from a warehouse, and why (the move's reference)."""

    product_id: int
    warehouse_id: int
    quantity: Decimal
    reference: str = ""


def _positive(quantity: Decimal, field: str = "quantity") -> Decimal:
    quantity = parse_decimal(quantity, field=field)
    if quantity <= 0:
        raise InvalidInput("The quantity must be more than zero.", fields={field: ["Must be more than zero."]})
    return quantity


@transaction.atomic
def create_product(*, actor: User, **data: Any) -> Product:
    product = Product(**data)
    validate_model(product)
    with acting(actor, "create product"):
        product.save()
    return product


@transaction.atomic
def update_product(*, product: Product, actor: User, data: dict[str, Any]) -> Product:
    product = Product.objects.select_for_update().get(pk=product.pk)
    with acting(actor, "update product"):
        model_update(instance=product, fields=PRODUCT_FIELDS, data=data)
    return product


def _apply_move(
    *,
    product_id: int,
    warehouse_id: int,
    kind: str,
    on_hand_delta: Decimal,
    reserved_delta: Decimal,
    actor: User | None,
    reference: str = "",
    reason: str = "",
) -> StockLevel | None:
    """Change a level if the result keeps 0 <= reserved <= on_hand, and write the move. None if it would not."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE inventory_stocklevel
               SET on_hand = on_hand + %(on_hand)s, reserved = reserved + %(reserved)s, updated_at = now()
             WHERE product_id = %(product)s AND warehouse_id = %(warehouse)s
               AND reserved + %(reserved)s >= 0 AND on_hand + %(on_hand)s >= reserved + %(reserved)s
            RETURNING on_hand, reserved,
                      (SELECT minimum FROM inventory_reorderpoint r
                        WHERE r.product_id = %(product)s AND r.warehouse_id = %(warehouse)s),
                      (SELECT reorder_quantity FROM inventory_reorderpoint r
                        WHERE r.product_id = %(product)s AND r.warehouse_id = %(warehouse)s)
            """,
            {"on_hand": on_hand_delta, "reserved": reserved_delta, "product": product_id, "warehouse": warehouse_id},
        )
        row = cursor.fetchone()
    if row is None:
        return None
    StockMove.objects.create(
        product_id=product_id,
        warehouse_id=warehouse_id,
        kind=kind,
        on_hand_delta=on_hand_delta,
        reserved_delta=reserved_delta,
        actor=actor,
        reference=reference,
        reason=reason,
    )
    on_hand, reserved, minimum, reorder_quantity = row
    _announce_low_stock(
        [
            LevelChange(
                product_id, warehouse_id, on_hand - reserved, reserved_delta - on_hand_delta, minimum, reorder_quantity
            )
        ]
    )
    return StockLevel(product_id=product_id, warehouse_id=warehouse_id, on_hand=on_hand, reserved=reserved)


@transaction.atomic
def receive_stock(
    *, product: Product, warehouse: Warehouse, quantity: Decimal, actor: User, reference: str = "", reason: str = ""
) -> StockLevel:
    quantity = _positive(quantity)
    if not product.is_stocked:
        raise InvalidInput(f"{product.sku} is a service and holds no stock.", fields={"product": ["Not stocked."]})
    StockLevel.objects.get_or_create(product=product, warehouse=warehouse)
    level = _apply_move(
        product_id=product.pk,
        warehouse_id=warehouse.pk,
        kind=MoveKind.RECEIPT,
        on_hand_delta=quantity,
        reserved_delta=ZERO,
        actor=actor,
        reference=reference,
        reason=reason,
    )
    publish(
        StockReceived(
            product_id=product.pk,
            sku=product.sku,
            warehouse_id=warehouse.pk,
            warehouse_code=warehouse.code,
            quantity=quantity,
            on_hand=level.on_hand,
        )
    )
    return level


@transaction.atomic
def adjust_stock(
    *, product: Product, warehouse: Warehouse, quantity_delta: Decimal, reason: str, actor: User
) -> StockLevel:
    """Count corrections, breakage, shrinkage. A reason is required; stock held for orders cannot be taken."""
    quantity_delta = parse_decimal(quantity_delta, field="quantity_delta")
    if quantity_delta == 0:
        raise InvalidInput("An adjustment must change the quantity.", fields={"quantity_delta": ["Must not be 0."]})
    if not reason.strip():
        raise InvalidInput("An adjustment needs a reason.", fields={"reason": ["This field is required."]})
    StockLevel.objects.get_or_create(product=product, warehouse=warehouse)
    level = _apply_move(
        product_id=product.pk,
        warehouse_id=warehouse.pk,
        kind=MoveKind.ADJUSTMENT,
        on_hand_delta=quantity_delta,
        reserved_delta=ZERO,
        actor=actor,
        reason=reason.strip(),
    )
    if level is None:
        raise InsufficientStock(f"Removing {-quantity_delta} of {product.sku} would take stock reserved for orders.")
    return level


def reserve_stock(*, requests: Iterable[StockRequest], actor: User | None, allow_partial: bool) -> dict[tuple, Decimal]:
    """Reserve stock for several lines in one statement, locking levels in id order (no deadlocks).

    Returns the quantity reserved per (product_id, warehouse_id). Without `allow_partial`, any line
    short of stock raises InsufficientStock and nothing is reserved. Call inside a transaction.
    """
    wanted: dict[tuple, Decimal] = defaultdict(Decimal)
    references: dict[tuple, str] = {}
    for request in requests:
        key = (request.product_id, request.warehouse_id)
        wanted[key] += _positive(request.quantity)
        references.setdefault(key, request.reference)
    if not wanted:
        return {}
    values = ", ".join(["(%s::bigint, %s::bigint, %s::numeric)"] * len(wanted))
    params = [part for key, quantity in wanted.items() for part in (*key, quantity)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH wanted(product_id, warehouse_id, quantity) AS (VALUES {values}),
            locked AS (
                SELECT s.id, s.product_id, s.warehouse_id, s.on_hand - s.reserved AS available, w.quantity
                  FROM inventory_stocklevel s
                  JOIN wanted w ON w.product_id = s.product_id AND w.warehouse_id = s.warehouse_id
                 ORDER BY s.id
                   FOR UPDATE OF s
            ),
            granted AS (SELECT *, LEAST(quantity, GREATEST(available, 0)) AS take FROM locked),
            short AS (
                SELECT 1 FROM wanted w LEFT JOIN granted g
                    ON g.product_id = w.product_id AND g.warehouse_id = w.warehouse_id
                 WHERE COALESCE(g.take, 0) < w.quantity
            ),
            reserved AS (
                UPDATE inventory_stocklevel s SET reserved = s.reserved + g.take, updated_at = now()
                  FROM granted g
                 WHERE s.id = g.id AND g.take > 0 AND (%s OR NOT EXISTS (SELECT 1 FROM short))
            )
            SELECT g.product_id, g.warehouse_id, g.available, g.take, r.minimum, r.reorder_quantity
              FROM granted g
              LEFT JOIN inventory_reorderpoint r ON r.product_id = g.product_id AND r.warehouse_id = g.warehouse_id
            """,  # noqa: S608 - only placeholders are interpolated
            [*params, allow_partial],
        )
        rows = cursor.fetchall()
    granted = dict.fromkeys(wanted, ZERO)
    for product_id, warehouse_id, _, take, _, _ in rows:
        granted[(product_id, warehouse_id)] = take
    short = {key: wanted[key] - granted[key] for key in wanted if granted[key] < wanted[key]}
    if short and not allow_partial:
        products = dict(Product.objects.filter(pk__in=[key[0] for key in short]).values_list("pk", "sku"))
        detail = ", ".join(f"{products[key[0]]}: {format_quantity(amount)} short" for key, amount in short.items())
        raise InsufficientStock(f"Not enough stock: {detail}.")
    taken = {key: amount for key, amount in granted.items() if amount > 0}
    insert_rows(
        StockMove,
        [
            StockMove(
                product_id=key[0],
                warehouse_id=key[1],
                kind=MoveKind.RESERVATION,
                on_hand_delta=ZERO,
                reserved_delta=amount,
                actor=actor,
                reference=references[key],
            )
            for key, amount in taken.items()
        ],
    )
    _announce_low_stock(
        [
            LevelChange(product_id, warehouse_id, available - take, take, minimum, reorder_quantity)
            for product_id, warehouse_id, available, take, minimum, reorder_quantity in rows
            if take > 0
        ]
    )
    return granted


def release_stock(*, requests: Iterable[StockRequest], actor: User | None) -> None:
    """Give reserved stock back (cancellation, reduced line). Call inside a transaction."""
    for request in requests:
        level = _apply_move(
            product_id=request.product_id,
            warehouse_id=request.warehouse_id,
            kind=MoveKind.RELEASE,
            on_hand_delta=ZERO,
            reserved_delta=-_positive(request.quantity),
            actor=actor,
            reference=request.reference,
        )
        if level is None:
            raise InsufficientStock("Cannot release more than is reserved.")


def ship_stock(*, requests: Iterable[StockRequest], actor: User | None) -> None:
    """Reserved stock leaves the warehouse: on hand and reserved both go down. Call inside a transaction."""
    for request in requests:
        quantity = _positive(request.quantity)
        level = _apply_move(
            product_id=request.product_id,
            warehouse_id=request.warehouse_id,
            kind=MoveKind.SHIPMENT,
            on_hand_delta=-quantity,
            reserved_delta=-quantity,
            actor=actor,
            reference=request.reference,
        )
        if level is None:
            raise InsufficientStock("Cannot ship more than is reserved.")


def return_stock(*, request: StockRequest, actor: User | None, reason: str) -> StockLevel:
    """Returned goods in resellable condition come back on hand. Call inside a transaction."""
    StockLevel.objects.get_or_create(product_id=request.product_id, warehouse_id=request.warehouse_id)
    return _apply_move(
        product_id=request.product_id,
        warehouse_id=request.warehouse_id,
        kind=MoveKind.RETURN,
        on_hand_delta=_positive(request.quantity),
        reserved_delta=ZERO,
        actor=actor,
        reference=request.reference,
        reason=reason,
    )


def _announce_low_stock(changes: list["LevelChange"]) -> None:
    """Publish LowStock once, when available crosses from at-or-above the reorder point to below it."""
    crossed = [
        change
        for change in changes
        if change.minimum is not None
        and change.drop > 0
        and change.available < change.minimum <= change.available + change.drop
    ]
    if not crossed:
        return
    skus = dict(Product.objects.filter(pk__in={change.product_id for change in crossed}).values_list("pk", "sku"))
    codes = dict(Warehouse.objects.filter(pk__in={change.warehouse_id for change in crossed}).values_list("pk", "code"))
    for change in crossed:
        publish(
            LowStock(
                product_id=change.product_id,
                sku=skus[change.product_id],
                warehouse_id=change.warehouse_id,
                warehouse_code=codes[change.warehouse_id],
                available=change.available,
                minimum=change.minimum,
                reorder_quantity=change.reorder_quantity,
            )
        )


@transaction.atomic
def rebuild_stock_levels(*, actor: User) -> int:
    """Rewrite every level as the sums of its moves (the ledger is the truth); returns levels changed."""
    with acting(actor, "rebuild stock levels from moves"), connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE inventory_stocklevel l SET on_hand = m.on_hand, reserved = m.reserved, updated_at = now()
              FROM (SELECT product_id, warehouse_id, SUM(on_hand_delta) AS on_hand, SUM(reserved_delta) AS reserved
                      FROM inventory_stockmove GROUP BY product_id, warehouse_id) m
             WHERE m.product_id = l.product_id AND m.warehouse_id = l.warehouse_id
               AND (l.on_hand <> m.on_hand OR l.reserved <> m.reserved)
            """
        )
        return cursor.rowcount
