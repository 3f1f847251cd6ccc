"""Bulk invoicing: shipped orders turned into issued invoices with gapless numbers, lines, tax
breakdown, ledger postings and outbox events, through `invoicing.bulk_invoicing` against the same
rows written by hand-written SQL in the same run, interleaved (the two take turns over ten slices of
the pairs); then PDF rendering of invoices through the
renderer against WeasyPrint rendering the same HTML directly; then writing each invoice's UBL and CII
with validation on (XSD, EN 16931, Peppol BIS 3 / Factur-X rules, as before storing or sending) against
off (writing only).

The orders come in identical pairs (generated with INSERT ... SELECT generate_series): one of each
pair is invoiced by the SQL baseline, the other by the service, so both write the same amounts and
the bench can check that they did.

    .venv/bin/python bench/bulk_invoicing.py [--orders 100000] [--batch 1000] [--pdfs 200] [--einvoices 200]
"""

import argparse
import json
import sys
import threading
import uuid
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import CpuTimer, Timer, drop_database, psycopg_url, setup_django, write_results

CUSTOMERS = 3000
PRODUCTS = 200
WARM_UP = 500
ROUNDS = 10
USD_RATE = Decimal("0.91234567")


# --- The world: customers, products and shipped orders, generated in SQL -----------------------------


def build_world(pairs: int):
    """A clerk, a company profile, 3,000 customers (German VAT IDs, so their e-invoices have a Peppol
    address), 200 products at 19% and 7%, and `pairs` identical pairs of shipped orders of 2-4 lines, 5% of
    them in USD, some with line and order discounts."""
    from datetime import date

    from django.db import connection

    from inventory.models import TaxCategory, Warehouse
    from otc.models import CompanyProfile, ExchangeRate, User

    clerk = User.objects.create_user("bench-clerk@otc.test", "x", is_staff=True, is_superuser=True)
    standard = TaxCategory.objects.create(code="standard", name="Standard")
    reduced = TaxCategory.objects.create(code="reduced", name="Reduced")
    warehouse = Warehouse.objects.create(code="main", name="Main", country="DE", is_default=True)
    ExchangeRate.objects.create(currency="USD", rate_date=date(2020, 1, 1), rate=USD_RATE)
    CompanyProfile.objects.create(
        legal_name="OTC Bench GmbH",
        line1="Hafenstraße 1",
        postal_code="20457",
        city="Hamburg",
        country="DE",
        tax_id="DE123456789",
        email="billing@otc.test",
        bank_name="Bench Bank",
        iban="DE89370400440532013000",
    )
    with connection.cursor() as cursor:
        # Setting up data, not measuring: no audit or constraint triggers while generating it.
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(
            """
            INSERT INTO inventory_product (sku, name, description, unit, kind, gtin, is_active, created_at,
                                           updated_at, tax_category_id)
            SELECT 'SKU-' || lpad(g::text, 4, '0'), 'Product ' || g, '', 'pc', 'stocked',
                   lpad((4000000000000 + g)::text, 13, '0'), true, now(), now(),
                   CASE WHEN g %% 4 = 0 THEN %s ELSE %s END
              FROM generate_series(1, %s) g
            """,
            [reduced.pk, standard.pk, PRODUCTS],
        )
        cursor.execute(
            """
            INSERT INTO customers_customer (number, legal_name, trading_name, country, tax_id, name_key,
                                            default_currency, language, payment_terms_days, status, notes,
                                            peppol_scheme, peppol_id, leitweg_id, created_at, updated_at)
            SELECT 'C-' || lpad(g::text, 6, '0'), 'Bench Customer ' || g || ' GmbH',
                   CASE WHEN g %% 3 = 0 THEN 'Bench ' || g ELSE '' END, 'DE', 'DE' || lpad(g::text, 9, '0'),
                   'bench customer ' || g, 'EUR',
                   (ARRAY['en', 'de', 'fr'])[1 + g %% 3], (ARRAY[14, 30, 60])[1 + g %% 3], 'active', '', '', '', '',
                   now(), now()
              FROM generate_series(1, %s) g
            """,
            [CUSTOMERS],
        )
        cursor.execute(
            """
            INSERT INTO customers_preferences (customer_id, channels, opt_outs, invoice_delivery,
                                               po_number_required, document_layout, invoicing_schedule,
                                               portal_mfa_required, facturx_profile)
            SELECT id, '{email}', '{}', 'pdf_email', false,
                   (ARRAY['standard', 'compact', 'detailed'])[1 + id % 3], 'per_shipment', false, 'en16931'
              FROM customers_customer WHERE id % 2 = 0
            """
        )
        # Order g and g + 1 (g odd) are the same order: customer, currency, lines, discounts.
        cursor.execute(
            """
            INSERT INTO orders_order (number, status, currency, po_number, order_date, billing_address,
                                      shipping_address, discount_percent, net_total, tax_total, gross_total, notes,
                                      hold_reason, created_at, confirmed_at, updated_at, created_by_id, customer_id,
                                      warehouse_id)
            SELECT 'SO-B-' || lpad(g::text, 8, '0'), 'shipped', CASE WHEN p %% 20 = 0 THEN 'USD' ELSE 'EUR' END,
                   CASE WHEN p %% 2 = 0 THEN 'PO-' || p ELSE '' END, current_date - 3, address, address,
                   CASE WHEN p %% 5 = 0 THEN 2 WHEN p %% 7 = 0 THEN 5 ELSE 0 END, 0, 0, 0, '', '', now(), now(),
                   now(), %s, c.id, %s
              FROM generate_series(1, %s) g
             CROSS JOIN LATERAL (SELECT (g + 1) / 2 AS p) pair
              JOIN customers_customer c ON c.number = 'C-' || lpad((1 + (p * 7919) %% %s)::text, 6, '0')
             CROSS JOIN LATERAL (SELECT jsonb_build_object('name', c.legal_name, 'line1', 'Hafenweg ' || p,
                                 'line2', '', 'postal_code', '20457', 'city', 'Hamburg', 'region', '',
                                 'country', 'DE') AS address) a
             ORDER BY g
            """,
            [clerk.pk, warehouse.pk, 2 * pairs, CUSTOMERS],
        )
        cursor.execute(
            """
            INSERT INTO orders_orderline (line_no, description, quantity, unit_price, price_rule, discount_percent,
                                          tax_rate, reverse_charge, tax_category, tax_note, net_amount, tax_amount,
                                          quantity_reserved, quantity_shipped, quantity_returned, order_id,
                                          product_id, price_overridden)
            SELECT n, pr.name, q, 4.99 + (pr.id %% 50) * 1.25, 'list', CASE WHEN (p + n) %% 6 = 0 THEN 5 ELSE 0 END,
                   CASE WHEN pr.tax_category_id = %s THEN 7 ELSE 19 END, false, 'S', '', 0, 0, 0, q, 0, o.id, pr.id,
                   false
              FROM orders_order o
             CROSS JOIN LATERAL (SELECT (substr(o.number, 6)::int + 1) / 2 AS p) pair
             CROSS JOIN LATERAL generate_series(1, 2 + p %% 3) n
             CROSS JOIN LATERAL (SELECT 1 + (p * 31 + n * 17) %% 9 AS q) quantity
              JOIN inventory_product pr ON pr.sku = 'SKU-' || lpad((1 + (p * 13 + n * 37) %% %s)::text, 4, '0')
             ORDER BY o.id, n
            """,
            [reduced.pk, PRODUCTS],
        )
        cursor.execute(
            """
            INSERT INTO orders_shipment (number, status, carrier, tracking_number, tracking_url, dispatched_at,
                                         created_by_id, order_id)
            SELECT 'SH-B-' || substr(number, 6), 'dispatched', 'DHL', '', '', now() - interval '1 day', %s, id
              FROM orders_order ORDER BY id
            """,
            [clerk.pk],
        )
        cursor.execute(
            """
            INSERT INTO orders_shipmentline (quantity, order_line_id, shipment_id)
            SELECT l.quantity, l.id, s.id
              FROM orders_orderline l JOIN orders_shipment s ON s.order_id = l.order_id
             ORDER BY l.id
            """
        )
        cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute("ANALYZE")
        cursor.execute("SELECT id FROM orders_shipment ORDER BY id")
        shipment_ids = [row[0] for row in cursor.fetchall()]
    return clerk, shipment_ids


# --- The hand-written SQL baseline -------------------------------------------------------------------

# Lines go first: the invoice's totals are summed from them, and the line trigger refuses lines of an
# issued invoice only (the foreign key to the invoice is checked at commit).
SQL_LINES = """
    INSERT INTO invoicing_invoiceline (invoice_id, line_no, product_id, sku, gtin, description, quantity, unit,
                                       unit_price, discount_percent, tax_category, tax_rate, tax_note, net_amount,
                                       order_line_id, shipment_line_id, credited_line_id, is_price_reduction)
    SELECT claimed.invoice_id, row_number() OVER (PARTITION BY sl.shipment_id ORDER BY sl.id), p.id, p.sku, p.gtin,
           ol.description, sl.quantity, CASE p.unit WHEN 'box' THEN 'XBX' WHEN 'kg' THEN 'KGM' WHEN 'm' THEN 'MTR'
           WHEN 'l' THEN 'LTR' WHEN 'h' THEN 'HUR' ELSE 'C62' END, ol.unit_price, d.discount,
           ol.tax_category, ol.tax_rate, ol.tax_note, round(sl.quantity * ol.unit_price * (1 - d.discount / 100), 2),
           ol.id, sl.id, NULL, false
      FROM unnest(%(shipments)s::bigint[], %(invoices)s::bigint[]) AS claimed (shipment_id, invoice_id)
      JOIN orders_shipmentline sl ON sl.shipment_id = claimed.shipment_id
      JOIN orders_orderline ol ON ol.id = sl.order_line_id
      JOIN orders_order o ON o.id = ol.order_id
      JOIN inventory_product p ON p.id = ol.product_id
     CROSS JOIN LATERAL (SELECT 100 - (100 - ol.discount_percent) * (100 - o.discount_percent) / 100 AS discount) d
     ORDER BY sl.shipment_id, sl.id
"""
SQL_BREAKDOWN = """
    INSERT INTO invoicing_taxbreakdown (invoice_id, tax_category, tax_rate, taxable_amount, tax_amount,
                                        exemption_reason)
    SELECT invoice_id, tax_category, tax_rate, sum(net_amount), round(sum(net_amount) * tax_rate / 100, 2),
           (array_agg(tax_note ORDER BY line_no))[1]
      FROM invoicing_invoiceline WHERE invoice_id = ANY(%(invoices)s)
     GROUP BY invoice_id, tax_category, tax_rate
     ORDER BY invoice_id, tax_rate DESC, tax_category
"""
SQL_DRAFTS = """
    INSERT INTO invoicing_invoice (id, kind, number, status, currency, company_currency, exchange_rate, issue_date,
                                   due_date, delivery_date, payment_terms_days, customer_snapshot, billing_address,
                                   shipping_address, po_number, reason, net_total, tax_total, gross_total,
                                   open_amount, credited_amount, language, layout, notes, created_at, issued_at,
                                   updated_at, created_by_id, credited_invoice_id, customer_id, issued_by_id,
                                   order_id, return_order_id)
    SELECT claimed.invoice_id, 'invoice', NULL, 'draft', o.currency, 'EUR', 1, NULL, NULL,
           (s.dispatched_at AT TIME ZONE %(zone)s)::date, c.payment_terms_days,
           jsonb_build_object('number', c.number, 'legal_name', c.legal_name,
                              'display_name', COALESCE(NULLIF(c.trading_name, ''), c.legal_name),
                              'tax_id', c.tax_id, 'country', c.country),
           o.billing_address, o.shipping_address, left(o.po_number, 60), '', t.net, t.tax, t.net + t.tax, 0, 0,
           c.language, COALESCE(pref.document_layout, 'standard'), '', now(), NULL, now(), %(actor)s, NULL, c.id,
           NULL, o.id, NULL
      FROM unnest(%(shipments)s::bigint[], %(invoices)s::bigint[]) AS claimed (shipment_id, invoice_id)
      JOIN orders_shipment s ON s.id = claimed.shipment_id
      JOIN orders_order o ON o.id = s.order_id
      JOIN customers_customer c ON c.id = o.customer_id
      LEFT JOIN customers_preferences pref ON pref.customer_id = c.id
      JOIN (SELECT invoice_id, sum(taxable_amount) AS net, sum(tax_amount) AS tax FROM invoicing_taxbreakdown
             WHERE invoice_id = ANY(%(invoices)s) GROUP BY invoice_id) t ON t.invoice_id = claimed.invoice_id
     ORDER BY claimed.invoice_id
"""
SQL_ISSUE = """
    UPDATE invoicing_invoice i
       SET number = 'INV-' || %(year)s || '-' || lpad(seq.n, greatest(length(seq.n), 6), '0'),
           status = 'issued', issue_date = %(today)s, due_date = %(today)s::date + i.payment_terms_days,
           exchange_rate = CASE i.currency WHEN 'EUR' THEN 1 ELSE %(usd)s END, open_amount = i.gross_total,
           issued_by_id = %(actor)s, issued_at = now(), updated_at = now()
      FROM unnest(%(invoices)s::bigint[]) WITH ORDINALITY AS numbered (id, position)
     CROSS JOIN LATERAL (SELECT (%(first)s + numbered.position - 1)::text AS n) seq
     WHERE i.id = numbered.id
"""
SQL_ITEMS = """
    INSERT INTO ledger_openitem (customer_id, kind, document_id, reference, currency, issued_on, due_on)
    SELECT customer_id, kind, id, number, currency, issue_date, due_date
      FROM invoicing_invoice WHERE id = ANY(%(invoices)s) ORDER BY id
"""
SQL_ENTRIES = """
    INSERT INTO ledger_journalentry (posted_on, kind, memo, item_id, source, reverses_id, created_by_id, created_at)
    SELECT issue_date, 'invoice', left(number || ' ' || (customer_snapshot ->> 'legal_name'), 300), item.id, '',
           NULL, %(actor)s, now()
      FROM invoicing_invoice i JOIN ledger_openitem item ON item.document_id = i.id
     WHERE i.id = ANY(%(invoices)s) ORDER BY i.id
"""
# Receivable, tax and revenue; the cent lost converting each line goes to revenue, the largest line
# after the first (as journal_lines does; net exceeds tax at the rates of this data).
SQL_JOURNAL_LINES = """
    INSERT INTO ledger_journalline (entry_id, posted_on, entry_kind, account_id, customer_id, item_id, currency,
                                    amount, amount_company)
    SELECT e.id, e.posted_on, e.kind, posting.account_id, posting.customer_id, posting.item_id, i.currency,
           posting.amount, posting.amount_company
      FROM ledger_journalentry e
      JOIN ledger_openitem item ON item.id = e.item_id
      JOIN invoicing_invoice i ON i.id = item.document_id
     CROSS JOIN LATERAL (SELECT round(i.gross_total * i.exchange_rate, 2) AS gross,
                                round(-i.tax_total * i.exchange_rate, 2) AS tax) company
     CROSS JOIN LATERAL (VALUES (1, %(receivable)s, i.customer_id, item.id, i.gross_total, company.gross),
                                (2, %(tax)s, NULL, NULL, -i.tax_total, company.tax),
                                (3, %(revenue)s, NULL, NULL, -i.net_total, -(company.gross + company.tax)))
           AS posting (position, account_id, customer_id, item_id, amount, amount_company)
     WHERE item.document_id = ANY(%(invoices)s) AND posting.amount <> 0
     ORDER BY e.id, posting.position
"""
SQL_OUTBOX = """
    INSERT INTO workflows_outboxevent (event_type, version, payload, status, attempts, last_error, rule_chain,
                                       created_at)
    SELECT 'invoice.issued', 1, jsonb_build_object(
               'invoice_id', id, 'invoice_number', number, 'customer_id', customer_id,
               'customer_number', customer_snapshot->>'number', 'actor_id', %(actor)s, 'issue_date', issue_date,
               'due_date', due_date, 'currency', currency, 'gross_total', round(gross_total, 2)::text
           ), 'pending', 0, '', '{}', now()
      FROM invoicing_invoice WHERE id = ANY(%(invoices)s::bigint[])
"""


def run_sql(
    shipment_ids: list[int], clerk, url: str, batch: int, *, triggers: bool = True, cost: CpuTimer | None = None
) -> None:
    """The same rows, hand-written: per batch one transaction, claim, lines, breakdown, drafts, numbers,
    issue, entries, journal lines and outbox events, with the actor attached to the audit trail.

    Without `triggers` (audit, immutability, balance and foreign-key checks all off, as a replica
    applies rows) it measures what the triggers cost. One connection per call, as the service's rounds
    do not share a transaction either; its backend's CPU is added to `cost`."""
    import psycopg

    with psycopg.connect(psycopg_url(url)) as conn, conn.cursor() as cur:
        cost = cost or CpuTimer(0)
        cost.backend_pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        conn.commit()
        with cost:
            _invoice_in_sql(shipment_ids, clerk, conn, cur, batch, triggers=triggers)


def _invoice_in_sql(shipment_ids: list[int], clerk, conn, cur, batch: int, *, triggers: bool) -> None:
    from django.conf import settings
    from django.utils import timezone

    from ledger.services import account_ids

    today = timezone.localdate()
    accounts = account_ids()
    for start in range(0, len(shipment_ids), batch):
        if not triggers:
            cur.execute("SET LOCAL session_replication_role = replica")
        cur.execute(
            "SELECT set_config('pghistory.context_id', %s, true), set_config('pghistory.context_metadata', %s, true)",
            [
                str(uuid.uuid4()),
                json.dumps({"user": clerk.pk, "reason": "bulk invoicing", "user_email": clerk.email}),
            ],
        )
        cur.execute(
            """INSERT INTO invoicing_invoicedshipment (shipment_id, invoice_id)
                   SELECT id, nextval(pg_get_serial_sequence('invoicing_invoice', 'id'))
                     FROM unnest(%s::bigint[]) AS id ORDER BY id
                       ON CONFLICT (shipment_id) DO NOTHING RETURNING shipment_id, invoice_id""",
            [shipment_ids[start : start + batch]],
        )
        claimed = sorted(cur.fetchall())
        params = {
            "shipments": [shipment for shipment, _ in claimed],
            "invoices": [invoice for _, invoice in claimed],
            "actor": clerk.pk,
            "zone": settings.TIME_ZONE,
            "today": today,
            "year": today.year,
            "usd": USD_RATE,
            "receivable": accounts["receivable"],
            "tax": accounts["tax_payable"],
            "revenue": accounts["revenue"],
        }
        cur.execute(SQL_LINES, params)
        cur.execute(SQL_BREAKDOWN, params)
        cur.execute(SQL_DRAFTS, params)
        cur.execute(
            "INSERT INTO invoicing_numberseries (code, year, last_value) VALUES ('INV', %s, 0) "
            "ON CONFLICT (code, year) DO NOTHING",
            [today.year],
        )
        cur.execute(
            "UPDATE invoicing_numberseries SET last_value = last_value + %s WHERE code = 'INV' AND year = %s "
            "RETURNING last_value",
            [len(claimed), today.year],
        )
        params["first"] = cur.fetchone()[0] - len(claimed) + 1
        cur.execute(SQL_ISSUE, params)
        cur.execute(SQL_ITEMS, params)
        cur.execute(SQL_ENTRIES, params)
        cur.execute(SQL_JOURNAL_LINES, params)
        cur.execute(SQL_OUTBOX, params)
        conn.commit()


# --- The service -------------------------------------------------------------------------------------


def run_service(shipment_ids: list[int], clerk, batch: int) -> int:
    from invoicing.bulk_invoicing import invoice_shipments_in_bulk

    return invoice_shipments_in_bulk(shipment_ids=shipment_ids, actor=clerk, batch_size=batch)


def rss_mb() -> float:
    """Resident memory now (not the peak), from /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@contextmanager
def memory_sampled(samples: list[float], every: float = 0.2):
    """Sample the resident memory while the block runs: flat memory means the last samples are no
    higher than the first ones."""
    done = threading.Event()

    def sample() -> None:
        while not done.wait(every):
            samples.append(rss_mb())

    sampler = threading.Thread(target=sample, daemon=True)
    samples.append(rss_mb())
    sampler.start()
    try:
        yield
    finally:
        done.set()
        sampler.join()
        samples.append(rss_mb())


# --- Checks ------------------------------------------------------------------------------------------

SAME_ROWS = """
    WITH invoice AS (SELECT invoice_id AS id FROM invoicing_invoicedshipment WHERE shipment_id = ANY(%s))
    SELECT (SELECT concat_ws('/', count(*), sum(net_total), sum(tax_total), sum(gross_total), sum(exchange_rate))
              FROM invoicing_invoice JOIN invoice USING (id)),
           (SELECT concat_ws('/', count(*), sum(net_amount), sum(discount_percent))
              FROM invoicing_invoiceline l JOIN invoice ON invoice.id = l.invoice_id),
           (SELECT concat_ws('/', count(*), sum(tax_amount))
              FROM invoicing_taxbreakdown b JOIN invoice ON invoice.id = b.invoice_id),
           (SELECT concat_ws('/', count(*), sum(abs(amount)), sum(abs(amount_company)))
              FROM ledger_journalline l JOIN ledger_journalentry e ON e.id = l.entry_id
              JOIN ledger_openitem item ON item.id = e.item_id JOIN invoice ON invoice.id = item.document_id),
           (SELECT count(*) FROM workflows_outboxevent o
              JOIN invoice ON invoice.id = (o.payload ->> 'invoice_id')::bigint WHERE o.event_type = 'invoice.issued'),
           (SELECT concat_ws('/', count(*), count(DISTINCT pgh_context_id))
              FROM invoicing_invoiceevent a JOIN invoice ON invoice.id = a.pgh_obj_id)
"""


def written(shipment_ids: list[int]) -> tuple:
    """What was written for these shipments: counts and sums of invoices, lines, taxes, postings, events
    and audit rows."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(SAME_ROWS, [shipment_ids])
        return cursor.fetchone()


def numbers_gapless() -> bool:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) = max(substr(number, 10)::int) AND count(DISTINCT number) = count(*) "
            "FROM invoicing_invoice WHERE kind = 'invoice'"
        )
        return cursor.fetchone()[0]


# --- PDF ---------------------------------------------------------------------------------------------


def time_pdfs(count: int) -> dict | None:
    """The renderer (query, template, WeasyPrint) against WeasyPrint alone on the same HTML."""
    try:
        from invoicing.documents.render import invoice_html, render_invoice_pdf
    except ImportError:
        return None
    from weasyprint import HTML

    from invoicing.models import Invoice

    invoices = list(Invoice.objects.filter(status="issued").order_by("pk")[:count])
    render_invoice_pdf(invoices[0])
    with Timer() as renderer:
        for invoice in invoices:
            render_invoice_pdf(invoice)
    pages = [invoice_html(invoice) for invoice in invoices]
    with Timer() as direct:
        for html in pages:
            HTML(string=html).write_pdf()
    return {
        "pdfs": len(invoices),
        "renderer_seconds": round(renderer.seconds, 2),
        "weasyprint_direct_seconds": round(direct.seconds, 2),
        "renderer_ms_per_pdf": round(1000 * renderer.seconds / len(invoices), 1),
        "weasyprint_ms_per_pdf": round(1000 * direct.seconds / len(invoices), 1),
        "ratio_renderer_to_weasyprint": round(renderer.seconds / direct.seconds, 2),
    }


# --- E-invoice validation ----------------------------------------------------------------------------


def time_einvoices(count: int) -> dict:
    """UBL and CII of `count` issued invoices written with validation off, then written and validated
    (on); the rule stylesheets are loaded once before, as a running process has them."""
    from invoicing.einvoice.cii import invoice_cii
    from invoicing.einvoice.ubl import invoice_ubl
    from invoicing.einvoice.validation import validate_einvoice
    from invoicing.models import Invoice

    invoices = list(Invoice.objects.filter(status="issued").select_related("customer").order_by("pk")[:count])
    writers = (invoice_ubl, invoice_cii)
    invalid = sum(not validate_einvoice(write(invoices[0])).is_valid for write in writers)
    with Timer() as off:
        for invoice in invoices:
            for write in writers:
                write(invoice)
    with Timer() as on:
        for invoice in invoices:
            for write in writers:
                invalid += not validate_einvoice(write(invoice)).is_valid
    documents = 2 * len(invoices)
    return {
        "documents": documents,
        "validation_off_ms_per_document": round(1000 * off.seconds / documents, 1),
        "validation_on_ms_per_document": round(1000 * on.seconds / documents, 1),
        "ratio_on_to_off": round(on.seconds / off.seconds, 2),
        "invalid_documents": invalid,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=100000, help="invoices per run (service and SQL each)")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--pdfs", type=int, default=200)
    parser.add_argument("--einvoices", type=int, default=200, help="invoices whose UBL and CII are timed")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database for a look afterwards")
    args = parser.parse_args()

    url = setup_django()
    from otc.celery import app

    # The bench measures the invoicing transaction, and the outbox rows are part of it. Publishing
    # the one task per batch goes to an in-memory broker instead of running the event handlers inline.
    app.conf.task_always_eager = False
    app.conf.broker_url = "memory://localhost/"

    from workflows.verification import ledger_problems

    untriggered = max(args.orders // 10, 1)
    with Timer() as build:
        clerk, shipment_ids = build_world(pairs=args.orders + WARM_UP + (untriggered + 1) // 2)
    print(
        f"world: {CUSTOMERS} customers, {PRODUCTS} products, {len(shipment_ids)} shipped orders "
        f"in {build.seconds:.0f} s"
    )
    # Pairs: the odd-numbered order of each pair goes to the SQL baseline, its twin to the service.
    twins = shipment_ids[: 2 * (args.orders + WARM_UP)]
    untriggered_ids = shipment_ids[2 * (args.orders + WARM_UP) :][:untriggered]
    sql_ids, service_ids = twins[0::2], twins[1::2]
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        service_cost = CpuTimer(cursor.fetchone()[0])
    sql_cost = CpuTimer(0)
    run_sql(sql_ids[:WARM_UP], clerk, url, args.batch)
    run_service(service_ids[:WARM_UP], clerk, args.batch)
    sql_ids, service_ids = sql_ids[WARM_UP:], service_ids[WARM_UP:]

    # Interleaved: SQL and the service take turns over ROUNDS slices of the pairs, so a machine whose
    # load changes during the run (other processes) weighs on both sides alike. The ratio that counts is
    # CPU (this process's plus its PostgreSQL backend's); wall time moves with the machine's load.
    samples: list[float] = []
    issued = 0
    share = -(-len(sql_ids) // ROUNDS)
    for start in range(0, len(sql_ids), share):
        run_sql(sql_ids[start : start + share], clerk, url, args.batch, cost=sql_cost)
        with memory_sampled(samples), service_cost:
            issued += run_service(service_ids[start : start + share], clerk, args.batch)
    sql_rate = len(sql_ids) / sql_cost.wall
    print(
        f"hand-written SQL : {len(sql_ids)} invoices in {sql_cost.wall:7.1f} s = {sql_rate:7.0f} invoices/s; "
        f"CPU {1000 * sql_cost.cpu / len(sql_ids):.2f} ms/invoice"
    )
    bare_cost = CpuTimer(0)
    run_sql(untriggered_ids, clerk, url, args.batch, triggers=False, cost=bare_cost)
    bare_rate = len(untriggered_ids) / bare_cost.wall
    trigger_share = 1 - (bare_cost.cpu / len(untriggered_ids)) / (sql_cost.cpu / len(sql_ids))
    print(
        f"SQL, no triggers : {len(untriggered_ids)} invoices in {bare_cost.wall:7.1f} s = "
        f"{bare_rate:7.0f} invoices/s; CPU {1000 * bare_cost.cpu / len(untriggered_ids):.2f} ms/invoice (audit, "
        f"immutability, balance and foreign-key triggers: {trigger_share:.0%} of the SQL's CPU)"
    )
    service_rate = issued / service_cost.wall
    cpu_ratio = (service_cost.cpu / issued) / (sql_cost.cpu / len(sql_ids))
    wall_ratio = sql_rate / service_rate
    print(
        f"service          : {issued} invoices in {service_cost.wall:7.1f} s = {service_rate:7.0f} invoices/s; "
        f"CPU {1000 * service_cost.cpu / issued:.2f} ms/invoice (client {1000 * service_cost.client / issued:.2f}, "
        f"PostgreSQL {1000 * service_cost.backend / issued:.2f})"
    )
    print(f"interleaved      : {ROUNDS} rounds of SQL then the service over a slice of the pairs each")
    print(
        f"ratio            : the service takes {cpu_ratio:.2f}x the CPU of hand-written SQL (target <= 4x), "
        f"{wall_ratio:.2f}x its wall time"
    )
    half = len(samples) // 2
    print(
        f"memory           : {samples[0]:.0f} MB before, peak {max(samples):.0f} MB "
        f"(first half {max(samples[:half] or samples):.0f} MB, second half {max(samples[half:]):.0f} MB)"
    )

    same = written(sql_ids) == written(service_ids)
    print(f"same rows        : {'yes' if same else 'NO'} (counts and sums of both runs' invoices, lines, postings)")
    problems = ledger_problems()
    gapless = numbers_gapless()
    print(f"ledger           : {problems or 'ledger verifies'}; numbers gapless: {gapless}")

    pdf = time_pdfs(args.pdfs)
    if pdf is None:
        print("pdf              : skipped: renderer missing")
    else:
        print(
            f"pdf              : {pdf['pdfs']} invoices, renderer {pdf['renderer_ms_per_pdf']} ms/pdf, WeasyPrint on "
            f"the same HTML {pdf['weasyprint_ms_per_pdf']} ms/pdf ({pdf['ratio_renderer_to_weasyprint']}x)"
        )
    einvoices = time_einvoices(args.einvoices)
    print(
        f"e-invoices       : {einvoices['documents']} UBL and CII, validation off "
        f"{einvoices['validation_off_ms_per_document']} ms/document, on {einvoices['validation_on_ms_per_document']} "
        f"ms/document ({einvoices['ratio_on_to_off']}x; {einvoices['invalid_documents']} invalid)"
    )
    path = write_results(
        "bulk_invoicing",
        {
            "invoices": issued,
            "batch_size": args.batch,
            "interleaved_rounds": ROUNDS,
            "sql_invoices_per_second": round(sql_rate, 1),
            "sql_without_triggers_invoices_per_second": round(bare_rate, 1),
            "trigger_share_of_sql_cpu": round(trigger_share, 2),
            "service_invoices_per_second": round(service_rate, 1),
            "sql_cpu_ms_per_invoice": round(1000 * sql_cost.cpu / len(sql_ids), 3),
            "service_cpu_ms_per_invoice": round(1000 * service_cost.cpu / issued, 3),
            "service_client_cpu_ms_per_invoice": round(1000 * service_cost.client / issued, 3),
            "service_backend_cpu_ms_per_invoice": round(1000 * service_cost.backend / issued, 3),
            "cpu_ratio_service_to_sql": round(cpu_ratio, 2),
            "wall_ratio_service_to_sql": round(wall_ratio, 2),
            "target_invoices_per_second": 1000,
            "target_ratio": 4,
            "rss_before_mb": round(samples[0], 1),
            "rss_peak_mb": round(max(samples), 1),
            "rss_peak_first_half_mb": round(max(samples[:half] or samples), 1),
            "rss_peak_second_half_mb": round(max(samples[half:]), 1),
            "same_rows_as_sql": same,
            "ledger_problems": problems,
            "numbers_gapless": gapless,
            "pdf": pdf or "skipped: renderer missing",
            "einvoice_validation": einvoices,
        },
    )
    print(f"results written to {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    if not args.keep:
        drop_database(url)


if __name__ == "__main__":
    main()
