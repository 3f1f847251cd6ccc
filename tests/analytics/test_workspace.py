"""The admin home as a workspace: the figures waiting for the signed-in person's role, each a link to
the filtered list that holds exactly those rows, at a fixed query cost; and the sidebar by job."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from orders.models import OrderStatus
from otc.models import ExchangeRate
from tests.factories import CustomerFactory, StaffFactory, approved_limit, invoice_for, make_product, placed_order

pytestmark = pytest.mark.django_db
HOME = "/admin/"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def cards(page: str, role: str) -> dict[str, tuple[str, str]]:
    """{title: (figure, link)} of one role's block on the home page."""
    block = re.search(rf'<section id="workspace-{role}">(.*?)</section>', page, re.S)
    if block is None:
        return {}
    found = {}
    for href, body in re.findall(r'<a href="([^"]+)"[^>]*>(.*?)</a>', block.group(1), re.S):
        title = re.search(r"<h2[^>]*>\s*(.*?)\s*</h2>", body, re.S).group(1)
        figure = re.search(r'<p class="font-semibold text-2xl[^"]*">(.*?)</p>', body, re.S).group(1)
        found[title] = (figure, href.replace("&amp;", "&"))
    return found


@pytest.fixture
def held_and_backordered(clerk, approver, warehouse):
    """One order over a 100 EUR limit (on credit hold) and one for more widgets than are in stock."""
    widget = make_product(actor=clerk, sku="WS-WIDGET", price="10.00", stock="100")
    small = CustomerFactory(actor=clerk, legal_name="Kleinkram KG")
    approved_limit(small, limit="100", clerk=clerk, approver=approver)
    big = CustomerFactory(actor=clerk, legal_name="Grossabnehmer AG")
    approved_limit(big, limit="100000", clerk=clerk, approver=approver)
    held = placed_order(small, clerk, (widget, "20"))
    short = placed_order(big, clerk, (widget, "150"))
    assert held.status == OrderStatus.ON_CREDIT_HOLD
    assert short.status == OrderStatus.CONFIRMED
    return held, short


def test_finance_home_shows_open_and_overdue_receivables_each_linking_to_its_rows(book, clock, clerk):
    clock(date(2026, 4, 15))  # I5 (300, due 2026-04-19) is open but not yet overdue
    client = signed_in(clerk)
    page = client.get(HOME).content.decode()
    finance = cards(page, "finance")

    assert finance["Open receivables EUR"][0] == "1,800.00"  # I6 400 + I4 800 + I2 300 + I5 300
    assert finance["Overdue EUR"][0] == "1,500.00"  # I6, I4, I2
    assert finance["Disputes open"][0] == "1"
    assert finance["Bank lines waiting"][0] == "0"
    assert cards(page, "sales") == {}  # finance enters no orders

    overdue = client.get(finance["Overdue EUR"][1]).content.decode()
    for key in ["I6", "I4", "I2"]:
        assert book.invoices[key].number in overdue
    assert book.invoices["I5"].number not in overdue
    open_list = client.get(finance["Open receivables EUR"][1]).content.decode()
    for key in ["I6", "I4", "I2", "I5"]:
        assert book.invoices[key].number in open_list
    assert book.invoices["I1"].number not in open_list  # paid
    disputes = client.get(finance["Disputes open"][1]).content.decode()
    assert book.invoices["I4"].number in disputes


def test_sales_home_counts_held_backordered_and_shippable_orders(held_and_backordered, approver):
    held, short = held_and_backordered
    seller = StaffFactory(email="sam@otc.test", groups=["sales"])
    client = signed_in(seller)
    page = client.get(HOME).content.decode()
    sales = cards(page, "sales")
    assert cards(page, "finance") == {}
    assert sales["Orders on credit hold"][0] == "1"
    assert sales["Backorders"][0] == "1"  # 150 ordered, 100 reserved
    assert sales["Orders to ship"][0] == "1"

    backorders = client.get(sales["Backorders"][1]).content.decode()
    assert short.number in backorders
    assert held.number not in backorders
    on_hold = client.get(sales["Orders on credit hold"][1]).content.decode()
    assert held.number in on_hold
    assert short.number not in on_hold


def test_the_home_page_costs_the_same_queries_however_much_is_waiting(book, clock, clerk, approver, warehouse):
    clock(date(2026, 4, 15))
    admin = StaffFactory(email="root@otc.test", groups=["admin", "finance", "sales"])
    client = signed_in(admin)
    client.get(HOME)
    with CaptureQueriesContext(connection) as few:
        client.get(HOME)

    ExchangeRate.objects.create(currency="USD", rate_date=date(2020, 1, 1), rate=Decimal("0.9"))
    for index in range(4):
        extra = CustomerFactory(actor=clerk, legal_name=f"Extra {index}", default_currency="USD")
        invoice_for(extra, clerk, "10", date(2026, 3, 1))
    widget = make_product(actor=clerk, sku="MORE", price="10.00", stock="5")
    buyer = CustomerFactory(actor=clerk, legal_name="Vielkauf GmbH")
    approved_limit(buyer, limit="100000", clerk=clerk, approver=approver)
    for _order in range(4):
        placed_order(buyer, clerk, (widget, "3"))
    with CaptureQueriesContext(connection) as many:
        page = client.get(HOME).content.decode()

    assert len(many) == len(few)
    assert cards(page, "finance")["Open receivables USD"][0] == "40.00"
    assert cards(page, "sales")["Backorders"][0] == "3"  # stock 5: orders 2 to 4 are short


def test_the_sidebar_is_by_job_and_shows_only_what_the_role_may_open(clerk):
    seller = StaffFactory(email="sam@otc.test", groups=["sales"])
    finance_page = signed_in(clerk).get(HOME).content.decode()
    sales_page = signed_in(seller).get(HOME).content.decode()

    for section in ["Customers", "Sales", "Receivables", "Catalogue"]:
        assert section in finance_page
    assert "Reconciliation queue" in finance_page
    assert "/admin/payments/bankstatementline/" in finance_page
    assert "Reconciliation queue" not in sales_page
    assert "Credit-hold queue" in sales_page
    assert "/admin/otc/apikey/" not in sales_page


def test_lists_are_named_in_plain_english_plurals(clerk):
    page = signed_in(clerk).get("/admin/invoicing/invoicedeliverylog/").content.decode()
    assert "invoice deliveries" in page.lower()
    assert "promises to pay" in signed_in(clerk).get("/admin/payments/promisetopay/").content.decode().lower()
