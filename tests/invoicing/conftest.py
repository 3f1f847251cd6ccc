from decimal import Decimal

import pytest

from invoicing import services as invoicing
from invoicing.models import Invoice
from orders import services as orders
from tests.orders import conftest as orders_fixtures

# The order fixtures, shared: a customer with a 10,000 limit, a warehouse, and two products.
customer, warehouse, widget, manual = (
    orders_fixtures.customer,
    orders_fixtures.warehouse,
    orders_fixtures.widget,
    orders_fixtures.manual,
)
reduced_rate, credit_controller = orders_fixtures.reduced_rate, orders_fixtures.credit_controller


def ship(order, clerk, **quantities):
    """Dispatch `quantities` by product SKU (all reserved goods when empty)."""
    by_sku = {line.product.sku: line.pk for line in order.lines.select_related("product")}
    return orders.dispatch_shipment(
        order=order,
        actor=clerk,
        quantities={by_sku[sku]: Decimal(qty) for sku, qty in quantities.items()} or None,
        carrier="DHL",
        tracking_number="00340434161094042557",
    )


@pytest.fixture
def confirmed_order(clerk, customer, widget, manual):
    """12 widgets at the 9.00 break −5% and 3 manuals at 19.99 (7%), with a 2% order discount."""
    order = orders.create_order(
        actor=clerk,
        customer=customer,
        discount_percent=Decimal("2"),
        po_number="PO-4711",
        lines=[
            orders.LineInput(widget, Decimal("12"), Decimal("5")),
            orders.LineInput(manual, Decimal("3")),
        ],
    )
    return orders.confirm_order(order=order, actor=clerk)


@pytest.fixture
def shipment(confirmed_order, clerk):
    return ship(confirmed_order, clerk)


@pytest.fixture
def media_root(settings, tmp_path):
    """Stored documents go to a directory of the test's own."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def company(db, media_root):
    """The issuing company, as printed on every document; its documents go to the test's media root."""
    from invoicing.models import CompanyProfile

    return CompanyProfile.objects.create(
        pk=1,
        legal_name="Hanse Werkzeug GmbH",
        line1="Speicherstadt 1",
        postal_code="20457",
        city="Hamburg",
        country="DE",
        tax_id="DE123456789",
        registration="Amtsgericht Hamburg HRB 12345",
        email="billing@hanse-werkzeug.example",
        bank_name="Hamburger Sparkasse",
        iban="DE89370400440532013000",
        bic="HASPDEHHXXX",
        legal_text="Managing director: Hanna Hanse",
        payment_instructions="Please quote the invoice number with your payment.",
    )


def manual_invoice(customer, actor, *lines: tuple[str, str, str], **kwargs) -> Invoice:
    """An invoice typed in by hand: lines as (quantity, unit price, VAT rate)."""
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
