"""Test data built through the real services, as production builds it: users, customers, catalogue,
orders, shipments, issued invoices with their VAT, payments and their allocations."""

import hashlib
import time
from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal

import factory
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.contrib.auth.models import Group

from customers import services as customer_services
from customers.services import create_customer
from inventory import services as inventory
from inventory.models import PriceList, PriceListItem, TaxCategory, TaxRate, Warehouse
from invoicing import services as invoicing
from invoicing.models import Invoice
from orders import services as orders
from orders.models import Order, Shipment
from otc.models import User
from payments.models import Allocation, BankStatement, BankStatementLine, Payment
from payments.money import services as money
from payments.money.services import Application
from service import services as service
from service.models import Ticket, TicketChannel


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
    """Staff of the finance group by default, with a TOTP authenticator (finance and admin staff must
    have one); StaffFactory(totp=False) is staff who have not set it up yet."""

    is_staff = True

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        self.groups.set(Group.objects.filter(name__in=extracted or ["finance"]))
        self.save()

    @factory.post_generation
    def totp(self, create, extracted, **kwargs):
        if extracted is not False:
            give_totp(self)


TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def give_totp(user: User) -> User:
    """Set up the authenticator app with a secret the tests know (totp_code)."""
    TOTP.activate(user, TOTP_SECRET)
    return user


def totp_code(secret: str = TOTP_SECRET, *, steps_ago: int = 0) -> str:
    """The code an authenticator app with `secret` (every test user's, unless given) shows now, or
    showed `steps_ago` steps (MFA_TOTP_PERIOD, 30 seconds) ago. A code typed as the app turns is still
    accepted (MFA_TOTP_TOLERANCE)."""
    return format_hotp_value(hotp_value(secret, int(time.time()) // mfa_settings.TOTP_PERIOD - steps_ago))


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


def qty(value: str) -> Decimal:
    """A quantity as typed in a test."""
    return Decimal(value)


def approved_limit(customer, *, limit: str, clerk, approver) -> None:
    """Give the customer a credit limit the way finance does: a change request, approved by someone else."""
    request = customer_services.request_credit_limit_change(
        customer=customer, actor=clerk, credit_limit=limit, reason="credit report"
    )
    customer_services.approve_change_request(change_request=request, actor=approver)


def placed_order(customer, actor, *lines: tuple, **options) -> Order:
    """An order through entry and the credit check: lines as (product, quantity[, line discount %])."""
    order = orders.create_order(
        actor=actor,
        customer=customer,
        lines=[
            orders.LineInput(product, Decimal(quantity), *(Decimal(d) for d in discount))
            for product, quantity, *discount in lines
        ],
        **options,
    )
    return orders.confirm_order(order=order, actor=actor)


def ship(order: Order, clerk, **quantities: str) -> Shipment:
    """Dispatch `quantities` by product SKU (all reserved goods when empty)."""
    by_sku = {line.product.sku: line.pk for line in order.lines.select_related("product")}
    return orders.dispatch_shipment(
        order=order,
        actor=clerk,
        quantities={by_sku[sku]: Decimal(qty) for sku, qty in quantities.items()} or None,
        carrier="DHL",
        tracking_number="00340434161094042557",
    )


def manual_invoice(customer, actor, *lines: tuple[str, str, str], **kwargs) -> Invoice:
    """An invoice typed in by hand and issued (unless `issue=False`): lines as (quantity, unit price, VAT rate)."""
    return invoicing.create_manual_invoice(
        customer=customer,
        actor=actor,
        lines=[
            invoicing.ManualLine(
                description=f"Service {index}", quantity=Decimal(qty), unit_price=Decimal(price), tax_rate=Decimal(rate)
            )
            for index, (qty, price, rate) in enumerate(lines, start=1)
        ],
        **kwargs,
    )


def invoice_for(customer, clerk, amount: str, issued: date) -> Invoice:
    """One line of `amount` without VAT, issued on `issued`."""
    return manual_invoice(customer, clerk, ("1", amount, "0"), issue_date=issued)


def pay(customer, clerk, amount: str, **options) -> Payment:
    """Money received from the customer by bank transfer in EUR, not yet applied (`options` override)."""
    options = {"method": "bank_transfer", "source": "staff", "currency": "EUR", **options}
    return money.record_payment(customer=customer, amount=Decimal(amount), actor=clerk, **options)


def apply(invoice: Invoice, amount: str, **options) -> Application:
    """`amount` of a payment for the invoice (`write_off=True` closes a short rest within the tolerance)."""
    return Application(invoice, Decimal(amount), **options)


def allocated_payment(customer, clerk, *applications: Application, **options) -> list[Allocation]:
    """A payment of exactly what the applications take, allocated to them."""
    total = sum((application.amount for application in applications), Decimal(0))
    payment = pay(customer, clerk, str(total), **options)
    return money.allocate_payment(payment=payment, applications=list(applications), actor=clerk)


def settle(clerk, clock: Callable[[date], None], invoice: Invoice, amount: str, on: date, write_off: str = "0") -> None:
    """On `on`, the customer pays `amount` of the invoice; a rest up to the tolerance is written off if asked."""
    clock(on)
    invoice.refresh_from_db()
    allocated_payment(
        invoice.customer,
        clerk,
        apply(invoice, amount, write_off=Decimal(write_off) > 0),
        currency=invoice.currency,
        received_on=on,
    )


def open_for(customer, actor, **options) -> Ticket:
    """A ticket about a late delivery, opened by staff (`options` override)."""
    defaults = {
        "subject": "Where is my delivery?",
        "body": "Our order has not arrived yet.",
        "channel": TicketChannel.STAFF,
    }
    return service.open_ticket(customer=customer, actor=actor, **{**defaults, **options})


def imported_statement(
    clerk: User, lines: Iterable[dict], *, statement_id: str, booked_on: date, filename: str = "statement.csv"
) -> BankStatement:
    """A euro statement of the company's main account as the import leaves it: its lines unmatched,
    numbered from 1, each with its amount and what the bank says (payer, remittance ...)."""
    lines = list(lines)
    statement = BankStatement.objects.create(
        account_iban="DE89370400440532013000",
        statement_id=statement_id,
        period_start=booked_on,
        period_end=booked_on,
        currency="EUR",
        format="csv",
        file_sha256=hashlib.sha256(statement_id.encode()).hexdigest(),
        filename=filename,
        line_count=len(lines),
        imported_by=clerk,
    )
    BankStatementLine.objects.bulk_create(
        BankStatementLine(statement=statement, line_no=number, booking_date=booked_on, currency="EUR", **fields)
        for number, fields in enumerate(lines, start=1)
    )
    return statement
