"""Write side of order entry and fulfilment. Each function is one transition: lock the order, check the
transition table, change, write the timeline, send the signal the outbox records."""

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from customers.models import Address, AddressKind, CreditProfile, Customer, CustomerStatus
from customers.selectors import OrderingTerms, address_snapshot, default_addresses, ordering_terms
from inventory.models import Product, Warehouse, format_quantity
from inventory.selectors import default_warehouse, quote_prices, quote_taxes
from inventory.services import StockRequest, release_stock, reserve_stock, return_stock, ship_stock
from orders import selectors
from orders.errors import (
    IllegalOrderTransition,
    OrderNotEditable,
    OverReturn,
    OverReturnRequest,
    OverShipment,
    PriceOverrideNotAllowed,
    PriceOverrideReasonRequired,
    PurchaseOrderNumberRequired,
    ReturnNotDecidable,
    ReturnPhotoRefused,
)
from orders.events import (
    GoodsReturned,
    OrderCancelled,
    OrderConfirmed,
    OrderCreditHoldReleased,
    OrderPutOnCreditHold,
    OrderRejected,
    ReturnRequestDecided,
    ReturnRequested,
    ShipmentDelivered,
    ShipmentDispatched,
)
from orders.models import (
    ALLOWED_TRANSITIONS,
    Order,
    OrderLine,
    OrderStatus,
    OrderTimelineEntry,
    ReturnCondition,
    ReturnLine,
    ReturnOrder,
    ReturnRequest,
    ReturnRequestLine,
    ReturnRequestReason,
    ReturnRequestStatus,
    Shipment,
    ShipmentLine,
    ShipmentStatus,
    TimelineKind,
)
from otc.audit import acting
from otc.bulk_rows import insert_rows, update_rows
from otc.errors import InvalidInput, PermissionDenied
from otc.events import publish
from otc.file_types import sniff_content_type
from otc.joined_rows import cache_related, fetch_instances, model_columns, select_list
from otc.models import User
from otc.money import (
    combined_discount,
    line_net,
    line_tax_shares,
    parse_decimal,
    quantize,
    tax_groups,
    validate_currency,
)
from otc.services import model_update

HUNDRED = Decimal("100")
ZERO = Decimal("0")


@dataclass(frozen=True)
class LineInput:
    """One line as entered: product, quantity, an optional manual line discount, and an optional unit price
    set by hand, which needs the orders.override_price permission and a reason."""

    product: Product
    quantity: Decimal
    discount_percent: Decimal | None = None  # None: the customer's negotiated discount, if any
    unit_price: Decimal | None = None  # None: the price the pricing rules give (inventory.selectors.quote_prices)
    override_reason: str = ""


@dataclass(frozen=True)
class DraftLineInput(LineInput):
    """A line of a draft being changed: `line_no` names the line it replaces; None adds a new line."""

    line_no: int | None = None


@dataclass(frozen=True)
class OrderQuote:
    """What an order with these lines comes to: the priced, taxed lines (unsaved) and the totals."""

    lines: list[OrderLine]
    currency: str
    net_total: Decimal
    tax_total: Decimal

    @property
    def gross_total(self) -> Decimal:
        return self.net_total + self.tax_total


OVERRIDE_PERMISSION = "orders.override_price"
UNCHANGED_OVERRIDE = ""  # kept_rules entry of a line whose price is not an override kept from before


def _next_number(sequence: str, prefix: str, year: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s)", [sequence])
        (value,) = cursor.fetchone()
    return f"{prefix}-{year}-{value:06d}"


def order_totals(lines: list[OrderLine], currency: str) -> tuple[Decimal, Decimal]:
    """Net and tax of an order by the one rule (tax per VAT group, otc.money), as its invoice will have
    them; sets each line's `tax_amount` to its share of its group's tax."""
    groups = tax_groups(lines, currency)
    for line, share in zip(lines, line_tax_shares(lines, groups, currency), strict=True):
        line.tax_amount = share
    return sum((line.net_amount for line in lines), ZERO), sum((group.tax_amount for group in groups), ZERO)


def _check_po_number(customer: Customer, po_number: str, terms: OrderingTerms) -> None:
    if terms.po_number_required and not po_number.strip():
        raise PurchaseOrderNumberRequired(
            f"{customer.number} requires a PO number on every order.",
            fields={"po_number": ["Required for this customer."]},
        )


def _order_discount(discount_percent: object) -> Decimal:
    return parse_decimal(discount_percent, field="discount_percent", low=ZERO, high=HUNDRED)


def _entered_lines(lines: list[LineInput], currency: str) -> list[LineInput]:
    """The lines with their numbers parsed and checked (quantity, discount, price set by hand) and their
    products active; anything else is InvalidInput naming the field."""
    entered = [
        replace(
            line,
            quantity=parse_decimal(line.quantity, field="quantity", low=Decimal("0.001")),
            discount_percent=None
            if line.discount_percent is None
            else parse_decimal(line.discount_percent, field="discount_percent", low=ZERO, high=HUNDRED),
            unit_price=None
            if line.unit_price is None
            else parse_decimal(line.unit_price, field="unit_price", low=ZERO, currency=currency),
            override_reason=line.override_reason.strip(),
        )
        for line in lines
    ]
    inactive = [line.product.sku for line in entered if not line.product.is_active]
    if inactive:
        raise InvalidInput(f"Inactive products: {', '.join(inactive)}.", fields={"product": ["Inactive."]})
    return entered


def _authorise_overrides(actor: User, entered: list[LineInput], kept_rules: list[str] | None = None) -> None:
    """A price set by hand needs the orders.override_price permission and a reason, unless it is an
    override the line already had (its `kept_rules` entry, the rule recorded then)."""
    new = [
        line
        for line, kept in zip(entered, kept_rules or [UNCHANGED_OVERRIDE] * len(entered), strict=True)
        if line.unit_price is not None and not kept
    ]
    if not new:
        return
    if not actor.has_perm(OVERRIDE_PERMISSION):
        skus = ", ".join(line.product.sku for line in new)
        raise PriceOverrideNotAllowed(
            f"You may not set a price by hand ({skus}): that needs the permission to override prices.",
            fields={"unit_price": ["Needs the permission to override prices."]},
        )
    if any(not line.override_reason for line in new):
        raise PriceOverrideReasonRequired(
            "Say why the price is set by hand.", fields={"override_reason": ["Required with a price set by hand."]}
        )


def _price_order(
    *,
    customer: Customer,
    entered: list[LineInput],
    kept_rules: list[str],
    overridden_by: str,
    order_discount: Decimal,
    currency: str,
    on_date: date,
    destination: str,
) -> OrderQuote:
    """Price every line by the rules (or take its price set by hand, recording who, why and the list
    price in its rule), tax it for the destination, and total the order per VAT group. The one pricing
    path of entering, changing and quoting an order."""
    prices = quote_prices(
        customer=customer,
        lines=[(line.product, line.quantity) for line in entered],
        on_date=on_date,
        currency=currency,
    )
    taxes = quote_taxes(
        customer=customer, products=[line.product for line in entered], destination=destination, on_date=on_date
    )
    order_lines = []
    for line, price, kept in zip(entered, prices, kept_rules, strict=True):
        tax = taxes[line.product.pk]
        line_discount = price.discount_percent if line.discount_percent is None else line.discount_percent
        overridden = line.unit_price is not None
        unit_price = line.unit_price if overridden else price.unit_price
        if not overridden:
            rule = price.rule
        else:
            rule = kept or f"override by {overridden_by}: {line.override_reason}, list price {price.unit_price}"
        order_lines.append(
            OrderLine(
                product=line.product,
                description=line.product.name,
                quantity=line.quantity,
                unit_price=unit_price,
                price_rule=rule[:200],
                price_overridden=overridden,
                discount_percent=line_discount,
                tax_rate=tax.rate,
                reverse_charge=tax.reverse_charge,
                tax_category=tax.category,
                tax_note=tax.note,
                net_amount=line_net(
                    quantity=line.quantity,
                    unit_price=unit_price,
                    discount_percent=combined_discount(line_discount, order_discount),
                    currency=currency,
                ),
            )
        )
    net_total, tax_total = order_totals(order_lines, currency)
    return OrderQuote(lines=order_lines, currency=currency, net_total=net_total, tax_total=tax_total)


def quote_order(
    *,
    customer: Customer,
    lines: list[LineInput],
    discount_percent: object,
    currency: str | None = None,
    order: Order | None = None,
) -> OrderQuote:
    """What an order with these lines would come to, priced exactly as create_order (or, for a draft
    `order`, update_draft_order: its currency, date and destination) prices it; writes nothing. The
    order form's running total."""
    if order is not None:
        currency, on_date, destination = order.currency, order.order_date, _destination(order)
    else:
        currency, on_date = _currency(customer, currency), timezone.localdate()
        shipping = default_addresses(customer).get(AddressKind.SHIPPING)
        destination = shipping.country if shipping else customer.country
    entered = _entered_lines(lines, currency)
    return _price_order(
        customer=customer,
        entered=entered,
        kept_rules=[UNCHANGED_OVERRIDE] * len(entered),
        overridden_by="",
        order_discount=_order_discount(discount_percent),
        currency=currency,
        on_date=on_date,
        destination=destination,
    )


def _currency(customer: Customer, currency: str | None) -> str:
    currency = currency or customer.default_currency
    try:
        validate_currency(currency)
    except Exception as error:
        raise InvalidInput(
            f"{currency} is not a supported currency.", fields={"currency": ["Unknown currency."]}
        ) from error
    return currency


def _destination(order: Order) -> str:
    """Where a draft's goods go, for their tax: its shipping address, else the customer's country."""
    return order.shipping_address.get("country") or order.customer.country


@transaction.atomic
def create_order(
    *,
    actor: User,
    customer: Customer,
    lines: list[LineInput],
    currency: str | None = None,
    po_number: str = "",
    requested_delivery_date: date | None = None,
    order_date: date | None = None,
    warehouse: Warehouse | None = None,
    billing_address: Address | None = None,
    shipping_address: Address | None = None,
    discount_percent: Decimal = ZERO,
    notes: str = "",
) -> Order:
    """Enter a draft order, priced line by line and taxed per VAT group (otc.money), with address snapshots."""
    currency = _currency(customer, currency)
    if not lines:
        raise InvalidInput("An order needs at least one line.", fields={"lines": ["At least one line."]})
    terms = ordering_terms(customer)
    _check_po_number(customer, po_number, terms)
    order_discount = _order_discount(discount_percent)
    entered = _entered_lines(lines, currency)
    _authorise_overrides(actor, entered)
    order_date = order_date or timezone.localdate()
    warehouse = warehouse or default_warehouse()
    if warehouse is None:
        raise InvalidInput("No warehouse given and no default warehouse set up.", fields={"warehouse": ["Required."]})
    shipping = shipping_address or terms.addresses.get(AddressKind.SHIPPING)
    billing = billing_address or terms.addresses.get(AddressKind.BILLING)
    quote = _price_order(
        customer=customer,
        entered=entered,
        kept_rules=[UNCHANGED_OVERRIDE] * len(entered),
        overridden_by=str(actor),
        order_discount=order_discount,
        currency=currency,
        on_date=order_date,
        destination=shipping.country if shipping else customer.country,
    )
    order = Order(
        customer=customer,
        currency=currency,
        po_number=po_number.strip(),
        requested_delivery_date=requested_delivery_date,
        order_date=order_date,
        warehouse=warehouse,
        billing_address=address_snapshot(billing, customer),
        shipping_address=address_snapshot(shipping, customer),
        discount_percent=order_discount,
        notes=notes,
        created_by=actor,
        net_total=quote.net_total,
        tax_total=quote.tax_total,
        gross_total=quote.gross_total,
    )
    order_lines = quote.lines
    for number, line in enumerate(order_lines, start=1):
        line.line_no = number
    with acting(actor, "enter order"):
        order.number = _next_number("orders_order_number_seq", "SO", order_date.year)
        insert_rows(Order, [order])
        for line in order_lines:
            line.order = order
        insert_rows(OrderLine, order_lines)
        _timeline(order, TimelineKind.CREATED, actor)
    return order


PRICED_LINE_FIELDS = [
    "product",
    "description",
    "quantity",
    "unit_price",
    "price_rule",
    "price_overridden",
    "discount_percent",
    "tax_rate",
    "reverse_charge",
    "tax_category",
    "tax_note",
    "net_amount",
    "tax_amount",
]


@transaction.atomic
def update_draft_order(
    *,
    order: Order,
    actor: User,
    lines: list[DraftLineInput] | None = None,
    discount_percent: Decimal | None = None,
    po_number: str | None = None,
    notes: str | None = None,
    reason: str = "",
) -> Order:
    """Change a draft before it is confirmed: its lines (a line with a known `line_no` replaces that
    line, one without is added, a line not given is removed), its discount, PO number and notes.

    Every line is priced and taxed again exactly as create_order prices it; None keeps the lines (or
    field) as they are. A price set by hand needs the orders.override_price permission and a reason;
    a line that keeps its product and the price it was given by hand keeps its recorded override.
    """
    order = _locked(order)
    if order.status != OrderStatus.DRAFT:
        status = order.get_status_display().lower()
        raise OrderNotEditable(f"Order {order.number} is {status}; only a draft can be changed.")
    existing = {line.line_no: line for line in order.lines.select_related("product")}
    if lines is None:
        lines = [_as_entered(line) for line in existing.values()]
    _check_line_numbers(order, lines, existing)
    if not lines:
        raise InvalidInput("An order needs at least one line.", fields={"lines": ["At least one line."]})
    po_number = order.po_number if po_number is None else po_number.strip()
    _check_po_number(order.customer, po_number, ordering_terms(order.customer))
    order_discount = order.discount_percent if discount_percent is None else _order_discount(discount_percent)
    entered = _entered_lines(lines, order.currency)
    kept_rules = [_kept_override(line, existing.get(line.line_no)) for line in entered]
    _authorise_overrides(actor, entered, kept_rules)
    quote = _price_order(
        customer=order.customer,
        entered=entered,
        kept_rules=kept_rules,
        overridden_by=str(actor),
        order_discount=order_discount,
        currency=order.currency,
        on_date=order.order_date,
        destination=_destination(order),
    )
    given = {line.line_no for line in lines if line.line_no is not None}
    removed = [line for number, line in existing.items() if number not in given]
    next_number = max(existing, default=0) + 1
    changed, added = [], []
    reason = reason.strip()
    with acting(actor, f"change draft order: {reason}" if reason else "change draft order"):
        OrderLine.objects.filter(pk__in=[line.pk for line in removed]).delete()
        for line, priced in zip(lines, quote.lines, strict=True):
            if line.line_no is not None:
                data = {name: getattr(priced, name) for name in PRICED_LINE_FIELDS}
                if model_update(instance=existing[line.line_no], fields=PRICED_LINE_FIELDS, data=data):
                    changed.append(line.line_no)
                continue
            priced.order, priced.line_no = order, next_number
            next_number += 1
            added.append(priced)
        OrderLine.objects.bulk_create(added)
        header = model_update(
            instance=order,
            fields=["discount_percent", "po_number", "notes", "net_total", "tax_total", "gross_total"],
            data={
                "discount_percent": order_discount,
                "po_number": po_number,
                "notes": order.notes if notes is None else notes,
                "net_total": quote.net_total,
                "tax_total": quote.tax_total,
                "gross_total": quote.gross_total,
            },
            exclude=["billing_address", "shipping_address"],
        )
        if changed or added or removed or header:
            summary = _change_summary(changed, [line.line_no for line in added], [line.line_no for line in removed])
            total = f"gross {quantize(order.gross_total, order.currency)} {order.currency}"
            _timeline(order, TimelineKind.CHANGED, actor, "; ".join(part for part in (summary, total, reason) if part))
    return order


def _as_entered(line: OrderLine) -> DraftLineInput:
    """An existing line as if entered again: same product, quantity, discount and price set by hand."""
    return DraftLineInput(
        product=line.product,
        quantity=line.quantity,
        discount_percent=line.discount_percent,
        unit_price=line.unit_price if line.price_overridden else None,
        line_no=line.line_no,
    )


def _check_line_numbers(order: Order, lines: list[DraftLineInput], existing: dict[int, OrderLine]) -> None:
    numbers = [line.line_no for line in lines if line.line_no is not None]
    unknown = sorted({number for number in numbers if number not in existing})
    if unknown:
        raise InvalidInput(
            f"Order {order.number} has no line {', '.join(map(str, unknown))}.",
            fields={"line_no": [f"No line {number}." for number in unknown]},
        )
    twice = sorted({number for number in numbers if numbers.count(number) > 1})
    if twice:
        raise InvalidInput(
            f"Line {', '.join(map(str, twice))} given more than once.",
            fields={"line_no": [f"Line {number} given more than once." for number in twice]},
        )


def _kept_override(line: LineInput, current: OrderLine | None) -> str:
    """The recorded rule of an override the line keeps (same product, same price set by hand), else ""."""
    if (
        current is None
        or not current.price_overridden
        or line.unit_price is None
        or line.product.pk != current.product_id
        or line.unit_price != current.unit_price
        or line.override_reason
    ):
        return UNCHANGED_OVERRIDE
    return current.price_rule


def _change_summary(changed: list[int], added: list[int], removed: list[int]) -> str:
    parts = [
        f"{label} {', '.join(map(str, numbers))}"
        for label, numbers in (("changed line", changed), ("added line", added), ("removed line", removed))
        if numbers
    ]
    return ", ".join(parts).capitalize()


def _locked(order: Order) -> Order:
    """The order, locked with its customer's row: a customer's orders are credit-checked one at a time,
    so two orders that each fit the limit cannot both pass when together they do not. Read with its
    customer and credit profile in one written-out statement (otc.joined_rows): every transition starts
    here, and compiling the ORM's query for it cost more than running it."""
    columns = (model_columns(Order, "o"), model_columns(Customer, "c"), model_columns(CreditProfile, "cp"))
    rows = fetch_instances(
        f"SELECT {select_list(*columns)} FROM orders_order o "  # noqa: S608 - columns come from the models
        "JOIN customers_customer c ON c.id = o.customer_id "
        "LEFT JOIN customers_creditprofile cp ON cp.customer_id = c.id "
        "WHERE o.id = %s FOR UPDATE OF o, c",
        [order.pk],
        *columns,
    )
    if not rows:
        raise Order.DoesNotExist(f"Order {order.pk} does not exist.")
    [(locked, customer, credit)] = rows
    cache_related(customer, "credit", credit)
    cache_related(locked, "customer", customer)
    return locked


def _locked_with_lines(order: Order) -> tuple[Order, list[OrderLine]]:
    """The order locked as `_locked` locks it, then its lines with their products (read after the lock
    is held, so they are the lines as the previous holder left them)."""
    locked = _locked(order)
    columns = (model_columns(OrderLine, "l"), model_columns(Product, "p"))
    rows = fetch_instances(
        f"SELECT {select_list(*columns)} FROM orders_orderline l "  # noqa: S608 - columns come from the models
        "JOIN inventory_product p ON p.id = l.product_id WHERE l.order_id = %s ORDER BY l.line_no",
        [locked.pk],
        *columns,
    )
    for line, product in rows:
        cache_related(line, "order", locked)
        cache_related(line, "product", product)
    return locked, [line for line, _ in rows]


def _order_subject(order: Order, actor: User) -> dict[str, Any]:
    """The fields every order event carries: which order, whose, and who acted."""
    return {
        "order_id": order.pk,
        "order_number": order.number,
        "customer_id": order.customer_id,
        "customer_number": order.customer.number,
        "actor_id": actor.pk,
    }


def _ensure_can_become(order: Order, *targets: str) -> None:
    if not any(target in ALLOWED_TRANSITIONS[order.status] for target in targets):
        wanted = " or ".join(OrderStatus(target).label.lower() for target in targets)
        raise IllegalOrderTransition(
            f"Order {order.number} is {order.get_status_display().lower()}; it cannot become {wanted}."
        )


def _move(order: Order, to: str) -> None:
    _ensure_can_become(order, to)
    order.status = to


def _timeline(order: Order, kind: str, actor: User | None, detail: str = "", shipment: Shipment | None = None):
    insert_rows(
        OrderTimelineEntry,
        [OrderTimelineEntry(order=order, kind=kind, actor=actor, detail=detail[:300], shipment=shipment)],
    )


def _require(actor: User, permission: str, action: str) -> None:
    if not actor.has_perm(permission):
        raise PermissionDenied(f"You may not {action}.")


def credit_check(*, order: Order) -> str:
    """Why the order must wait for credit control, or "" when it may go ahead."""
    customer = order.customer
    if customer.status == CustomerStatus.BLOCKED:
        return "Customer is blocked."
    if customer.status == CustomerStatus.ON_HOLD:
        return "Customer is on credit hold."
    exposure = selectors.customer_exposure(customer=customer, credit=customer.credit)
    if order.currency != exposure.currency:
        return f"Order in {order.currency} but the credit limit is in {exposure.currency}: needs review."
    if exposure.total + order.gross_total > exposure.credit_limit:
        money = {
            name: quantize(value, exposure.currency)
            for name, value in (
                ("exposure", exposure.total),
                ("order", order.gross_total),
                ("limit", exposure.credit_limit),
            )
        }
        return (
            f"Over credit limit: exposure {money['exposure']} + order {money['order']} > limit "
            f"{money['limit']} {exposure.currency}."
        )
    return ""


@transaction.atomic
def confirm_order(*, order: Order, actor: User) -> Order:
    """Credit-check the order; it is either confirmed with stock reserved, or put on credit hold."""
    order, lines = _locked_with_lines(order)
    if order.status != OrderStatus.DRAFT:
        raise IllegalOrderTransition(f"Order {order.number} is {order.get_status_display().lower()}, not a draft.")
    _move(order, OrderStatus.CONFIRMED)
    reason = credit_check(order=order)
    with acting(actor, "confirm order"):
        if reason:
            order.status = OrderStatus.ON_CREDIT_HOLD
            order.hold_reason = reason
            order.save(update_fields=["status", "hold_reason", "updated_at"])
            _timeline(order, TimelineKind.HELD, actor, reason)
            publish(
                OrderPutOnCreditHold(
                    **_order_subject(order, actor),
                    reason=reason,
                    currency=order.currency,
                    gross_total=order.gross_total,
                )
            )
            return order
        _reserve_and_confirm(order, lines, actor)
    return order


def _reserve_and_confirm(order: Order, lines: list[OrderLine], actor: User) -> None:
    _reserve(order, lines, actor, allow_partial=settings.OTC_SHORT_STOCK_POLICY == "backorder")
    order.confirmed_at = timezone.now()
    order.hold_reason = ""
    update_rows(Order, [order], ["status", "confirmed_at", "hold_reason", "updated_at"])
    backordered = sum((line.quantity_backordered for line in lines if line.product.is_stocked), ZERO)
    _timeline(
        order, TimelineKind.CONFIRMED, actor, f"{format_quantity(backordered)} on backorder" if backordered else ""
    )
    publish(OrderConfirmed(**_order_subject(order, actor), currency=order.currency, gross_total=order.gross_total))


def _reserve(order: Order, lines: list[OrderLine], actor: User, *, allow_partial: bool) -> None:
    wanted = [line for line in lines if line.product.is_stocked and line.quantity_backordered > 0]
    if not wanted:
        return
    granted = reserve_stock(
        requests=[
            StockRequest(line.product_id, order.warehouse_id, line.quantity_backordered, f"order:{order.number}")
            for line in wanted
        ],
        actor=actor,
        allow_partial=allow_partial,
    )
    for line in wanted:
        key = (line.product_id, order.warehouse_id)
        take = min(granted.get(key, ZERO), line.quantity_backordered)
        granted[key] = granted.get(key, ZERO) - take
        line.quantity_reserved += take
    update_rows(OrderLine, wanted, ["quantity_reserved"])


@transaction.atomic
def release_credit_hold(*, order: Order, actor: User, reason: str) -> Order:
    """Finance lets a held order through, saying why: it is confirmed and its stock reserved."""
    _require(actor, "orders.release_credit_hold", "release orders from credit hold")
    reason = reason.strip()
    if not reason:
        raise InvalidInput("Say why the order is released.", fields={"reason": ["This field is required."]})
    order, lines = _locked_with_lines(order)
    if order.status != OrderStatus.ON_CREDIT_HOLD:
        raise IllegalOrderTransition(f"Order {order.number} is not on credit hold.")
    _move(order, OrderStatus.CONFIRMED)
    with acting(actor, f"release order from credit hold: {reason}"):
        _timeline(order, TimelineKind.RELEASED, actor, f"Released by {actor}: {reason}")
        publish(OrderCreditHoldReleased(**_order_subject(order, actor)))
        _reserve_and_confirm(order, lines, actor)
    return order


@transaction.atomic
def reject_order(*, order: Order, actor: User, reason: str) -> Order:
    """Finance refuses a held order: it is cancelled with the reason."""
    _require(actor, "orders.release_credit_hold", "reject orders on credit hold")
    if not reason.strip():
        raise InvalidInput("Say why the order is rejected.", fields={"reason": ["This field is required."]})
    order = _locked(order)
    if order.status != OrderStatus.ON_CREDIT_HOLD:
        raise IllegalOrderTransition(f"Order {order.number} is not on credit hold.")
    _move(order, OrderStatus.CANCELLED)
    with acting(actor, f"reject order: {reason}"):
        order.save(update_fields=["status", "updated_at"])
        _timeline(order, TimelineKind.REJECTED, actor, reason.strip())
    publish(OrderRejected(**_order_subject(order, actor), reason=reason.strip()))
    return order


@transaction.atomic
def cancel_order(*, order: Order, actor: User, reason: str = "") -> Order:
    """Cancel an order not yet shipped; its reservations go back to available stock."""
    order = _locked(order)
    _move(order, OrderStatus.CANCELLED)
    lines = [line for line in order.lines.all() if line.quantity_reserved > 0]
    with acting(actor, f"cancel order: {reason}"):
        release_stock(
            requests=[
                StockRequest(line.product_id, order.warehouse_id, line.quantity_reserved, f"order:{order.number}")
                for line in lines
            ],
            actor=actor,
        )
        for line in lines:
            line.quantity_reserved = ZERO
        OrderLine.objects.bulk_update(lines, ["quantity_reserved"])
        order.save(update_fields=["status", "updated_at"])
        _timeline(order, TimelineKind.CANCELLED, actor, reason.strip())
    publish(OrderCancelled(**_order_subject(order, actor), reason=reason.strip()))
    return order


@transaction.atomic
def allocate_backorders(*, order: Order, actor: User) -> Order:
    """Try again to reserve what is on backorder (after stock arrived)."""
    order, lines = _locked_with_lines(order)
    if order.status not in (OrderStatus.CONFIRMED, OrderStatus.PARTIALLY_SHIPPED):
        raise IllegalOrderTransition(f"Order {order.number} is not open for allocation.")
    with acting(actor, "allocate backorders"):
        _reserve(order, lines, actor, allow_partial=True)
    return order


def allocate_received_stock(*, product_id: int, warehouse_id: int, actor: User) -> None:
    """Stock arrived: the open orders waiting for the product in that warehouse take it, oldest order
    first, each in its own transaction."""
    short = OrderLine.objects.filter(
        order=OuterRef("pk"), product_id=product_id, quantity__gt=F("quantity_shipped") + F("quantity_reserved")
    )
    waiting = Order.objects.filter(
        Exists(short), status__in=(OrderStatus.CONFIRMED, OrderStatus.PARTIALLY_SHIPPED), warehouse_id=warehouse_id
    ).order_by("order_date", "pk")
    for order in waiting:
        allocate_backorders(order=order, actor=actor)


@transaction.atomic
def dispatch_shipment(
    *,
    order: Order,
    actor: User,
    quantities: dict[int, Decimal] | None = None,
    carrier: str = "",
    tracking_number: str = "",
    tracking_url: str = "",
    dispatched_at: datetime | None = None,
) -> Shipment:
    """Ship reserved goods (all of them, or `quantities` by order line id); the rest stays open.

    Stocked lines ship only from their reservation; service lines up to their open quantity.
    """
    order = _locked(order)
    _ensure_can_become(order, OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED)
    lines = {line.pk: line for line in order.lines.select_related("product")}
    if quantities is None:
        quantities = {
            pk: (line.quantity_reserved if line.product.is_stocked else line.quantity_open)
            for pk, line in lines.items()
        }
    quantities = {pk: parse_decimal(qty, field="quantity", low=ZERO) for pk, qty in quantities.items() if qty}
    unknown = set(quantities) - set(lines)
    if unknown:
        raise InvalidInput("Some lines are not on this order.", fields={"lines": [f"Unknown: {sorted(unknown)}"]})
    if not quantities:
        raise InvalidInput("Nothing to ship: no reserved quantity.", fields={"lines": ["Nothing reserved."]})
    for pk, quantity in quantities.items():
        line = lines[pk]
        limit = line.quantity_reserved if line.product.is_stocked else line.quantity_open
        if quantity > limit:
            state = "reserved" if line.product.is_stocked else "open"
            raise OverShipment(
                f"Line {line.line_no} ({line.product.sku}): {format_quantity(quantity)} asked, "
                f"{format_quantity(limit)} {state}."
            )
    shipped_all = all(line.quantity_shipped + quantities.get(pk, ZERO) == line.quantity for pk, line in lines.items())
    _move(order, OrderStatus.SHIPPED if shipped_all else OrderStatus.PARTIALLY_SHIPPED)
    with acting(actor, "dispatch shipment"):
        shipment = Shipment.objects.create(
            number=_next_number("orders_shipment_number_seq", "SH", timezone.localdate().year),
            order=order,
            carrier=carrier,
            tracking_number=tracking_number,
            tracking_url=tracking_url,
            dispatched_at=dispatched_at or timezone.now(),
            created_by=actor,
        )
        ShipmentLine.objects.bulk_create(
            [ShipmentLine(shipment=shipment, order_line_id=pk, quantity=qty) for pk, qty in quantities.items()]
        )
        ship_stock(
            requests=[
                StockRequest(lines[pk].product_id, order.warehouse_id, qty, f"shipment:{shipment.number}")
                for pk, qty in quantities.items()
                if lines[pk].product.is_stocked
            ],
            actor=actor,
        )
        for pk, quantity in quantities.items():
            line = lines[pk]
            line.quantity_shipped += quantity
            if line.product.is_stocked:
                line.quantity_reserved -= quantity
        OrderLine.objects.bulk_update([lines[pk] for pk in quantities], ["quantity_shipped", "quantity_reserved"])
        order.save(update_fields=["status", "updated_at"])
        tracking = " ".join(part for part in (carrier, tracking_number) if part)
        _timeline(order, TimelineKind.SHIPPED, actor, f"{shipment.number} {tracking}".strip(), shipment)
    publish(
        ShipmentDispatched(
            **_order_subject(order, actor),
            shipment_id=shipment.pk,
            shipment_number=shipment.number,
            carrier=shipment.carrier,
            tracking_number=shipment.tracking_number,
        )
    )
    return shipment


@transaction.atomic
def mark_delivered(*, shipment: Shipment, actor: User, delivered_at: datetime | None = None) -> Shipment:
    """The carrier confirmed delivery; an order whose shipments are all delivered is completed."""
    order = _locked(shipment.order)
    shipment = Shipment.objects.select_for_update().get(pk=shipment.pk)
    if shipment.status == ShipmentStatus.DELIVERED:
        raise IllegalOrderTransition(f"Shipment {shipment.number} is already delivered.")
    with acting(actor, "shipment delivered"):
        shipment.status, shipment.delivered_at = ShipmentStatus.DELIVERED, delivered_at or timezone.now()
        shipment.save(update_fields=["status", "delivered_at"])
        _timeline(order, TimelineKind.DELIVERED, actor, shipment.number, shipment)
        undelivered = order.shipments.exclude(status=ShipmentStatus.DELIVERED).exists()
        if order.status == OrderStatus.SHIPPED and not undelivered:
            _move(order, OrderStatus.COMPLETED)
            order.save(update_fields=["status", "updated_at"])
    publish(
        ShipmentDelivered(
            **_order_subject(order, actor),
            shipment_id=shipment.pk,
            shipment_number=shipment.number,
            delivered_at=shipment.delivered_at,
        )
    )
    return shipment


@transaction.atomic
def register_return(
    *, order: Order, actor: User, reason: str, lines: list[tuple[OrderLine, Decimal, str]]
) -> ReturnOrder:
    """Goods came back (RMA): resellable ones return to stock; the return will feed a credit note."""
    if not reason.strip():
        raise InvalidInput("A return needs a reason.", fields={"reason": ["This field is required."]})
    if not lines:
        raise InvalidInput("A return needs at least one line.", fields={"lines": ["At least one line."]})
    order = _locked(order)
    locked = {
        line.pk: line
        for line in OrderLine.objects.select_for_update()
        .select_related("product")
        .filter(order=order, pk__in=[line.pk for line, _, _ in lines])
    }
    with acting(actor, f"return: {reason}"):
        return_order = ReturnOrder.objects.create(
            number=_next_number("orders_return_number_seq", "RMA", timezone.localdate().year),
            order=order,
            reason=reason.strip(),
            received_at=timezone.now(),
            created_by=actor,
        )
        for given, quantity, condition in lines:
            line = locked.get(given.pk)
            if line is None:
                raise InvalidInput("The line is not on this order.", fields={"lines": ["Not on this order."]})
            quantity = parse_decimal(quantity, field="quantity", low=Decimal("0.001"))
            if condition not in ReturnCondition.values:
                raise InvalidInput(f"Unknown condition {condition}.", fields={"condition": ["Unknown."]})
            if line.quantity_returned + quantity > line.quantity_shipped:
                raise OverReturn(
                    f"Line {line.line_no}: {format_quantity(quantity)} returned but only "
                    f"{format_quantity(line.quantity_shipped - line.quantity_returned)} shipped and not yet returned."
                )
            ReturnLine.objects.create(
                return_order=return_order, order_line=line, quantity=quantity, condition=condition
            )
            line.quantity_returned += quantity
            line.save(update_fields=["quantity_returned"])
            if condition == ReturnCondition.RESELLABLE and line.product.is_stocked:
                return_stock(
                    request=StockRequest(
                        line.product_id, order.warehouse_id, quantity, f"return:{return_order.number}"
                    ),
                    actor=actor,
                    reason=reason,
                )
        _timeline(order, TimelineKind.RETURNED, actor, f"{return_order.number}: {reason.strip()}")
    publish(
        GoodsReturned(
            **_order_subject(order, actor),
            return_id=return_order.pk,
            return_number=return_order.number,
            reason=return_order.reason,
        )
    )
    return return_order


RETURN_PHOTO_TYPES = {"image/png", "image/jpeg"}


@dataclass(frozen=True)
class ReturnPhoto:
    """A photo of the goods as it arrived (portal form, API body): its file name and its bytes."""

    filename: str
    content: bytes


def _checked_photo(photo: ReturnPhoto) -> str:
    """The photo's content type as its bytes tell, or ReturnPhotoRefused saying why; the size limit is
    the ticket attachments' (OTC_TICKET_ATTACHMENT_MAX_BYTES)."""
    limit = settings.OTC_TICKET_ATTACHMENT_MAX_BYTES
    name = photo.filename or "photo"
    if not photo.content or len(photo.content) > limit:
        problem = "is empty" if not photo.content else f"is larger than {limit:,} bytes"
        raise ReturnPhotoRefused(f"{name} {problem}.", fields={"photo": [f"{name} {problem}."]})
    content_type = sniff_content_type(photo.content, name)
    if content_type not in RETURN_PHOTO_TYPES:
        message = f"{name} is not a PNG or JPEG picture (judged by its content, not its name)."
        raise ReturnPhotoRefused(message, fields={"photo": [message]})
    return content_type


def _return_request_subject(return_request: ReturnRequest, actor: User) -> dict[str, Any]:
    return {
        **_order_subject(return_request.order, actor),
        "return_request_id": return_request.pk,
        "return_request_number": return_request.number,
    }


@transaction.atomic
def request_return(
    *,
    order: Order,
    actor: User,
    reason: str,
    lines: list[tuple[OrderLine, Decimal]],
    description: str = "",
    photo: ReturnPhoto | None = None,
) -> ReturnRequest:
    """A customer asks to send delivered goods back, per line up to what was delivered and is neither
    returned nor asked for in another open request. Nothing moves until sales approve it."""
    if reason not in ReturnRequestReason.values:
        raise InvalidInput(f"Unknown return reason {reason!r}.", fields={"reason": ["Choose a reason from the list."]})
    if reason == ReturnRequestReason.OTHER and not description.strip():
        message = "Say what is wrong with the goods."
        raise InvalidInput(message, fields={"description": [message]})
    wanted = {}
    for line, quantity in lines:
        if line.pk in wanted:
            raise InvalidInput(f"Line {line.line_no} is given twice.", fields={"lines": ["Each line once."]})
        wanted[line.pk] = (line, parse_decimal(quantity, field="quantity", low=ZERO))
    wanted = {pk: (line, quantity) for pk, (line, quantity) in wanted.items() if quantity > 0}
    if not wanted:
        raise InvalidInput("Choose at least one item to return.")
    content_type = _checked_photo(photo) if photo is not None else ""
    order = _locked(order)  # one request at a time per order: the returnable quantities stay true
    returnable = selectors.returnable_quantities(order=order)
    for line, quantity in wanted.values():
        if line.order_id != order.pk:
            raise InvalidInput("The line is not on this order.", fields={"lines": ["Not on this order."]})
        if quantity > returnable.get(line.pk, ZERO):
            raise OverReturnRequest(
                f"Line {line.line_no}: {format_quantity(quantity)} asked for, but only "
                f"{format_quantity(returnable.get(line.pk, ZERO))} delivered and not yet returned or requested."
            )
    return_request = ReturnRequest(
        number=_next_number("orders_return_request_number_seq", "RR", timezone.localdate().year),
        order=order,
        reason=reason,
        description=description.strip(),
        requested_by=actor,
    )
    if photo is not None:
        return_request.photo.save(photo.filename, ContentFile(photo.content), save=False)
        return_request.photo_name, return_request.photo_content_type = photo.filename[:255], content_type
    with acting(actor, f"request return: {reason}"):
        return_request.save()
        ReturnRequestLine.objects.bulk_create(
            ReturnRequestLine(request=return_request, order_line=line, quantity=quantity)
            for line, quantity in wanted.values()
        )
        _timeline(
            order,
            TimelineKind.RETURN_REQUESTED,
            actor,
            f"{return_request.number}: {return_request.get_reason_display()}",
        )
    publish(ReturnRequested(**_return_request_subject(return_request, actor), reason=reason))
    return return_request


def _locked_request(return_request: ReturnRequest) -> ReturnRequest:
    """Lock the order, then the request (the order first, as every order transition does)."""
    _locked(return_request.order)
    locked = ReturnRequest.objects.select_for_update().select_related("order__customer").get(pk=return_request.pk)
    if locked.status != ReturnRequestStatus.REQUESTED:
        raise ReturnNotDecidable(f"Return request {locked.number} is {locked.get_status_display().lower()} already.")
    return locked


@transaction.atomic
def approve_return_request(
    *, return_request: ReturnRequest, actor: User, condition: str = ReturnCondition.RESELLABLE
) -> ReturnRequest:
    """Sales accept the return: it is registered as a return order (stock back when resellable), and the
    credit note follows from that as for any return."""
    _require(actor, "orders.decide_returnrequest", "decide return requests")
    return_request = _locked_request(return_request)
    lines = [(line.order_line, line.quantity, condition) for line in return_request.lines.select_related("order_line")]
    return_order = register_return(
        order=return_request.order,
        actor=actor,
        reason=f"Return request {return_request.number}: {return_request.get_reason_display()}",
        lines=lines,
    )
    with acting(actor, f"approve return request {return_request.number}"):
        return_request.status, return_request.return_order = ReturnRequestStatus.APPROVED, return_order
        return_request.decided_by, return_request.decided_at = actor, timezone.now()
        return_request.save(update_fields=["status", "return_order", "decided_by", "decided_at"])
    publish(
        ReturnRequestDecided(
            **_return_request_subject(return_request, actor),
            decision="approved",
            return_number=return_order.number,
            refusal_reason="",
        )
    )
    return return_request


@transaction.atomic
def refuse_return_request(*, return_request: ReturnRequest, actor: User, reason: str) -> ReturnRequest:
    """Sales refuse the return with a reason the customer reads; nothing else changes."""
    _require(actor, "orders.decide_returnrequest", "decide return requests")
    if not reason.strip():
        raise InvalidInput("Say why the return is refused.", fields={"reason": ["This field is required."]})
    return_request = _locked_request(return_request)
    with acting(actor, f"refuse return request {return_request.number}: {reason}"):
        return_request.status, return_request.refusal_reason = ReturnRequestStatus.REFUSED, reason.strip()[:300]
        return_request.decided_by, return_request.decided_at = actor, timezone.now()
        return_request.save(update_fields=["status", "refusal_reason", "decided_by", "decided_at"])
        _timeline(
            return_request.order,
            TimelineKind.RETURN_REFUSED,
            actor,
            f"{return_request.number}: {return_request.refusal_reason}",
        )
    publish(
        ReturnRequestDecided(
            **_return_request_subject(return_request, actor),
            decision="refused",
            return_number="",
            refusal_reason=return_request.refusal_reason,
        )
    )
    return return_request
