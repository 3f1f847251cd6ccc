"""Analytics at scale: aging (today and 90 days ago), DSO, CEI, RFM and the 13-week cash forecast over
a million invoices of 50,000 customers, each timed against a hand-written SQL query giving the same
figures, in interleaved blocks of the same run (report, SQL, SQL, report, ...; medians compared).

The data is generated in the database by bench/receivables_data.py (shared with bench/lists.py).

The baselines use `ledger_openitem.settled_on` as the reports do: it is part of the schema, so a
hand-written query as of a date would skip the items settled by then too.

    .venv/bin/python bench/analytics.py [--invoices 1000000] [--customers 50000] [--rounds 5] [--keep]
"""

import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Timer, drop_database, peak_rss_mb, setup_django, write_results
from receivables_data import generate_reported, size_arguments

TARGET_RATIO = 1.5
TARGET_SECONDS = 2.0


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
    WITH late AS (SELECT customer_id, predicted_days_late AS days FROM customers_customerbehaviour),
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
    args = size_arguments(__doc__)

    url = setup_django()
    from django.db import connection

    from analytics.selectors import behaviour, forecast, receivables
    from analytics.selectors.receivables import Period
    from ledger.models import AccountRole

    today = date.today()
    generated = generate_reported(invoices=args.invoices, customers=args.customers, today=today)
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
    # The forecast reads the payer scores the hourly task stores, as it does in production.
    with Timer() as scoring:
        from analytics.services import share_behaviour_with_customers

        share_behaviour_with_customers(on=today)
    assert forecast.cash_forecast(on=today).scores_as_of is not None
    timings = {name: {"report": [], "sql": []} for name in pairs}
    rss_before = peak_rss_mb()
    for round_no in range(args.rounds):
        for name, (report, baseline) in pairs.items():
            order = [("report", report), ("sql", baseline)]
            for kind, run in order if round_no % 2 == 0 else reversed(order):
                started = time.perf_counter()
                run()
                timings[name][kind].append(time.perf_counter() - started)
        print(f"round {round_no + 1}/{args.rounds} done", flush=True)

    rss_growth = peak_rss_mb() - rss_before
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
    print(f"client memory: peak {peak_rss_mb():.0f} MB, {rss_growth:.0f} MB more during the rounds than before")
    print(f"payer scores stored (hourly task)    {scoring.seconds:9.3f}")
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
            "payer_scoring_seconds": round(scoring.seconds, 3),
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "rss_growth_during_rounds_mb": round(rss_growth, 1),
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
