"""A real Celery worker and a real Redis for the outbox tests.

The worker is a subprocess on its own queue (one per test, so parallel pytest-xdist workers never take
each other's tasks), reading the test database the test itself writes to (transaction=True tests commit,
so the other process sees the rows). The test process publishes through the same Redis: nothing runs
eagerly while these fixtures are active.
"""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import kombu.pools
import pytest
import redis
from django.conf import settings

from otc import celery_app

REDIS_URL = os.environ.get("OTC_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
PROJECT_ROOT = Path(settings.BASE_DIR)
CELERY = Path(sys.executable).with_name("celery")  # the virtualenv running the tests
# Short enough for a test to watch a lease lapse; the sweeper takes what it finds at once.
LEASE_SECONDS = 3


def database_url() -> str:
    """The URL of the database this test (this xdist worker) runs on, for another process."""
    db = settings.DATABASES["default"]
    credentials = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = quote(db.get("HOST") or "", safe="")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{credentials}@{host}{port}/{quote(db['NAME'], safe='')}"


def wait_for(
    condition: Callable[[], object],
    what: str,
    *,
    timeout: float = 30.0,
    nudge: Callable[[], object] | None = None,
    nudge_every: float = 1.0,
    workers: list["Worker"] | None = None,
) -> None:
    """Poll until `condition()` is true; fail with `what` and the workers' logs at the deadline.

    `nudge` (e.g. publishing the sweeper, as beat would) is called first and then every `nudge_every`.
    """
    deadline = time.monotonic() + timeout
    next_nudge = time.monotonic()
    while True:
        if nudge is not None and time.monotonic() >= next_nudge:
            nudge()
            next_nudge = time.monotonic() + nudge_every
        if condition():
            return
        for worker in workers or []:
            if worker.process.poll() is not None and not worker.killed:
                pytest.fail(f"worker {worker.name} exited while waiting for {what}:\n{worker.log_tail()}")
        if time.monotonic() >= deadline:
            logs = "\n".join(f"--- {w.name}\n{w.log_tail()}" for w in workers or [])
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}\n{logs}")
        time.sleep(0.05)


@dataclass
class Worker:
    name: str
    process: subprocess.Popen
    log: Path
    killed: bool = False

    def kill(self) -> None:
        """SIGKILL: no warm shutdown, no ack, no cleanup; what a crashed or OOM-killed worker does."""
        self.killed = True
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.killed = True
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"


@dataclass
class WorkerPool:
    queue: str
    mail_dir: Path
    logs_dir: Path
    env: dict[str, str]
    workers: list[Worker] = field(default_factory=list)

    def start(self) -> Worker:
        name = f"{self.queue}-{len(self.workers) + 1}"
        log = self.logs_dir / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [
                    str(CELERY),
                    "-A",
                    "otc",
                    "worker",
                    "--pool=solo",
                    "--concurrency=1",
                    "-Q",
                    self.queue,
                    "--hostname",
                    f"{name}@%h",
                    "--without-heartbeat",
                    "--without-gossip",
                    "--without-mingle",
                    "--loglevel=INFO",
                ],
                cwd=PROJECT_ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        worker = Worker(name=name, process=process, log=log)
        self.workers.append(worker)
        return worker

    def mail_files(self) -> list[Path]:
        return sorted(self.mail_dir.iterdir())


def worker_environment(*, redis_url: str, queue: str, mail_dir: Path) -> dict[str, str]:
    """What a worker (or web) subprocess runs with: this test's database, broker and queue, emails
    written to `mail_dir`, a short lease and a sweeper that takes what it finds at once."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CELERY_")}
    env.update(
        DJANGO_SETTINGS_MODULE="otc.settings.test",
        DATABASE_URL=database_url(),
        REDIS_URL=redis_url,
        CELERY_QUEUE=queue,
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(mail_dir),
        OUTBOX_LEASE_SECONDS=str(LEASE_SECONDS),
        OUTBOX_SWEEP_AFTER_SECONDS="0",
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture
def redis_url() -> str:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.fail(
            f"Redis is not reachable at {REDIS_URL} ({error}). These tests need a real Redis and never skip: "
            "start it (.ci/run does) or point OTC_TEST_REDIS_URL at one.",
            pytrace=False,
        )
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture
def celery_queue(redis_url: str) -> Iterator[str]:
    """A queue of this test's own; its keys are removed from Redis afterwards."""
    queue = f"otc-test-{uuid.uuid4().hex[:12]}"
    yield queue
    client = redis.Redis.from_url(redis_url)
    try:
        # The queue, its bindings and the workers' control (pidbox) queues are all named after it.
        client.delete(f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}", *client.scan_iter(f"{queue}*"))
        for key in ("_kombu.binding.celery.pidbox", "_kombu.binding_permanent.celery.pidbox"):
            for member in client.smembers(key):
                if queue.encode() in member:
                    client.srem(key, member)
        # A killed worker leaves its unacknowledged message behind; drop it rather than let it be
        # restored into a queue nobody reads once the visibility timeout passes.
        for tag, raw in client.hgetall("unacked").items():
            try:
                routing_key = json.loads(raw)[2]
            except (ValueError, IndexError):
                continue
            if routing_key == queue:
                client.hdel("unacked", tag)
                client.zrem("unacked_index", tag)
    finally:
        client.close()


@contextmanager
def publishing_to(broker_url: str, **conf) -> Iterator[None]:
    """Point the test process's Celery app at `broker_url` (and other conf), restoring it afterwards.

    Pooled broker connections and cached queue declarations are dropped on the way in and out, so the
    next publish uses the configuration in force."""
    changed = {"broker_url": broker_url, **conf}
    saved = {key: celery_app.conf[key] for key in changed}

    def drop_connections() -> None:
        kombu.pools.reset()
        celery_app._pool = None
        celery_app.__dict__.pop("amqp", None)

    drop_connections()
    celery_app.conf.update(changed)
    try:
        yield
    finally:
        drop_connections()
        celery_app.conf.update(saved)


@pytest.fixture
def publish_through_redis(redis_url: str, celery_queue: str) -> Iterator[None]:
    """The test process sends tasks to Redis on this test's queue instead of running them eagerly."""
    with publishing_to(redis_url, task_always_eager=False, task_default_queue=celery_queue):
        yield


@pytest.fixture
def celery_workers(
    transactional_db, publish_through_redis, redis_url: str, celery_queue: str, tmp_path: Path
) -> Iterator[WorkerPool]:
    """Start real workers with `celery_workers.start()`; all are stopped before the database is flushed."""
    mail_dir, logs_dir = tmp_path / "mail", tmp_path / "logs"
    mail_dir.mkdir()
    logs_dir.mkdir()
    env = worker_environment(redis_url=redis_url, queue=celery_queue, mail_dir=mail_dir)
    pool = WorkerPool(queue=celery_queue, mail_dir=mail_dir, logs_dir=logs_dir, env=env)
    yield pool
    for worker in pool.workers:
        worker.stop()
