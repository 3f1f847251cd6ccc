"""A receivables history generated in the database, for the benchmarks that need a million invoices
(analytics, lists): INSERT ... SELECT over generate_series, faster than COPY from a client on this
machine and flat in memory. Customers `C-000001`... with a credit limit, invoices `INV-B-00000001`...
issued over two years with 30 days' terms (every seventh with a PO number), their open items and ledger
entries (receivable and revenue lines), and for 85% of them a payment allocation posted between 15 days
early and 45 days late (if that day has come), which is then the item's `settled_on`. Audit triggers,
and the trigger that keeps `settled_on`, are off while generating.
"""

import argparse
from datetime import date

from common import Timer


def generate(*, invoices: int, customers: int, today: date) -> float:
    from django.db import connection

    from ledger.models import AccountRole
    from otc.models import User

    actor = User.objects.create_user("bench-analytics@otc.test", "x", is_staff=True)
    accounts = dict(connection.cursor().execute("SELECT role, id FROM ledger_ledgeraccount").fetchall())
    params = {
        "customers": customers,
        "invoices": invoices,
        "today": today,
        "actor": actor.pk,
        "receivable": accounts[AccountRole.RECEIVABLE],
        "revenue": accounts[AccountRole.REVENUE],
        "credit": accounts[AccountRole.CUSTOMER_CREDIT],
    }
    statements = [
        """
        INSERT INTO customers_customer (number, legal_name, trading_name, country, tax_id, name_key,
                                        default_currency, language, payment_terms_days, status, notes,
                                        peppol_scheme, peppol_id, leitweg_id, created_at, updated_at)
        SELECT 'C-' || lpad(g::text, 6, '0'), 'Kunde ' || g, '', (ARRAY['DE', 'FR', 'NL', 'AT'])[1 + g %% 4], '',
               'kunde ' || g, 'EUR', 'de', 30, 'active', '', '', '', '', now(), now()
          FROM generate_series(1, %(customers)s) g
        """,
        """
        INSERT INTO customers_creditprofile (customer_id, credit_limit, credit_currency, risk_class, hold_reason)
        SELECT id, 50000, 'EUR', 'medium', '' FROM customers_customer WHERE number LIKE 'C-%%'
        """,
        """
        CREATE TEMP TABLE bench_invoice AS
        SELECT g, c.id AS customer_id, %(today)s::date - (g %% 730) AS issued,
               round(50 + (hashtext('n' || g)::bigint & 2147483647) %% 500000 / 100.0, 2) AS net,
               (hashtext('p' || g)::bigint & 2147483647) %% 100 < 85 AS paid,
               ((hashtext('d' || g)::bigint & 2147483647) %% 61)::int - 15 AS days_late
          FROM generate_series(1, %(invoices)s) g
          JOIN customers_customer c ON c.number = 'C-' || lpad((1 + (hashtext('c' || g)::bigint & 2147483647)
                                                                     %% %(customers)s)::text, 6, '0')
        """,
        """
        INSERT INTO invoicing_invoice (id, kind, number, status, currency, company_currency, exchange_rate,
               issue_date, due_date, payment_terms_days, customer_snapshot, billing_address, shipping_address,
               po_number, reason, net_total, tax_total, gross_total, open_amount, credited_amount,
               language, layout, notes, created_at, issued_at, updated_at, created_by_id, customer_id, issued_by_id)
        SELECT g, 'invoice', 'INV-B-' || lpad(g::text, 8, '0'),
               CASE WHEN paid AND issued + 30 + days_late <= %(today)s THEN 'paid' ELSE 'issued' END,
               'EUR', 'EUR', 1, issued, issued + 30, 30, '{}', '{}', '{}',
               CASE WHEN g %% 7 = 0 THEN 'PO-' || g ELSE '' END, '', net, 0, net,
               CASE WHEN paid AND issued + 30 + days_late <= %(today)s THEN 0 ELSE net END, 0,
               'de', 'standard', '', now(), now(), now(), %(actor)s, customer_id, %(actor)s
          FROM bench_invoice
        """,
        """
        INSERT INTO ledger_openitem (id, customer_id, kind, document_id, reference, currency, issued_on, due_on,
                                     settled_on)
        SELECT g, customer_id, 'invoice', g, 'INV-B-' || lpad(g::text, 8, '0'), 'EUR', issued, issued + 30,
               CASE WHEN paid AND issued + 30 + days_late <= %(today)s THEN issued + 30 + days_late END
          FROM bench_invoice
        """,
        """
        INSERT INTO ledger_journalentry (id, posted_on, kind, memo, item_id, source, created_by_id, created_at)
        SELECT g, issued, 'invoice', 'INV-B-' || g, g, '', %(actor)s, now() FROM bench_invoice
        UNION ALL
        SELECT %(invoices)s + g, issued + 30 + days_late, 'allocation', 'PAY-B-' || g, g, '', %(actor)s, now()
          FROM bench_invoice WHERE paid AND issued + 30 + days_late <= %(today)s
        """,
        """
        INSERT INTO ledger_journalline (entry_id, posted_on, entry_kind, account_id, customer_id, item_id, currency,
                                        amount, amount_company)
        SELECT g, issued, 'invoice', %(receivable)s, customer_id, g, 'EUR', net, net FROM bench_invoice
        UNION ALL
        SELECT g, issued, 'invoice', %(revenue)s, NULL, NULL, 'EUR', -net, -net FROM bench_invoice
        UNION ALL
        SELECT %(invoices)s + g, issued + 30 + days_late, 'allocation', %(receivable)s, customer_id, g, 'EUR', -net,
               -net
          FROM bench_invoice WHERE paid AND issued + 30 + days_late <= %(today)s
        UNION ALL
        SELECT %(invoices)s + g, issued + 30 + days_late, 'allocation', %(credit)s, customer_id, NULL, 'EUR', net,
               net
          FROM bench_invoice WHERE paid AND issued + 30 + days_late <= %(today)s
        """,
        "SELECT setval(pg_get_serial_sequence('invoicing_invoice', 'id'), %(invoices)s)",
        "SELECT setval(pg_get_serial_sequence('ledger_openitem', 'id'), %(invoices)s)",
        "SELECT setval(pg_get_serial_sequence('ledger_journalentry', 'id'), 2 * %(invoices)s)",
    ]
    with Timer() as timer, connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")  # generating data: no audit triggers
        for sql in statements:
            cursor.execute(sql, params)
        cursor.execute("SET session_replication_role = DEFAULT")
        # As autovacuum does after a table takes many inserts: statistics, and the visibility map that lets
        # the covering indexes (an item's lines, an account's movements) answer without reading the table.
        cursor.execute("VACUUM (ANALYZE)")
    return timer.seconds


def size_arguments(description: str) -> argparse.Namespace:
    """--invoices, --customers, --rounds and --keep, as the benchmarks on this data take them."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    return parser.parse_args()


def generate_reported(*, invoices: int, customers: int, today: date) -> float:
    """generate(), saying what it makes and how long it took."""
    print(f"generating {invoices:,} invoices over {customers:,} customers ...", flush=True)
    seconds = generate(invoices=invoices, customers=customers, today=today)
    print(f"generated in {seconds:.1f} s", flush=True)
    return seconds
