"""Analytics at scale: aging (today and 90 days ago), DSO, CEI, RFM and the 13-week cash forecast over
a million invoices of 50,000 customers, each timed against a hand-written SQL query giving the same
figures, in interleaved blocks of the same run (report, SQL, SQL, report, ...; medians compared).

The data is generated in the database (INSERT ... SELECT over generate_series, faster than COPY from
a client on this machine and flat in memory): invoices issued over two years with 30 days' terms,
their open items and ledger entries (receivable and revenue lines), and for 85% of them a payment
allocation posted between 15 days early and 45 days late (if that day has come); an item's `settled_on`
is that day (the trigger that keeps it is off while generating, like the other triggers).

The baselines use `ledger_openitem.settled_on` as the reports do: it is part of the schema, so a
hand-written query as of a date would skip the items settled by then too.

    .venv/bin/python bench/analytics.py [--invoices 1000000] [--customers 50000] [--rounds 5] [--keep]
"""

import argparse
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Timer, drop_database, setup_django, write_results

TARGET_RATIO = 1.5
TARGET_SECONDS = 2.0


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
               'EUR', 'EUR', 1, issued, issued + 30, 30, '{}', '{}', '{}', '', '', net, 0, net,
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
        cursor.execute("ANALYZE")
    return timer.seconds


# The hand-written baselines: one statement each, the same figures as the report.
SQL_AGING = """
    SELECT customer_id, currency,
           SUM(open) FILTER (WHERE %(on)s - due_on <= 0) AS current,
           SUM(open) FILTER (WHERE %(on)s - due_on BETWEEN 1 AND 30) AS d30,
           SUM(open) FILTER (WHERE %(on)s - due_on BETWEEN 31 AND 60) AS d60,
           SUM(open) FILTER (WHERE %(on)s - due_on BETWEEN 61 AND 90) AS d90,
           SUM(open) FILTER (WHERE %(on)s - due_on > 90) AS over90, SUM(open) AS total
      FROM (SELECT i.id, i.customer_id, i.currency, i.due_on, SUM(l.amount) AS open
              FROM ledger_openitem i JOIN ledger_journalline l ON l.item_id = i.id
              JOIN ledger_journalentry e ON e.id = l.entry_id
             WHERE e.posted_on <= %(on)s AND (i.settled_on IS NULL OR i.settled_on > %(on)s)
             GROUP BY i.id HAVING SUM(l.amount) <> 0) b
     GROUP BY customer_id, currency
"""
SQL_RECEIVABLES = """
    SELECT SUM(l.amount_company) FILTER (WHERE e.posted_on < %(start)s),
           SUM(l.amount_company),
           SUM(l.amount_company) FILTER (WHERE i.due_on >= %(end)s),
           SUM(l.amount_company) FILTER (WHERE e.kind = 'invoice' AND e.posted_on >= %(start)s)
      FROM ledger_journalline l JOIN ledger_journalentry e ON e.id = l.entry_id
      JOIN ledger_openitem i ON i.id = l.item_id
     WHERE l.account_id = %(receivable)s AND e.posted_on <= %(end)s
"""
SQL_COUNT_BACK = """
    WITH sales AS (
        SELECT date_trunc('month', e.posted_on) AS month, SUM(l.amount_company) AS amount
          FROM ledger_journalline l JOIN ledger_journalentry e ON e.id = l.entry_id
         WHERE l.account_id = %(receivable)s AND e.kind = 'invoice' AND e.posted_on <= %(end)s
           AND e.posted_on >= date_trunc('month', %(end)s::date) - interval '23 months'
         GROUP BY 1
    )
    SELECT month, amount, SUM(amount) OVER (ORDER BY month DESC) FROM sales ORDER BY month DESC
"""
SQL_RFM = """
    WITH p AS (
        SELECT customer_id, MIN(issue_date) AS first, MAX(issue_date) AS last, COUNT(*) AS n_all,
               COUNT(*) FILTER (WHERE issue_date > %(on)s - 365) AS n,
               SUM(net_total * exchange_rate) FILTER (WHERE issue_date > %(on)s - 365) AS revenue
          FROM invoicing_invoice WHERE status <> 'draft' AND kind = 'invoice' AND issue_date <= %(on)s
         GROUP BY customer_id
    )
    SELECT customer_id, NTILE(5) OVER (ORDER BY last, customer_id), NTILE(5) OVER (ORDER BY n, customer_id),
           NTILE(5) OVER (ORDER BY revenue, customer_id), (last - first)::numeric / NULLIF(n_all - 1, 0)
      FROM p
"""
SQL_FORECAST = """
    WITH late AS (
        SELECT i.customer_id, SUM(-l.amount * (e.posted_on - i.due_on)) / SUM(-l.amount) AS days
          FROM ledger_journalline l JOIN ledger_journalentry e ON e.id = l.entry_id
          JOIN ledger_openitem i ON i.id = l.item_id
         WHERE l.account_id = %(receivable)s AND e.kind = 'allocation' AND e.posted_on <= %(on)s
           AND e.posted_on > %(on)s - 730
         GROUP BY i.customer_id
    ),
    open AS (
        SELECT i.customer_id, i.due_on, SUM(l.amount) AS amount
          FROM ledger_openitem i JOIN ledger_journalline l ON l.item_id = i.id
          JOIN ledger_journalentry e ON e.id = l.entry_id
         WHERE e.posted_on <= %(on)s AND (i.settled_on IS NULL OR i.settled_on > %(on)s)
         GROUP BY i.id HAVING SUM(l.amount) > 0
    )
    SELECT week, SUM(amount) FROM (
        SELECT (GREATEST(o.due_on + ROUND(COALESCE(late.days, 0))::int, %(on)s) - %(on)s) / 7 + 1 AS week, o.amount
          FROM open o LEFT JOIN late ON late.customer_id = o.customer_id
    ) weeks WHERE week <= 13 GROUP BY week ORDER BY week
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    args = parser.parse_args()

    url = setup_django()
    from django.db import connection

    from analytics.selectors import behaviour, forecast, receivables
    from analytics.selectors.receivables import Period
    from ledger.models import AccountRole

    today = date.today()
    print(f"generating {args.invoices:,} invoices over {args.customers:,} customers ...", flush=True)
    generated = generate(invoices=args.invoices, customers=args.customers, today=today)
    print(f"generated in {generated:.1f} s", flush=True)
    receivable = (
        connection.cursor()
        .execute("SELECT id FROM ledger_ledgeraccount WHERE role = %s", [AccountRole.RECEIVABLE])
        .fetchone()[0]
    )
    period = Period(today - timedelta(days=89), today)
    past = today - timedelta(days=90)

    def sql(statement: str, **params):
        def run():
            with connection.cursor() as cursor:
                cursor.execute(statement, {"receivable": receivable, **params})
                return cursor.fetchall()

        return run

    def both(*runs):
        def run():
            for one in runs:
                one()

        return run

    pairs = {
        "aging today": (lambda: receivables.aging_report(on=today), sql(SQL_AGING, on=today)),
        "aging 90 days ago": (lambda: receivables.aging_report(on=past), sql(SQL_AGING, on=past)),
        "dso (standard, count-back, best)": (
            lambda: receivables.days_sales_outstanding(period=period),
            both(
                sql(SQL_RECEIVABLES, start=period.start, end=period.end),
                sql(SQL_COUNT_BACK, end=period.end),
            ),
        ),
        "cei": (
            lambda: receivables.collection_effectiveness(period=period),
            sql(SQL_RECEIVABLES, start=period.start, end=period.end),
        ),
        "rfm": (lambda: behaviour.customer_behaviour_on(on=today), sql(SQL_RFM, on=today)),
        "cash forecast": (lambda: forecast.cash_forecast(on=today), sql(SQL_FORECAST, on=today)),
    }
    timings = {name: {"report": [], "sql": []} for name in pairs}
    for round_no in range(args.rounds):
        for name, (report, baseline) in pairs.items():
            order = [("report", report), ("sql", baseline)]
            for kind, run in order if round_no % 2 == 0 else reversed(order):
                started = time.perf_counter()
                run()
                timings[name][kind].append(time.perf_counter() - started)
        print(f"round {round_no + 1}/{args.rounds} done", flush=True)

    with Timer() as refresh:
        from analytics.services import refresh_snapshots

        refresh_snapshots()
    with Timer() as segments:
        behaviour.segment_summary()

    results = {}
    print(
        f"\n{'report':36} {'report s':>9} {'sql s':>9} {'ratio':>7}  targets: <= {TARGET_RATIO}x, < {TARGET_SECONDS} s"
    )
    for name, runs in timings.items():
        ours, base = statistics.median(runs["report"]), statistics.median(runs["sql"])
        ratio = ours / base
        ok = ratio <= TARGET_RATIO and ours < TARGET_SECONDS
        print(f"{name:36} {ours:9.3f} {base:9.3f} {ratio:7.2f}  {'ok' if ok else 'MISSED'}")
        results[name] = {"report_seconds": round(ours, 3), "sql_seconds": round(base, 3), "ratio": round(ratio, 2)}
    print(f"snapshot refresh (concurrently)      {refresh.seconds:9.3f}")
    print(f"segment summary from the snapshot    {segments.seconds:9.3f}")
    path = write_results(
        "analytics",
        {
            "invoices": args.invoices,
            "customers": args.customers,
            "rounds": args.rounds,
            "generate_seconds": round(generated, 1),
            "reports": results,
            "snapshot_refresh_seconds": round(refresh.seconds, 3),
            "segment_summary_seconds": round(segments.seconds, 3),
            "target_ratio": TARGET_RATIO,
            "target_seconds": TARGET_SECONDS,
        },
    )
    print(f"\nwritten to {path}")
    if not args.keep:
        drop_database(url)


if __name__ == "__main__":
    main()
