"""List search at scale (otc.search): what each way finds, that PostgreSQL can answer every way from an
index (the plan is read with sequential scans priced out), that an admin search runs once, and that
deep pages stop at a limit with a message."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import Customer
from customers.selectors import CUSTOMER_SEARCH
from invoicing.models import Invoice
from invoicing.selectors import INVOICE_SEARCH
from orders.models import Order
from orders.selectors import ORDER_SEARCH
from otc.search import indexed_search
from payments.models import Payment
from payments.money.selectors import PAYMENT_SEARCH
from tests.factories import CustomerFactory, manual_invoice

pytestmark = pytest.mark.django_db


@pytest.fixture
def documents(clerk):
    nordwind = CustomerFactory(actor=clerk, legal_name="Nordwind Handel GmbH", trading_name="Nordwind")
    sudhafen = CustomerFactory(actor=clerk, legal_name="Südhafen Logistik AG", tax_id="DE136695976")
    first = manual_invoice(nordwind, clerk, ("1", "100", "19"))
    second = manual_invoice(sudhafen, clerk, ("2", "100", "19"), po_number="PO-77/a")
    return nordwind, sudhafen, first, second


def common_start(a: str, b: str) -> str:
    length = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    return a[:length]


def found(queryset, term, spec) -> list:
    return sorted(indexed_search(queryset, term, spec).values_list("pk", flat=True))


def test_a_document_is_found_by_its_number_its_po_number_or_its_customer(documents):
    nordwind, _, first, second = documents
    invoices = Invoice.objects.all()

    assert found(invoices, first.number, INVOICE_SEARCH) == [first.pk]
    assert found(invoices, common_start(first.number, second.number).lower(), INVOICE_SEARCH) == sorted(
        [first.pk, second.pk]
    )
    assert found(invoices, "po-77/A", INVOICE_SEARCH) == [second.pk]
    assert found(invoices, "hafen log", INVOICE_SEARCH) == [second.pk]
    assert found(invoices, nordwind.number, INVOICE_SEARCH) == [first.pk]
    assert found(invoices, "  nordwind  ", INVOICE_SEARCH) == [first.pk]
    assert found(invoices, "", INVOICE_SEARCH) == sorted([first.pk, second.pk])
    assert found(invoices, "PO-77", INVOICE_SEARCH) == []  # a PO number is matched whole
    assert found(invoices, "zz", INVOICE_SEARCH) == []  # too short for a name, no number starts so


def test_a_term_shaped_like_a_number_is_not_looked_for_inside_names(clerk):
    CustomerFactory(actor=clerk, legal_name="Werk INV-7 Verwaltung GmbH")
    named = CustomerFactory(actor=clerk, legal_name="Werk Sieben Verwaltung GmbH")
    customers = Customer.objects.all()

    assert found(customers, "INV-7", CUSTOMER_SEARCH) == []
    assert found(customers, "werk sieben", CUSTOMER_SEARCH) == [named.pk]


def test_a_customer_is_found_by_number_tax_id_or_any_part_of_a_name(documents):
    nordwind, sudhafen, *_ = documents
    customers = Customer.objects.all()

    assert found(customers, "de136695976", CUSTOMER_SEARCH) == [sudhafen.pk]
    assert found(customers, "695976", CUSTOMER_SEARCH) == [sudhafen.pk]
    assert found(customers, "handel", CUSTOMER_SEARCH) == [nordwind.pk]
    assert found(customers, common_start(nordwind.number, sudhafen.number), CUSTOMER_SEARCH) == sorted(
        [nordwind.pk, sudhafen.pk]
    )
    assert found(customers, "100%", CUSTOMER_SEARCH) == []  # a wildcard is a character


@pytest.mark.parametrize(
    ("queryset", "term", "spec", "indexes"),
    [
        (
            Invoice.objects.all(),
            "INV-2026-0001",
            INVOICE_SEARCH,
            {"invoicing_invoice_number_f35f6ffa_like", "invoice_po_number"},
        ),
        (Order.objects.all(), "SO-2026-0001", ORDER_SEARCH, {"orders_order_number_abc9e0f2_like", "order_po_number"}),
        (
            Payment.objects.all(),
            "wire 4711",
            PAYMENT_SEARCH,
            {"payments_payment_number_cb3ce506_like", "payment_external_id", "payment_reference_trigram"},
        ),
        (
            Customer.objects.all(),
            "Nordwind",
            CUSTOMER_SEARCH,
            {
                "customers_customer_number_c63b3994_like",
                "customer_tax_id_trigram",
                "customer_legal_name_trigram",
                "customer_trading_name_trigram",
            },
        ),
    ],
    ids=["invoices", "orders", "payments", "customers"],
)
def test_every_way_of_searching_is_answered_from_an_index(documents, queryset, term, spec, indexes):
    sql, params = indexed_search(queryset.order_by(), term, spec).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "Seq Scan" not in plan, plan
    assert indexes <= set(re.findall(r"on (\w+)", plan)), plan


def test_an_admin_search_runs_once(documents, admin_client):
    *_, first, _ = documents
    with CaptureQueriesContext(connection) as queries:
        page = admin_client.get("/admin/invoicing/invoice/", {"q": first.number})

    assert page.status_code == 200
    assert first.number in page.content.decode()
    searches = [q["sql"] for q in queries if 'FROM "invoicing_invoice"' in q["sql"] and "LIKE" in q["sql"]]
    assert len(searches) == 1, searches


def test_lists_page_no_further_than_the_limit_and_say_how_to_reach_the_rest(documents, admin_client, monkeypatch):
    monkeypatch.setattr("otc.admin.MAX_LIST_PAGES", 1)
    *_, first, second = documents

    page = admin_client.get("/admin/invoicing/invoice/", {"p": 9})

    assert page.status_code == 200
    assert page.context["cl"].page_num == 1
    html = page.content.decode()
    assert first.number in html
    assert second.number in html
    assert "Lists page up to page 1; this is the last. Narrow the list with a filter or a search" in html
