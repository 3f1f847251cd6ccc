"""Faults with real processes: the database restarted under API writes, Redis stopped during intake, a
web worker killed mid-request. Whatever happens, no order is lost or doubled, no idempotency key stays
in progress, and every error the API gives is problem+json."""

import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
import requests

from orders.models import Order
from otc.models import IdempotencyRecord
from otc.services import create_api_key
from tests.support.servers import WebServer, copy_database, web_server
from tests.support.workers import WorkerPool, database_url, publishing_to, wait_for, worker_environment
from workflows import tasks
from workflows.models import Delivery, DeliveryStatus, EventStatus, OutboxEvent

pytestmark = pytest.mark.django_db(transaction=True)

ORDERS = "/api/v1/orders/"
PROBLEM = "application/problem+json"


@pytest.fixture
def partner_key(clerk) -> str:
    _, plaintext = create_api_key(name="web shop", scopes=["orders:read", "orders:write"], actor=clerk)
    return plaintext


@dataclass
class OrderingClient:
    """A partner system placing orders: each order has its key and is retried with it until it is created."""

    server: WebServer
    api_key: str
    customer_id: int
    answers: list[tuple[float, int, dict]] = field(default_factory=list)
    dropped: int = 0

    def post(self, key: str) -> requests.Response:
        body = {
            "customer": self.customer_id,
            "po_number": f"PO-{key}",
            "lines": [{"product": "WIDGET", "quantity": "1"}],
        }
        headers = {"Authorization": f"Api-Key {self.api_key}", "Idempotency-Key": key}
        return requests.post(self.server.url(ORDERS), json=body, headers=headers, timeout=60)

    def place(self, key: str, *, deadline: float) -> str:
        """The order's number, once the API answers 201 for this key (a replay counts)."""
        while time.monotonic() < deadline:
            try:
                response = self.post(key)
            except requests.ConnectionError:
                self.dropped += 1
                time.sleep(0.2)
                continue
            self.answers.append((time.monotonic(), response.status_code, dict(response.headers)))
            if response.status_code == 201:
                return response.json()["number"]
            time.sleep(0.2)
        pytest.fail(f"order {key} was not created before the deadline; answers: {self.answers[-5:]}")

    def failures(self) -> list[tuple[float, int, dict]]:
        return [answer for answer in self.answers if answer[1] != 201]


def assert_problems(failures: list[tuple[float, int, dict]]) -> None:
    for _, status, headers in failures:
        assert headers["Content-Type"] == PROBLEM, (status, headers)
        if status >= 500:
            assert status == 503, (status, headers)
            assert int(headers["Retry-After"]) > 0, headers


def test_a_database_restart_during_api_writes_loses_no_order_doubles_none_and_leaves_no_key(
    postgres_cluster, partner_key, customer, widget, tmp_path
):
    url = copy_database(database_url(), postgres_cluster, "otc_fault")
    keys = [f"restart-{number:02}" for number in range(24)]
    with web_server(url, tmp_path) as server, ThreadPoolExecutor(1) as pool:
        shop = OrderingClient(server, partner_key, customer.pk)
        deadline = time.monotonic() + 180
        placing = pool.submit(lambda: [shop.place(key, deadline=deadline) for key in keys])
        wait_for(lambda: len(shop.answers) >= 6, "the first orders")
        postgres_cluster.stop("immediate")  # a crash: every connection is cut mid-statement
        time.sleep(2)
        postgres_cluster.start()
        back_at = time.monotonic()
        numbers = placing.result()
        replays = [shop.post(key) for key in keys]

    outage = shop.failures()
    assert outage, "no request met the restart; the test proved nothing"
    assert_problems(outage)
    # Connections are health-checked: once the server is back, no request fails on a stale one.
    assert [answer for answer in outage if answer[0] > back_at] == []
    assert len(set(numbers)) == len(keys)
    assert [replay.json()["number"] for replay in replays] == numbers
    assert {replay.headers["Idempotent-Replayed"] for replay in replays} == {"true"}
    with postgres_cluster.connect("otc_fault") as connection:
        orders = connection.execute("SELECT count(*) FROM orders_order").fetchone()[0]
        reserved = connection.execute(
            "SELECT reserved FROM inventory_stocklevel WHERE product_id = %s", [widget.pk]
        ).fetchone()[0]
        stuck = connection.execute("SELECT count(*) FROM otc_idempotencyrecord WHERE response_status IS NULL")
        records = connection.execute("SELECT count(*) FROM otc_idempotencyrecord").fetchone()[0]
        assert (orders, int(reserved), stuck.fetchone()[0], records) == (len(keys), len(keys), 0, len(keys))


def test_a_web_worker_killed_mid_request_leaves_nothing_and_the_retry_creates_the_order_once(
    partner_key, customer, widget, tmp_path
):
    with web_server(database_url(), tmp_path, workers=1) as server, ThreadPoolExecutor(1) as pool:
        shop = OrderingClient(server, partner_key, customer.pk)
        with psycopg.connect(database_url()) as locker:
            # Writing the order waits on this lock, so the worker is killed inside the request's transaction.
            locker.execute("LOCK TABLE orders_order IN SHARE ROW EXCLUSIVE MODE")
            request = pool.submit(shop.post, "killed-1")
            waiting = _wait_for_backend_waiting_on_a_lock(locker)
            server.kill_workers()
            with pytest.raises(requests.ConnectionError):
                request.result(timeout=30)
        _wait_for_backend_to_end(waiting)
        assert (Order.objects.count(), IdempotencyRecord.objects.count()) == (0, 0)

        number = shop.place("killed-1", deadline=time.monotonic() + 60)
        replay = shop.post("killed-1")

    assert replay.status_code == 201
    assert replay.json()["number"] == number
    assert Order.objects.get().number == number
    assert IdempotencyRecord.objects.get().response_status == 201
    assert widget.stock_levels.get().reserved == 1


def _wait_for_backend_waiting_on_a_lock(locker: psycopg.Connection) -> int:
    """The pid of the web worker's database session once it waits for the test's lock."""
    with psycopg.connect(database_url(), autocommit=True) as watcher:
        found: list[int] = []

        def waiting() -> bool:
            rows = watcher.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
                " AND pid <> %s",
                [locker.info.backend_pid],
            ).fetchall()
            found[:] = [row[0] for row in rows]
            return bool(found)

        wait_for(waiting, "the order request to wait on the locked orders table")
        return found[0]


def _wait_for_backend_to_end(pid: int) -> None:
    """The killed worker's session ends when PostgreSQL notices its client is gone, rolling back."""
    with psycopg.connect(database_url(), autocommit=True) as watcher:
        wait_for(
            lambda: watcher.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()[0] == 0,
            "the killed worker's database session to end",
        )


def test_intake_goes_on_while_redis_is_stopped_and_every_event_is_handled_once_it_is_back(
    redis_server, celery_queue, partner_key, customer, widget, tmp_path
):
    mail_dir, logs_dir = tmp_path / "mail", tmp_path / "logs"
    mail_dir.mkdir()
    logs_dir.mkdir()
    services = worker_environment(redis_url=redis_server.url, queue=celery_queue, mail_dir=mail_dir)
    with web_server(database_url(), logs_dir, workers=1, **services) as server:
        shop = OrderingClient(server, partner_key, customer.pk)
        deadline = time.monotonic() + 120
        before = [shop.place(f"redis-{n}", deadline=deadline) for n in range(2)]
        redis_server.stop()
        during = [shop.place(f"redis-{n}", deadline=deadline) for n in range(2, 6)]
        readiness = requests.get(server.url("/readyz"), timeout=30)
        redis_server.start()
        after = [shop.place(f"redis-{n}", deadline=deadline) for n in range(6, 8)]
        server_log = server.log.read_text(errors="replace")

    assert (shop.failures(), shop.dropped) == ([], 0)
    assert (readiness.status_code, readiness.json()["status"]) == (200, "degraded")
    assert len(set(before + during + after)) == Order.objects.count() == 8
    # One line for the outage with the count once it is over, not one per order.
    assert server_log.count("broker.unreachable") == 1

    pool = WorkerPool(queue=celery_queue, mail_dir=mail_dir, logs_dir=logs_dir, env=services)
    worker = pool.start()
    try:
        with publishing_to(redis_server.url, task_always_eager=False, task_default_queue=celery_queue):
            wait_for(
                lambda: len(_confirmations(mail_dir)) >= 8,
                "the eight order confirmations to be sent",
                nudge=tasks.sweep_outbox.delay,
                timeout=120,
                workers=[worker],
            )
    finally:
        worker.stop()
    events = OutboxEvent.objects.filter(event_type="order.confirmed")
    assert (events.count(), events.exclude(status=EventStatus.DONE).count()) == (8, 0)
    assert not Delivery.objects.exclude(status=DeliveryStatus.SENT).exists()
    assert _confirmations(mail_dir) == sorted(before + during + after)


def _confirmations(mail_dir: Path) -> list[str]:
    """The order numbers in the order-confirmation emails sent, one entry per email."""
    numbers = []
    for path in mail_dir.iterdir():
        numbers += re.findall(r"^Subject: .*?(SO-\S+)", path.read_text(errors="replace"), flags=re.MULTILINE)
    return sorted(numbers)
