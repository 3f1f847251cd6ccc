"""Partner webhook deliveries per second through the real path, against raw SQL + raw HTTP.

A receiver (http.server, threads) listens on 127.0.0.1. Each block records events in the outbox and
then, per event, runs the real path: the outbox dispatch with the project's handlers (the ANY_EVENT
fan-out queues the delivery), then `send_webhook` (claim, SSRF check on the resolved address, Standard
Webhooks signature, POST, attempt log, outcome). The baseline does the same rows and the same POST by
hand: one INSERT of the delivery, an HMAC with hashlib, http.client, one INSERT of the attempt and
one UPDATE. Blocks alternate (real, baseline, real, ...) so both see the same machine load.

    .venv/bin/python bench/webhook_deliveries.py [--events 600] [--block 100]
"""

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import os
import statistics
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, Timer, drop_database, psycopg_url, setup_django, write_results

os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/otc_bench_webhooks")


class Receiver(BaseHTTPRequestHandler):
    received = 0
    lock = threading.Lock()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with Receiver.lock:
            Receiver.received += 1
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def start_receiver() -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def record(count: int) -> list[int]:
    """`count` committed outbox events of a type with no fixed handlers (only the webhook fan-out)."""
    from django.db import transaction

    from customers.events import CreditHoldReleased
    from otc.events import PublishedEvent
    from workflows.services import record_events

    events = [
        CreditHoldReleased(customer_id=n, customer_number=f"K-{n:06d}", actor_id=1).payload() for n in range(count)
    ]
    with transaction.atomic():
        return record_events(events=[PublishedEvent(CreditHoldReleased.type, 1, payload) for payload in events])


def real_block(event_ids: list[int]) -> None:
    from workflows.handlers import HANDLERS
    from workflows.services import dispatch_event
    from workflows.webhooks.services import send_webhook

    for event_id in event_ids:
        event = dispatch_event(event_id=event_id, handlers=HANDLERS)
        for delivery_id in event.webhook_deliveries.values_list("pk", flat=True):
            result = send_webhook(delivery_id=delivery_id)
            assert result.delivery.status == "delivered", result.delivery.last_error


def baseline_block(conn: psycopg.Connection, event_ids: list[int], *, subscription_id: int, key: bytes, port: int):
    """What the path must do at least, by hand: the rows, the signature, the POST."""
    for event_id in event_ids:
        with conn.transaction():
            event_type, payload, created = conn.execute(
                "SELECT event_type, payload, created_at FROM workflows_outboxevent WHERE id = %s", [event_id]
            ).fetchone()
            body = json.dumps(
                {"type": event_type, "version": 1, "timestamp": created.isoformat(), "data": payload},
                separators=(",", ":"),
            )
            key_uuid = uuid.uuid4()
            delivery_id = conn.execute(
                "INSERT INTO workflows_webhookdelivery (event_id, subscription_id, handler, event_type, body,"
                " idempotency_key, is_test, status, attempts, last_error, created_at)"
                " VALUES (%s, %s, 'baseline', %s, %s, %s, false, 'sending', 1, '', now()) RETURNING id",
                [event_id, subscription_id, event_type, body, key_uuid],
            ).fetchone()[0]
        message_id, timestamp = f"msg_{key_uuid.hex}", str(int(time.time()))
        signature = base64.b64encode(
            hmac.new(key, f"{message_id}.{timestamp}.".encode() + body.encode(), hashlib.sha256).digest()
        ).decode()
        started, clock = time.time(), time.monotonic()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request(
            "POST",
            "/hooks",
            body=body.encode(),
            headers={
                "Content-Type": "application/json",
                "webhook-id": message_id,
                "webhook-timestamp": timestamp,
                "webhook-signature": f"v1,{signature}",
            },
        )
        response = connection.getresponse()
        excerpt = response.read(1024).decode(errors="replace")
        connection.close()
        duration = round((time.monotonic() - clock) * 1000)
        with conn.transaction():
            conn.execute(
                "INSERT INTO workflows_webhookattempt (delivery_id, number, url, remote_address, started_at,"
                " duration_ms, response_status, response_body, error)"
                " VALUES (%s, 1, %s, '127.0.0.1', to_timestamp(%s), %s, %s, %s, '')",
                [delivery_id, f"http://127.0.0.1:{port}/hooks", started, duration, response.status, excerpt],
            )
            conn.execute(
                "UPDATE workflows_webhookdelivery SET status = 'delivered', delivered_at = now() WHERE id = %s",
                [delivery_id],
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=600, help="events per side (default 600)")
    parser.add_argument("--block", type=int, default=100, help="events per interleaved block (default 100)")
    args = parser.parse_args()
    url = setup_django()
    server = start_receiver()
    try:
        from otc.models import User
        from otc.services import create_api_key
        from workflows.webhooks.services import create_subscription

        port = server.server_port
        admin = User.objects.create_superuser(email="bench@otc.test", password="x")
        api_key, _ = create_api_key(name="Bench shop", scopes=["webhooks:manage"], actor=admin)
        subscription, secret = create_subscription(
            api_key=api_key, url=f"http://127.0.0.1:{port}/hooks", event_types=["*"], actor=admin
        )
        key = base64.b64decode(secret.removeprefix("whsec_"))
        real_times, baseline_times = [], []
        with psycopg.connect(psycopg_url(url), autocommit=True) as conn:
            real_block(record(10))  # warm-up: imports, connections, first queries
            for _ in range(max(1, args.events // args.block)):
                ids = record(args.block)
                with Timer() as timer:
                    real_block(ids)
                real_times.append(timer.seconds)
                ids = record(args.block)
                with Timer() as timer:
                    baseline_block(conn, ids, subscription_id=subscription.pk, key=key, port=port)
                baseline_times.append(timer.seconds)
        blocks = len(real_times)
        real_rate = args.block / statistics.median(real_times)
        baseline_rate = args.block / statistics.median(baseline_times)
        figures = {
            "events_per_side": blocks * args.block,
            "block": args.block,
            "blocks": blocks,
            "real_deliveries_per_second": round(real_rate, 1),
            "baseline_deliveries_per_second": round(baseline_rate, 1),
            "ratio": round(baseline_rate / real_rate, 2),
            "real_block_seconds": [round(seconds, 3) for seconds in real_times],
            "baseline_block_seconds": [round(seconds, 3) for seconds in baseline_times],
            "received": Receiver.received,
        }
        print(
            f"webhook deliveries: {figures['real_deliveries_per_second']}/s through the outbox, fan-out, "
            f"send_webhook (sign, SSRF check, POST, log) vs {figures['baseline_deliveries_per_second']}/s "
            f"raw SQL + http.client: {figures['ratio']}x (median of {blocks} interleaved blocks of {args.block})"
        )
        path = write_results("webhook_deliveries", figures)
        print(f"written to {path.relative_to(ROOT)}")
    finally:
        server.shutdown()
        drop_database(url)


if __name__ == "__main__":
    main()
