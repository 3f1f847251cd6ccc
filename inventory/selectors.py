"""Read side of inventory: availability, the price of a product for a customer, the tax that applies,
and the check that stock levels agree with the move ledger."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.db.models import Q, QuerySet
from stdnum.eu.vat import MEMBER_STATES

from customers.models import Customer
from inventory.errors import NoPrice, NoTaxRate
from inventory.models import (
    REVERSE_CHARGE_CODES,
    Product,
    StockLevel,
    TaxCategoryCode,
    Warehouse,
    format_quantity,
)
from otc.joined_rows import fetch_instances, model_columns

EU_COUNTRIES = {code.upper() for code in MEMBER_STATES} - {"XI"}
ZERO = Decimal("0")


def product_list() -> QuerySet[Product]:
    return Product.objects.select_related("tax_category")


def default_warehouse() -> Warehouse | None:
    """The warehouse orders ship from unless they say otherwise (at most one, by constraint); written out
    (otc.joined_rows) since every order entered reads it."""
    columns = model_columns(Warehouse, "w")
    rows = fetch_instances(f"SELECT {columns.sql} FROM inventory_warehouse w WHERE w.is_default", [], columns)  # noqa: S608
    return rows[0][0] if rows else None


def availability(*, product_ids: Iterable[int] | None = None) -> QuerySet[StockLevel]:
    levels = StockLevel.objects.select_related("product", "warehouse")
    if product_ids is not None:
        levels = levels.filter(product_id__in=list(product_ids))
    return levels.order_by("product__sku", "warehouse__code")


@dataclass(frozen=True)
class PriceQuote:
    """The unit price for a line, the discount that applies, and the rule that produced them."""

    unit_price: Decimal
    currency: str
    discount_percent: Decimal
    rule: str


@dataclass(frozen=True)
class _PriceSource:
    """A customer's own price (no `list_name`) or a price list's item that may price a line."""

    product_id: int
    min_quantity: Decimal
    unit_price: Decimal | None
    discount_percent: Decimal
    list_name: str | None
    list_group_id: int | None


def _price_sources(
    *, customer: Customer, product_ids: set[int], on_date: date, currency: str
) -> tuple[list[_PriceSource], list[_PriceSource]]:
    """The customer's own prices and the price list items that may apply, each by the highest quantity
    break first (list items then by the most recent list), in one statement: order entry prices every
    order through here."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.product_id, c.min_quantity, c.unit_price, c.discount_percent, NULL, NULL, NULL::date
              FROM inventory_customerprice c
             WHERE c.customer_id = %(customer)s AND c.currency = %(currency)s AND c.product_id = ANY(%(products)s)
               AND c.valid_from <= %(day)s AND (c.valid_to IS NULL OR c.valid_to > %(day)s)
             UNION ALL
            SELECT i.product_id, i.min_quantity, i.unit_price, 0, l.name, l.customer_group_id, l.valid_from
              FROM inventory_pricelistitem i JOIN inventory_pricelist l ON l.id = i.price_list_id
             WHERE l.is_active AND l.currency = %(currency)s AND i.product_id = ANY(%(products)s)
               AND (l.customer_group_id IS NULL OR l.customer_group_id = %(group)s)
               AND l.valid_from <= %(day)s AND (l.valid_to IS NULL OR l.valid_to > %(day)s)
             ORDER BY 2 DESC, 7 DESC NULLS LAST
            """,
            {
                "customer": customer.pk,
                "currency": currency,
                "products": list(product_ids),
                "day": on_date,
                "group": customer.group_id,
            },
        )
        sources = [_PriceSource(*row[:6]) for row in cursor.fetchall()]
    own = [source for source in sources if source.list_name is None]
    return own, [source for source in sources if source.list_name is not None]


def quote_prices(
    *, customer: Customer, lines: list[tuple[Product, Decimal]], on_date: date, currency: str
) -> list[PriceQuote]:
    """Price every (product, quantity) for the customer in two queries.

    Precedence: the customer's own price (a fixed price, or a discount off the list), then the price
    list of the customer's group, then the list for everyone; within each, the highest quantity break
    the quantity reaches, and the most recent list.
    """
    own, listed = _price_sources(
        customer=customer, product_ids={product.pk for product, _ in lines}, on_date=on_date, currency=currency
    )
    return [_quote(customer, product, Decimal(str(quantity)), currency, own, listed) for product, quantity in lines]


def quotes_or_none(
    *, customer: Customer, lines: list[tuple[Product, Decimal]], on_date: date, currency: str
) -> list[PriceQuote | None]:
    """Like quote_prices, with None for a line no price applies to (the catalogue shows "on request")."""
    own, listed = _price_sources(
        customer=customer, product_ids={product.pk for product, _ in lines}, on_date=on_date, currency=currency
    )
    quotes = []
    for product, quantity in lines:
        try:
            quotes.append(_quote(customer, product, Decimal(str(quantity)), currency, own, listed))
        except NoPrice:
            quotes.append(None)
    return quotes


@dataclass(frozen=True)
class CatalogueEntry:
    """A product as a customer sees it: their price for one unit (None: on request) and what the
    default warehouse has available now (None for products not kept in stock)."""

    product: Product
    quote: PriceQuote | None
    available: Decimal | None


def catalogue(*, customer: Customer, search: str = "", on_date: date, limit: int = 50) -> list[CatalogueEntry]:
    """Active products whose SKU or name contains `search`, priced for the customer, in four queries."""
    products = product_list().filter(is_active=True)
    if search.strip():
        products = products.filter(Q(sku__icontains=search.strip()) | Q(name__icontains=search.strip()))
    products = list(products.order_by("sku")[:limit])
    quotes = quotes_or_none(
        customer=customer,
        lines=[(product, Decimal("1")) for product in products],
        on_date=on_date,
        currency=customer.default_currency,
    )
    return [
        CatalogueEntry(product, quote, available)
        for product, quote, available in zip(products, quotes, available_now(products), strict=True)
    ]


def available_now(products: list[Product]) -> list[Decimal | None]:
    """Available (on hand less reserved) in the default warehouse, where orders are served from."""
    levels = {
        level.product_id: level.available
        for level in StockLevel.objects.filter(product__in=products, warehouse__is_default=True)
    }
    return [levels.get(product.pk, ZERO) if product.is_stocked else None for product in products]


def _quote(customer, product, quantity, currency, own, listed) -> PriceQuote:
    negotiated = next((p for p in own if p.product_id == product.pk and p.min_quantity <= quantity), None)
    candidates = [i for i in listed if i.product_id == product.pk and i.min_quantity <= quantity]
    group_item = next((i for i in candidates if i.list_group_id is not None), None)
    item = group_item or next((i for i in candidates if i.list_group_id is None), None)
    if negotiated is not None and negotiated.unit_price is not None:
        return PriceQuote(
            negotiated.unit_price,
            currency,
            negotiated.discount_percent,
            f"customer price for {customer.number} from {format_quantity(negotiated.min_quantity)}",
        )
    if item is None:
        raise NoPrice(
            f"No {currency} price for {product.sku} for {customer.number} on this date.",
            fields={"product": [f"No {currency} price for {product.sku}."]},
        )
    rule = f"price list '{item.list_name}'"
    if item.min_quantity > 1:
        rule += f" from {format_quantity(item.min_quantity)}"
    if negotiated is not None:
        return PriceQuote(
            item.unit_price,
            currency,
            negotiated.discount_percent,
            f"{rule}, customer discount {format_quantity(negotiated.discount_percent)}%",
        )
    return PriceQuote(item.unit_price, currency, ZERO, rule)


def quote_price(
    *, customer: Customer, product: Product, quantity: Decimal, on_date: date, currency: str | None = None
) -> PriceQuote:
    """What is the price of this product for this customer, quantity and date, and why."""
    return quote_prices(
        customer=customer, lines=[(product, quantity)], on_date=on_date, currency=currency or customer.default_currency
    )[0]


@dataclass(frozen=True)
class TaxQuote:
    """The tax decision for a product: rate, UNCL 5305 category code, and wording for people."""

    rate: Decimal
    category: TaxCategoryCode
    note: str

    @property
    def reverse_charge(self) -> bool:
        return self.category in REVERSE_CHARGE_CODES


def quote_taxes(
    *, customer: Customer, products: Iterable[Product], destination: str, on_date: date
) -> dict[int, TaxQuote]:
    """The tax of each product (by id) delivered to `destination` for this customer, in one query.

    Domestic and EU B2C: the destination's rate. EU B2B across a border with a VAT ID: reverse charge.
    Outside the EU: a zero-rated export.
    """
    products = list(products)
    home = settings.OTC_COMPANY_COUNTRY
    if destination != home and home in EU_COUNTRIES:
        if destination not in EU_COUNTRIES:
            return {p.pk: TaxQuote(ZERO, TaxCategoryCode.EXPORT, "Export outside the EU, zero-rated") for p in products}
        if customer.tax_id and customer.country in EU_COUNTRIES:
            note = f"Reverse charge: VAT due by the customer ({customer.tax_id})"
            return {p.pk: TaxQuote(ZERO, _reverse_charge_code(p), note) for p in products}
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT category_id, rate FROM inventory_taxrate
                WHERE country = %(country)s AND category_id = ANY(%(categories)s)
                  AND valid_from <= %(day)s AND (valid_to IS NULL OR valid_to > %(day)s)""",
            {"country": destination, "categories": list({p.tax_category_id for p in products}), "day": on_date},
        )
        rates = dict(cursor.fetchall())
    quotes = {}
    for product in products:
        if product.tax_category_id not in rates:
            raise NoTaxRate(
                f"No tax rate for {product.sku}'s category in {destination} on {on_date}.",
                fields={"product": [f"No tax rate in {destination}."]},
            )
        rate = rates[product.tax_category_id]
        quotes[product.pk] = TaxQuote(rate, TaxCategoryCode.STANDARD if rate else TaxCategoryCode.ZERO, "")
    return quotes


def _reverse_charge_code(product: Product) -> TaxCategoryCode:
    """Goods to an EU business abroad are an intra-community supply; services are reverse-charged."""
    return TaxCategoryCode.INTRA_COMMUNITY if product.is_stocked else TaxCategoryCode.REVERSE_CHARGE


def stock_discrepancies() -> list[dict]:
    """Places whose level disagrees with the sums of their moves (should always be empty)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT COALESCE(l.product_id, m.product_id), COALESCE(l.warehouse_id, m.warehouse_id),
                   COALESCE(l.on_hand, 0), COALESCE(m.on_hand, 0), COALESCE(l.reserved, 0), COALESCE(m.reserved, 0)
              FROM inventory_stocklevel l
              FULL JOIN (SELECT product_id, warehouse_id, SUM(on_hand_delta) AS on_hand,
                                SUM(reserved_delta) AS reserved
                           FROM inventory_stockmove GROUP BY product_id, warehouse_id) m
                ON m.product_id = l.product_id AND m.warehouse_id = l.warehouse_id
             WHERE COALESCE(l.on_hand, 0) <> COALESCE(m.on_hand, 0)
                OR COALESCE(l.reserved, 0) <> COALESCE(m.reserved, 0)
            """
        )
        columns = ("product_id", "warehouse_id", "level_on_hand", "moves_on_hand", "level_reserved", "moves_reserved")
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
