"""Lists and search at a million invoices: the admin and API pages a clerk or a partner waits for, each
timed against hand-written SQL returning the same rows, in interleaved blocks of the same run (page,
SQL, SQL, page, ...; medians compared), with the page's query count.

The data is bench/receivables_data.py's (1,000,000 invoices over 50,000 customers with payments). A page
is timed in-process through Django's test client (server time: middleware, queries, template), signed in
as a superuser with an authenticator; the API with an API key. The SQL baseline fetches the rows the
page shows, through the indexes the schema has.

Targets: every admin page under 300 ms, every API list under 100 ms, a search by number under 50 ms.

    .venv/bin/python bench/lists.py [--invoices 1000000] [--customers 50000] [--rounds 5] [--keep]
"""

import statistics
import sys
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Timer, drop_database, setup_django, write_results
from receivables_data import generate_reported, size_arguments

ADMIN_TARGET = 0.300
API_TARGET = 0.100
NUMBER_SEARCH_TARGET = 0.050

INVOICE_ROWS = """
    SELECT i.*, c.* FROM invoicing_invoice i JOIN customers_customer c ON c.id = i.customer_id
"""


def main() -> None:
    args = size_arguments(__doc__)

    url = setup_django()
    from allauth.mfa.totp.internal.auth import TOTP
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from otc.admin import MAX_LIST_PAGES
    from otc.models import User
    from otc.services import create_api_key

    today = date.today()
    generated = generate_reported(invoices=args.invoices, customers=args.customers, today=today)

    clerk = User.objects.create_superuser("bench-lists@otc.test", "x")
    TOTP.activate(clerk, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    admin = Client(HTTP_HOST="127.0.0.1")
    admin.force_login(clerk)
    _, key = create_api_key(name="bench lists", scopes=["invoices:read", "customers:read"], actor=clerk)
    api = Client(HTTP_HOST="127.0.0.1", headers={"Authorization": f"Api-Key {key}"})

    number = f"INV-B-{args.invoices // 2:08d}"
    customer_no = args.customers // 3
    name = f"Kunde {customer_no}"
    customer_id = (
        connection.cursor()
        .execute("SELECT id FROM customers_customer WHERE number = %s", [f"C-{customer_no:06d}"])
        .fetchone()[0]
    )
    deep_page = MAX_LIST_PAGES  # the deepest page a list shows
    start, end = today - timedelta(days=89), today

    def page(client, path: str, **query):
        def run():
            response = client.get(path, query)
            assert response.status_code == 200, (path, response.status_code)
            return response

        return run

    def sql(statement: str, *params):
        def run():
            with connection.cursor() as cursor:
                cursor.execute(statement, params)
                return cursor.fetchall()

        return run

    by_name = "(SELECT id FROM customers_customer WHERE UPPER(legal_name) LIKE UPPER(%s) LIMIT 501)"
    cases = {
        "admin invoices, page 1": (
            ADMIN_TARGET,
            page(admin, "/admin/invoicing/invoice/"),
            sql(INVOICE_ROWS + " ORDER BY i.id DESC LIMIT 101"),
        ),
        "admin invoices, status filter": (
            ADMIN_TARGET,
            page(admin, "/admin/invoicing/invoice/", status__exact="issued"),
            sql(INVOICE_ROWS + " WHERE i.status = 'issued' ORDER BY i.id DESC LIMIT 101"),
        ),
        f"admin invoices, page {deep_page}": (
            ADMIN_TARGET,
            page(admin, "/admin/invoicing/invoice/", p=deep_page),
            sql(INVOICE_ROWS + " ORDER BY i.id DESC LIMIT 101 OFFSET %s", (deep_page - 1) * 100),
        ),
        "admin invoices, search by number": (
            NUMBER_SEARCH_TARGET,
            page(admin, "/admin/invoicing/invoice/", q=number),
            sql(INVOICE_ROWS + " WHERE i.number = %s", number),
        ),
        "admin invoices, search by customer name": (
            ADMIN_TARGET,
            page(admin, "/admin/invoicing/invoice/", q=name),
            sql(INVOICE_ROWS + f" WHERE i.customer_id IN {by_name} ORDER BY i.id DESC LIMIT 101", f"%{name}%"),
        ),
        "admin customers, search by name": (
            ADMIN_TARGET,
            page(admin, "/admin/customers/customer/", q=name),
            sql("SELECT * FROM customers_customer WHERE UPPER(legal_name) LIKE UPPER(%s) LIMIT 101", f"%{name}%"),
        ),
        "admin customer 360": (
            ADMIN_TARGET,
            page(admin, f"/admin/customers/customer/{customer_id}/change/"),
            sql(
                "SELECT * FROM invoicing_invoice WHERE customer_id = %s AND open_amount > 0 ORDER BY due_date",
                customer_id,
            ),
        ),
        "api invoices, page 1": (
            API_TARGET,
            page(api, "/api/v1/invoices/"),
            sql(INVOICE_ROWS + " ORDER BY i.issue_date DESC, i.id DESC LIMIT 51"),
        ),
        "api invoices, search by number": (
            NUMBER_SEARCH_TARGET,
            page(api, "/api/v1/invoices/", search=number),
            sql(INVOICE_ROWS + " WHERE i.number = %s", number),
        ),
        "api customers, search by name": (
            API_TARGET,
            page(api, "/api/v1/customers/", search=name),
            sql("SELECT * FROM customers_customer WHERE UPPER(legal_name) LIKE UPPER(%s) LIMIT 51", f"%{name}%"),
        ),
        "api statement of account, 90 days": (
            API_TARGET,
            page(api, f"/api/v1/customers/{customer_id}/statement/", start=start.isoformat(), end=end.isoformat()),
            sql(
                "SELECT * FROM ledger_journalline WHERE customer_id = %s AND posted_on BETWEEN %s AND %s",
                customer_id,
                start,
                end,
            ),
        ),
    }

    queries = {}
    for label, (_, run, _) in cases.items():
        run()  # warm up: caches, plans
        with CaptureQueriesContext(connection) as captured:
            run()
        queries[label] = len(captured)

    timings = {label: {"page": [], "sql": []} for label in cases}
    for block in range(args.rounds):
        for label, (_, run, baseline) in cases.items():
            order = [("page", run), ("sql", baseline)]
            for side, call in order if block % 2 == 0 else reversed(order):
                for _ in range(2):
                    with Timer() as timer:
                        call()
                    timings[label][side].append(timer.seconds)

    print(f"\n{'page':42} {'page ms':>8} {'sql ms':>8} {'ratio':>7} {'queries':>8} {'target':>7}")
    results = {}
    for label, (target, _, _) in cases.items():
        ours, base = statistics.median(timings[label]["page"]), statistics.median(timings[label]["sql"])
        met = ours <= target
        print(
            f"{label:42} {ours * 1000:8.1f} {base * 1000:8.1f} {ours / base:6.1f}x {queries[label]:8} "
            f"{target * 1000:5.0f}ms {'met' if met else 'MISSED'}"
        )
        results[label] = {
            "page_ms": round(ours * 1000, 1),
            "sql_ms": round(base * 1000, 1),
            "ratio": round(ours / base, 1),
            "queries": queries[label],
            "target_ms": target * 1000,
            "met": met,
        }

    path = write_results(
        "lists",
        {
            "invoices": args.invoices,
            "customers": args.customers,
            "rounds": args.rounds,
            "generate_seconds": round(generated, 1),
            "pages": results,
        },
    )
    print(f"\nwritten to {path}")
    if not args.keep:
        drop_database(url)


if __name__ == "__main__":
    main()
