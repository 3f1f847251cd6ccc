"""Properties of the one rounding rule, checked on pure functions over generated lines."""

from decimal import Decimal

import pytest
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from invoicing.models import InvoiceLine
from invoicing.services import credit_tax_groups, shipped_invoice_line
from orders.models import OrderLine
from orders.services import order_totals
from otc.money import combined_discount, line_net, minor_units_sql, quantize, tax_groups

RATES = [Decimal("19.00"), Decimal("7.00"), Decimal("0.00"), Decimal("20.00"), Decimal("5.50")]

quantities = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("999"), places=3)
prices = st.decimals(min_value=Decimal("0"), max_value=Decimal("9999.9999"), places=4)
discounts = st.decimals(min_value=Decimal("0"), max_value=Decimal("100"), places=2)
currencies = st.sampled_from(["EUR", "JPY", "KWD"])
CATEGORIES = {Decimal("0.00"): ["Z", "G", "K", "AE"]}


@st.composite
def invoice_lines(draw, currency):
    lines = []
    for _ in range(draw(st.integers(min_value=1, max_value=12))):
        quantity, price, discount = draw(quantities), draw(prices), draw(discounts)
        rate = draw(st.sampled_from(RATES))
        lines.append(
            InvoiceLine(
                quantity=quantity,
                unit_price=price,
                discount_percent=discount,
                tax_category="S" if rate else "Z",
                tax_rate=rate,
                net_amount=line_net(quantity=quantity, unit_price=price, discount_percent=discount, currency=currency),
            )
        )
    return lines


@st.composite
def currency_and_lines(draw):
    currency = draw(currencies)
    return currency, draw(invoice_lines(currency))


@settings(max_examples=300, deadline=None)
@given(currency_and_lines())
def test_totals_are_sums_of_rounded_lines_and_groups(case):
    currency, lines = case
    groups = tax_groups(lines, currency)

    assert sum(group.taxable_amount for group in groups) == sum(line.net_amount for line in lines)
    for group in groups:
        assert group.tax_amount == quantize(group.taxable_amount * group.tax_rate / 100, currency)
        assert group.tax_amount == quantize(group.tax_amount, currency)
    assert len({(group.tax_category, group.tax_rate) for group in groups}) == len(groups)


@settings(max_examples=300, deadline=None)
@given(currency_and_lines(), st.data())
def test_successive_credit_notes_never_exceed_the_invoice_and_a_full_credit_is_exact(case, data):
    currency, lines = case
    invoiced = {(g.tax_category, g.tax_rate): (g.taxable_amount, g.tax_amount) for g in tax_groups(lines, currency)}
    remaining = dict(invoiced)
    left = [line.net_amount for line in lines]

    while any(left):
        credit = []
        for index, line in enumerate(lines):
            if not left[index] or not data.draw(st.booleans()):
                continue
            take_all = data.draw(st.booleans())
            share = left[index] if take_all else min(left[index], quantize(left[index] / 3, currency))
            if share:
                credit.append(InvoiceLine(tax_category=line.tax_category, tax_rate=line.tax_rate, net_amount=share))
                left[index] -= share
        if not credit:
            index = next(i for i, amount in enumerate(left) if amount)
            line = lines[index]
            credit.append(InvoiceLine(tax_category=line.tax_category, tax_rate=line.tax_rate, net_amount=left[index]))
            left[index] = Decimal(0)
        for group in credit_tax_groups(credit, remaining=remaining, currency=currency):
            key = (group.tax_category, group.tax_rate)
            net_left, tax_left = remaining[key]
            assert Decimal(0) <= group.tax_amount <= tax_left
            remaining[key] = (net_left - group.taxable_amount, tax_left - group.tax_amount)

    assert all(net == 0 and tax == 0 for net, tax in remaining.values())


@st.composite
def orders_with_lines(draw):
    """An order's lines as create_order prices them: line and order discounts combined, one category per rate."""
    currency, order_discount = draw(currencies), draw(discounts)
    lines = []
    for _ in range(draw(st.integers(min_value=1, max_value=12))):
        quantity, price, discount = draw(quantities), draw(prices), draw(discounts)
        rate = draw(st.sampled_from(RATES))
        lines.append(
            OrderLine(
                quantity=quantity,
                unit_price=price,
                discount_percent=discount,
                tax_rate=rate,
                tax_category=draw(st.sampled_from(CATEGORIES.get(rate, ["S"]))),
                net_amount=line_net(
                    quantity=quantity,
                    unit_price=price,
                    discount_percent=combined_discount(discount, order_discount),
                    currency=currency,
                ),
            )
        )
    return currency, order_discount, lines


@settings(max_examples=300, deadline=None)
@given(orders_with_lines())
def test_an_order_and_the_invoice_of_all_its_goods_agree_to_the_cent(case):
    currency, order_discount, order_lines = case
    net, tax = order_totals(order_lines, currency)
    invoice_lines = [
        shipped_invoice_line(
            quantity=line.quantity,
            description="goods",
            unit_price=line.unit_price,
            line_discount=line.discount_percent,
            order_discount=order_discount,
            tax_rate=line.tax_rate,
            tax_category=line.tax_category,
            tax_note=line.tax_note,
            product_id=1,
            sku="SKU",
            gtin="",
            product_unit="pc",
            currency=currency,
            order_line_id=1,
            shipment_line_id=1,
        )
        for line in order_lines
    ]
    groups = tax_groups(invoice_lines, currency)

    assert [line.net_amount for line in invoice_lines] == [line.net_amount for line in order_lines]
    assert (sum(group.taxable_amount for group in groups), sum(group.tax_amount for group in groups)) == (net, tax)
    assert tax_groups(order_lines, currency) == groups


@settings(max_examples=300, deadline=None)
@given(orders_with_lines())
def test_an_order_lines_tax_shares_add_up_to_each_groups_tax_and_stay_within_a_minor_unit(case):
    currency, _, lines = case
    _, tax = order_totals(lines, currency)
    unit = Decimal(1).scaleb(-{"EUR": 2, "JPY": 0, "KWD": 3}[currency])

    assert sum(line.tax_amount for line in lines) == tax
    for group in tax_groups(lines, currency):
        members = [line for line in lines if (line.tax_category, line.tax_rate) == (group.tax_category, group.tax_rate)]
        assert sum(line.tax_amount for line in members) == group.tax_amount
        for line in members:
            exact = group.tax_amount * line.net_amount / group.taxable_amount if group.taxable_amount else 0
            assert line.tax_amount >= 0
            assert abs(line.tax_amount - exact) < unit


@pytest.mark.django_db
def test_reports_rounding_in_sql_round_as_quantize_does():
    amounts = ["0.005", "-0.005", "2.5", "-2.5", "1.0005", "-1.0005", "12.34565", "0.00005", "-123456.78945"]
    cases = [(amount, currency) for amount in amounts for currency in ["EUR", "JPY", "KWD", "CLF", "XOF"]]

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT ROUND(x.amount, {minor_units_sql('x.currency')}) "
            "FROM unnest(%s::numeric[], %s::text[]) WITH ORDINALITY AS x(amount, currency, n) ORDER BY x.n",
            [[Decimal(amount) for amount, _ in cases], [currency for _, currency in cases]],
        )
        rounded = [value for (value,) in cursor.fetchall()]

    assert rounded == [quantize(Decimal(amount), currency) for amount, currency in cases]
    assert [str(value) for value in rounded[:5]] == ["0.01", "0", "0.005", "0.0050", "0"]
