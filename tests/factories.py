from datetime import date
from decimal import Decimal

import factory
from django.contrib.auth.models import Group

from customers.services import create_customer
from inventory import services as inventory
from inventory.models import PriceList, PriceListItem, TaxCategory, TaxRate, Warehouse
from otc.models import User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@otc.test")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        if extracted:
            self.groups.set(Group.objects.filter(name__in=extracted))
        self.save()


class StaffFactory(UserFactory):
    is_staff = True

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        self.groups.set(Group.objects.filter(name__in=extracted or ["finance"]))
        self.save()


class CustomerFactory(factory.Factory):
    """Customers are made through the service, as in production."""

    class Meta:
        model = dict

    legal_name = factory.Sequence(lambda n: f"Testkunde {n:05d} Handel")
    country = "DE"
    tax_id = ""
    default_currency = "EUR"
    sales_rep = None
    confirm_duplicate = True

    @classmethod
    def _create(cls, model_class, *args, actor=None, **kwargs):
        return create_customer(actor=actor or StaffFactory(), **kwargs)


def make_catalogue(*, actor, tax_rate: str = "19.00", country: str = "DE"):
    """A default warehouse, a standard tax category with its rate, and an EUR price list for everyone."""
    standard, _ = TaxCategory.objects.get_or_create(code="standard", defaults={"name": "Standard rate"})
    TaxRate.objects.get_or_create(
        category=standard, country=country, valid_from=date(2020, 1, 1), defaults={"rate": tax_rate}
    )
    warehouse, _ = Warehouse.objects.get_or_create(
        code="main", defaults={"name": "Main warehouse", "country": "DE", "is_default": True}
    )
    price_list, _ = PriceList.objects.get_or_create(name="List EUR", currency="EUR", valid_from=date(2020, 1, 1))
    return standard, warehouse, price_list


def make_product(
    *,
    actor,
    sku: str,
    price: str,
    stock: str = "0",
    kind: str = "stocked",
    tax_category=None,
    breaks: dict[str, str] | None = None,
):
    """A product through the service, listed at `price` (plus quantity `breaks`), with `stock` received."""
    standard, warehouse, price_list = make_catalogue(actor=actor)
    product = inventory.create_product(
        actor=actor, sku=sku, name=f"Product {sku}", kind=kind, tax_category=tax_category or standard
    )
    for min_quantity, unit_price in {"1": price, **(breaks or {})}.items():
        PriceListItem.objects.create(
            price_list=price_list, product=product, min_quantity=min_quantity, unit_price=unit_price
        )
    if Decimal(stock) > 0:
        inventory.receive_stock(product=product, warehouse=warehouse, quantity=Decimal(stock), actor=actor)
    return product
