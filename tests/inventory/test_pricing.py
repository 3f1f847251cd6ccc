from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from customers.models import CustomerGroup
from inventory.errors import NoPrice, NoTaxRate
from inventory.models import CustomerPrice, PriceList, PriceListItem, TaxCategory, TaxRate
from inventory.selectors import quote_price, quote_taxes
from tests.factories import CustomerFactory, make_catalogue, make_product

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 23)


@pytest.fixture
def widget(clerk):
    return make_product(actor=clerk, sku="WIDGET", price="10.00", breaks={"10": "9.00", "100": "8.00"})


def test_list_price_with_quantity_breaks_and_the_rule_behind_it(clerk, widget):
    customer = CustomerFactory(actor=clerk)

    assert quote_price(customer=customer, product=widget, quantity=Decimal("9"), on_date=TODAY).unit_price == 10
    quote = quote_price(customer=customer, product=widget, quantity=Decimal("10"), on_date=TODAY)
    assert quote.unit_price == Decimal("9.00")
    assert quote.rule == "price list 'List EUR' from 10"
    assert quote_price(customer=customer, product=widget, quantity=Decimal("250"), on_date=TODAY).unit_price == 8


def test_group_price_list_beats_the_general_list_and_customer_price_beats_both(clerk, widget):
    wholesale = CustomerGroup.objects.create(code="wholesale", name="Wholesale")
    group_list = PriceList.objects.create(
        name="Wholesale EUR", currency="EUR", customer_group=wholesale, valid_from=date(2026, 1, 1)
    )
    PriceListItem.objects.create(price_list=group_list, product=widget, unit_price="8.50")
    trader = CustomerFactory(actor=clerk, group=wholesale)
    favourite = CustomerFactory(actor=clerk, group=wholesale)
    CustomerPrice.objects.create(
        customer=favourite, product=widget, currency="EUR", unit_price="7.25", valid_from=date(2026, 1, 1)
    )

    assert quote_price(customer=trader, product=widget, quantity=Decimal("1"), on_date=TODAY).rule == (
        "price list 'Wholesale EUR'"
    )
    assert quote_price(customer=trader, product=widget, quantity=Decimal("1"), on_date=TODAY).unit_price == Decimal(
        "8.50"
    )
    quote = quote_price(customer=favourite, product=widget, quantity=Decimal("1"), on_date=TODAY)
    assert (quote.unit_price, quote.rule) == (Decimal("7.25"), f"customer price for {favourite.number} from 1")


def test_customer_discount_applies_to_the_list_price(clerk, widget):
    customer = CustomerFactory(actor=clerk)
    CustomerPrice.objects.create(
        customer=customer, product=widget, currency="EUR", discount_percent="12.5", valid_from=date(2026, 1, 1)
    )

    quote = quote_price(customer=customer, product=widget, quantity=Decimal("10"), on_date=TODAY)

    assert (quote.unit_price, quote.discount_percent) == (Decimal("9.00"), Decimal("12.50"))
    assert quote.rule == "price list 'List EUR' from 10, customer discount 12.5%"


def test_expired_prices_and_other_currencies_do_not_apply(clerk, widget):
    customer = CustomerFactory(actor=clerk)
    CustomerPrice.objects.create(
        customer=customer,
        product=widget,
        currency="EUR",
        unit_price="1.00",
        valid_from=date(2025, 1, 1),
        valid_to=date(2026, 1, 1),
    )

    assert quote_price(customer=customer, product=widget, quantity=Decimal("1"), on_date=TODAY).unit_price == 10
    with pytest.raises(NoPrice, match="No USD price for WIDGET"):
        quote_price(customer=customer, product=widget, quantity=Decimal("1"), on_date=TODAY, currency="USD")


def test_taxes_domestic_reverse_charge_and_export(clerk, widget):
    domestic = CustomerFactory(actor=clerk)
    french_business = CustomerFactory(actor=clerk, country="FR", tax_id="FR40303265045")
    french_consumer = CustomerFactory(actor=clerk, country="FR")
    american = CustomerFactory(actor=clerk, country="US")
    service = make_product(actor=clerk, sku="INSTALL", price="80.00", kind="service")

    home = quote_taxes(customer=domestic, products=[widget], destination="DE", on_date=TODAY)[widget.pk]
    assert (home.rate, home.category, home.reverse_charge) == (19, "S", False)
    reverse = quote_taxes(customer=french_business, products=[widget, service], destination="FR", on_date=TODAY)
    assert (reverse[widget.pk].rate, reverse[widget.pk].category, reverse[widget.pk].reverse_charge) == (0, "K", True)
    assert (reverse[service.pk].category, reverse[service.pk].reverse_charge) == ("AE", True)
    assert "FR40303265045" in reverse[widget.pk].note
    export = quote_taxes(customer=american, products=[widget], destination="US", on_date=TODAY)[widget.pk]
    assert (export.rate, export.category, export.reverse_charge, export.note) == (
        0,
        "G",
        False,
        "Export outside the EU, zero-rated",
    )
    with pytest.raises(NoTaxRate, match="in FR"):
        quote_taxes(customer=french_consumer, products=[widget], destination="FR", on_date=TODAY)


def test_tax_rate_periods_cannot_overlap(clerk):
    standard = make_catalogue(actor=clerk)[0]
    TaxRate.objects.filter(category=standard, country="DE").update(valid_to=date(2027, 1, 1))
    TaxRate.objects.create(category=standard, country="DE", rate="21.00", valid_from=date(2027, 1, 1))

    with pytest.raises(IntegrityError), transaction.atomic():
        TaxRate.objects.create(category=standard, country="DE", rate="20.00", valid_from=date(2026, 6, 1))
    with pytest.raises(ValidationError, match="overlaps another rate of the same category and country"):
        TaxRate(category=standard, country="DE", rate="20.00", valid_from=date(2020, 1, 1)).full_clean()
    TaxRate(category=standard, country="AT", rate="20.00", valid_from=date(2020, 1, 1)).full_clean()
    assert TaxCategory.objects.get(code="standard").rates.count() == 2
