"""Properties of the one rounding rule, checked on pure functions over generated lines."""

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from invoicing.models import InvoiceLine
from invoicing.services import credit_tax_groups, line_net, tax_groups
from otc.money import quantize

RATES = [Decimal("19.00"), Decimal("7.00"), Decimal("0.00"), Decimal("20.00"), Decimal("5.50")]

quantities = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("999"), places=3)
prices = st.decimals(min_value=Decimal("0"), max_value=Decimal("9999.9999"), places=4)
discounts = st.decimals(min_value=Decimal("0"), max_value=Decimal("100"), places=2)
currencies = st.sampled_from(["EUR", "JPY", "KWD"])


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
