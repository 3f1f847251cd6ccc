"""Order intake: create and confirm orders of 3 lines through the service layer (pricing, tax, credit
check, reservation, timeline, outbox event), against the same work in hand-written SQL through psycopg
in the same run, interleaved (the two take turns over ten slices of the orders). The ratio that counts
is CPU per order, this process's plus its PostgreSQL backend's (wall time is printed too: it moves with
the machine's load). Then 8 processes racing for scarce stock, counting oversold units (must be 0).

    .venv/bin/python bench/order_intake.py [--orders 20000] [--racers 8]
"""

import argparse
import multiprocessing
import random
import resource
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import CpuTimer, Timer, psycopg_url, refresh_statistics, setup_django, write_results

PRODUCTS = 100
CUSTOMERS = 200
ROUNDS = 10


def build_world(*, stock: str):
    """Customers with generous limits, products with prices and stock, all through services."""
    from datetime import date

    from customers import services as customers
    from inventory import services as inventory
    from inventory.models import PriceList, PriceListItem, TaxCategory, TaxRate, Warehouse
    from otc.models import User

    clerk = User.objects.create_user("bench-clerk@otc.test", "x", is_staff=True, is_superuser=True)
    approver = User.objects.create_user("bench-approver@otc.test", "x", is_staff=True, is_superuser=True)
    standard = TaxCategory.objects.create(code="standard", name="Standard")
    TaxRate.objects.create(category=standard, country="DE", rate="19.00", valid_from=date(2020, 1, 1))
    warehouse = Warehouse.objects.create(code="main", name="Main", country="DE", is_default=True)
    price_list = PriceList.objects.create(name="List EUR", currency="EUR", valid_from=date(2020, 1, 1))
    products = []
    for index in range(PRODUCTS):
        product = inventory.create_product(
            actor=clerk, sku=f"SKU-{index:04d}", name=f"Product {index}", tax_category=standard
        )
        PriceListItem.objects.create(price_list=price_list, product=product, unit_price=Decimal(index % 50 + 1))
        PriceListItem.objects.create(
            price_list=price_list, product=product, min_quantity=4, unit_price=Decimal(index % 50 + 1) * Decimal("0.9")
        )
        inventory.receive_stock(product=product, warehouse=warehouse, quantity=Decimal(stock), actor=clerk)
        products.append(product)
    customers_ = []
    for index in range(CUSTOMERS):
        customer = customers.create_customer(
            actor=clerk, legal_name=f"Bench Customer {index:05d}", country="DE", confirm_duplicate=True
        )
        request = customers.request_credit_limit_change(
            customer=customer, actor=clerk, credit_limit="1000000000", reason="bench"
        )
        customers.approve_change_request(change_request=request, actor=approver)
        customers_.append(customer)
    return clerk, warehouse, customers_, products


def plan(count: int, customers, products, seed: int):
    rng = random.Random(seed)
    return [
        (rng.choice(customers), [(p, Decimal(rng.randint(1, 5))) for p in rng.sample(products, 3)])
        for _ in range(count)
    ]


def run_services(orders, clerk) -> None:
    from orders import services

    for customer, lines in orders:
        order = services.create_order(
            actor=clerk, customer=customer, lines=[services.LineInput(product, quantity) for product, quantity in lines]
        )
        services.confirm_order(order=order, actor=clerk)


def audit(cur, clerk, reason: str) -> None:
    """Attach the actor to the audit rows the triggers write, as the services do (one context per transaction)."""
    import json
    import uuid

    cur.execute(
        "SELECT set_config('pghistory.context_id', %s, true), set_config('pghistory.context_metadata', %s, true)",
        [str(uuid.uuid4()), json.dumps({"user": clerk.pk, "reason": reason, "user_email": clerk.email})],
    )


def run_sql(orders, clerk, warehouse, conn) -> None:
    """The same reads and writes, hand-written: two transactions per order as in the service path, with
    the actor attached to the audit trail as the services attach it."""
    import json

    with conn.cursor() as cur:
        for customer, lines in orders:
            audit(cur, clerk, "enter order")
            ids = [product.pk for product, _ in lines]
            quantities = {product.pk: quantity for product, quantity in lines}
            cur.execute(
                """SELECT DISTINCT ON (product_id) product_id, unit_price FROM inventory_pricelistitem
                    WHERE price_list_id = (SELECT id FROM inventory_pricelist LIMIT 1) AND product_id = ANY(%s)
                      AND min_quantity <= 3 ORDER BY product_id, min_quantity DESC""",
                [ids],
            )
            prices = dict(cur.fetchall())
            cur.execute("SELECT rate FROM inventory_taxrate WHERE country = 'DE' LIMIT 1")
            (rate,) = cur.fetchone()
            cur.execute("SELECT nextval('orders_order_number_seq')")
            (number,) = cur.fetchone()
            nets = {pid: (quantities[pid] * prices[pid]).quantize(Decimal("0.01")) for pid in ids}
            net = sum(nets.values())
            tax = (net * rate / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
            running, allocated, taxes = Decimal(0), Decimal(0), {}
            for pid in ids:  # the group's tax shared out in proportion to the line nets
                running += nets[pid]
                upto = (tax * running / net).quantize(Decimal("0.01"), ROUND_HALF_UP) if running else allocated
                taxes[pid], allocated = upto - allocated, upto
            cur.execute(
                """INSERT INTO orders_order (number, customer_id, status, currency, po_number, order_date,
                       warehouse_id, billing_address, shipping_address, discount_percent, net_total, tax_total,
                       gross_total, notes, hold_reason, created_by_id, created_at, updated_at)
                   VALUES (%s, %s, 'draft', 'EUR', '', CURRENT_DATE, %s, '{}', '{}', 0, %s, %s, %s, '', '', %s,
                           now(), now()) RETURNING id""",
                [f"SQL-{number:08d}", customer.pk, warehouse.pk, net, tax, net + tax, clerk.pk],
            )
            (order_id,) = cur.fetchone()
            cur.executemany(
                """INSERT INTO orders_orderline (order_id, line_no, product_id, description, quantity, unit_price,
                       price_rule, discount_percent, tax_rate, reverse_charge, tax_category, tax_note, net_amount,
                       tax_amount, quantity_reserved, quantity_shipped, quantity_returned, price_overridden)
                   VALUES (%s, %s, %s, 'item', %s, %s, 'list', 0, %s, false, 'S', '', %s, %s, 0, 0, 0, false)""",
                [
                    (order_id, n, pid, quantities[pid], prices[pid], rate, nets[pid], taxes[pid])
                    for n, pid in enumerate(ids, start=1)
                ],
            )
            cur.execute(
                "INSERT INTO orders_ordertimelineentry (order_id, kind, at, actor_id, detail) "
                "VALUES (%s, 'created', now(), %s, '')",
                [order_id, clerk.pk],
            )
            conn.commit()
            audit(cur, clerk, "confirm order")
            cur.execute("SELECT status FROM orders_order WHERE id = %s FOR UPDATE", [order_id])
            cur.execute(
                """SELECT COALESCE(SUM((l.quantity - l.quantity_shipped) / l.quantity
                                        * (l.net_amount + l.tax_amount)), 0)
                     FROM orders_orderline l JOIN orders_order o ON o.id = l.order_id
                    WHERE o.customer_id = %s AND o.status IN ('confirmed', 'on_credit_hold', 'partially_shipped')""",
                [customer.pk],
            )
            cur.execute(
                """UPDATE inventory_stocklevel s SET reserved = s.reserved + w.q, updated_at = now()
                     FROM (SELECT unnest(%s::bigint[]) AS pid, unnest(%s::numeric[]) AS q) w
                    WHERE s.product_id = w.pid AND s.warehouse_id = %s AND s.on_hand - s.reserved >= w.q""",
                [ids, [quantities[pid] for pid in ids], warehouse.pk],
            )
            cur.executemany(
                """INSERT INTO inventory_stockmove (product_id, warehouse_id, kind, on_hand_delta, reserved_delta,
                       reason, reference, actor_id, created_at)
                   VALUES (%s, %s, 'reservation', 0, %s, '', %s, %s, now())""",
                [(pid, warehouse.pk, quantities[pid], f"order:{number}", clerk.pk) for pid in ids],
            )
            cur.execute(
                """UPDATE orders_orderline l SET quantity_reserved = w.q
                     FROM (SELECT unnest(%s::bigint[]) AS pid, unnest(%s::numeric[]) AS q) w
                    WHERE l.order_id = %s AND l.product_id = w.pid""",
                [ids, [quantities[pid] for pid in ids], order_id],
            )
            cur.execute(
                "UPDATE orders_order SET status = 'confirmed', confirmed_at = now(), updated_at = now() WHERE id = %s",
                [order_id],
            )
            cur.execute(
                "INSERT INTO orders_ordertimelineentry (order_id, kind, at, actor_id, detail) "
                "VALUES (%s, 'confirmed', now(), %s, '')",
                [order_id, clerk.pk],
            )
            cur.execute(
                "INSERT INTO workflows_outboxevent (event_type, version, payload, status, attempts, last_error, "
                "rule_chain, created_at) VALUES ('order.confirmed', 1, %s, 'pending', 0, '', '{}', now())",
                [json.dumps({"order_id": order_id, "customer_id": customer.pk, "actor_id": clerk.pk})],
            )
            conn.commit()


def racer(order_ids, clerk_id) -> tuple[int, int]:
    from django.db import connections

    from orders import services
    from orders.models import Order
    from otc.models import User

    connections.close_all()
    clerk = User.objects.get(pk=clerk_id)
    confirmed = 0
    for order in Order.objects.filter(pk__in=order_ids):
        services.confirm_order(order=order, actor=clerk)
        confirmed += 1
    connections.close_all()
    return confirmed, len(order_ids)


def oversold_units(products) -> Decimal:
    """Units reserved or shipped beyond stock, and any disagreement between lines and levels."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT COALESCE(SUM(GREATEST(lines.reserved - s.on_hand, 0) + ABS(lines.reserved - s.reserved)), 0)
                 FROM inventory_stocklevel s
                 JOIN (SELECT l.product_id, o.warehouse_id, SUM(l.quantity_reserved) AS reserved
                         FROM orders_orderline l JOIN orders_order o ON o.id = l.order_id
                        GROUP BY l.product_id, o.warehouse_id) lines
                   ON lines.product_id = s.product_id AND lines.warehouse_id = s.warehouse_id
                WHERE s.product_id = ANY(%s)""",
            [[p.pk for p in products]],
        )
        (value,) = cursor.fetchone()
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=20000)
    parser.add_argument("--racers", type=int, default=8)
    parser.add_argument("--race-orders", type=int, default=2400)
    args = parser.parse_args()

    url = setup_django()
    from django.conf import settings
    from django.db import connections

    from otc.celery import app

    # The outbox rows are part of the work; publishing goes to an in-memory broker, not run inline.
    app.conf.task_always_eager = False
    app.conf.broker_url = "memory://localhost/"
    settings.OTC_SHORT_STOCK_POLICY = "backorder"

    clerk, warehouse, customers, products = build_world(stock="1000000")
    print(f"world: {len(customers)} customers, {len(products)} products")
    import psycopg
    from django.db import connection

    sql_connection = psycopg.connect(psycopg_url(url))
    sql_cost = CpuTimer(sql_connection.execute("SELECT pg_backend_pid()").fetchone()[0])
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        service_cost = CpuTimer(cursor.fetchone()[0])
    warm = plan(200, customers, products, seed=1)
    run_services(warm, clerk)
    run_sql(warm, clerk, warehouse, sql_connection)

    orders = plan(args.orders, customers, products, seed=2)
    # Interleaved: SQL and services take turns over ROUNDS slices of the orders, so a machine whose load
    # changes during the run (other processes) weighs on both sides alike.
    for round_ in range(ROUNDS):
        share = orders[round_::ROUNDS]
        refresh_statistics()
        with sql_cost:
            run_sql(share, clerk, warehouse, sql_connection)
        with service_cost:
            run_services(share, clerk)
    sql_connection.close()
    figures = {}
    for side, cost in (("sql", sql_cost), ("service", service_cost)):
        figures[side] = {
            "orders_per_second": round(args.orders / cost.wall, 1),
            "cpu_ms_per_order": round(1000 * cost.cpu / args.orders, 2),
            "client_cpu_ms_per_order": round(1000 * cost.client / args.orders, 2),
            "backend_cpu_ms_per_order": round(1000 * cost.backend / args.orders, 2),
        }
        print(
            f"{'hand-written SQL' if side == 'sql' else 'service layer':<17}: {args.orders} orders in "
            f"{cost.wall:6.1f} s = {args.orders / cost.wall:6.1f} orders/s; CPU per order "
            f"{figures[side]['cpu_ms_per_order']:.2f} ms (client {figures[side]['client_cpu_ms_per_order']:.2f}, "
            f"PostgreSQL {figures[side]['backend_cpu_ms_per_order']:.2f})"
        )
    cpu_ratio = service_cost.cpu / sql_cost.cpu
    wall_ratio = service_cost.wall / sql_cost.wall
    print(f"interleaved      : {ROUNDS} rounds of SQL then services over a slice of the orders each")
    print(
        f"ratio            : services take {cpu_ratio:.2f}x the CPU of hand-written SQL (target <= 3x), "
        f"{wall_ratio:.2f}x its wall time"
    )

    # The race: scarce stock, every racer confirming its share of orders at the same time.
    from inventory import services as inventory
    from inventory.models import PriceListItem, StockLevel
    from orders import services

    scarce = []
    for index in range(PRODUCTS):
        product = inventory.create_product(
            actor=clerk, sku=f"SCARCE-{index:04d}", name=f"Scarce {index}", tax_category=products[0].tax_category
        )
        PriceListItem.objects.create(
            price_list=PriceListItem.objects.first().price_list, product=product, unit_price=Decimal("5.00")
        )
        inventory.receive_stock(product=product, warehouse=warehouse, quantity=Decimal("25"), actor=clerk)
        scarce.append(product)
    drafts = [
        services.create_order(actor=clerk, customer=customer, lines=[services.LineInput(p, q) for p, q in lines]).pk
        for customer, lines in plan(args.race_orders, customers, scarce, seed=3)
    ]
    connections.close_all()
    shares = [drafts[i :: args.racers] for i in range(args.racers)]
    with Timer() as race_time, multiprocessing.get_context("fork").Pool(args.racers) as pool:
        results = pool.starmap(racer, [(share, clerk.pk) for share in shares])
    confirmed = sum(done for done, _ in results)
    oversold = oversold_units(scarce)
    reserved = StockLevel.objects.filter(product__in=scarce).values_list("reserved", flat=True)
    print(
        f"race             : {args.racers} processes confirmed {confirmed} orders on {len(scarce)} products with "
        f"25 units each in {race_time.seconds:.1f} s ({confirmed / race_time.seconds:.0f} orders/s); "
        f"reserved {sum(reserved)} of {25 * len(scarce)} units; oversold units: {oversold}"
    )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    path = write_results(
        "order_intake",
        {
            "orders": args.orders,
            "lines_per_order": 3,
            "interleaved_rounds": ROUNDS,
            "sql": figures["sql"],
            "service": figures["service"],
            "cpu_ratio_service_to_sql": round(cpu_ratio, 2),
            "wall_ratio_service_to_sql": round(wall_ratio, 2),
            "target_cpu_ratio": 3,
            "race_processes": args.racers,
            "race_orders_confirmed": confirmed,
            "race_units_reserved": str(sum(reserved)),
            "race_units_in_stock": 25 * len(scarce),
            "oversold_units": str(oversold),
            "peak_rss_mb": round(peak_mb, 1),
        },
    )
    print(f"results written to {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")


if __name__ == "__main__":
    main()
