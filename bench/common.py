"""Shared set-up for benchmarks: a dedicated database, Django configured for it, and result files.

Benchmarks are not tests: they print their figures and a ratio against a raw-SQL baseline measured in
the same run, and write a JSON summary to bench/results/.
"""

import json
import os
import platform
import resource
import sys
import threading
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/otc_bench"


def setup_django(*, fresh: bool = True) -> str:
    """Point Django at the benchmark database (recreated when `fresh`), migrate, return its URL."""
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if fresh and exists:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        if fresh or not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "otc.settings.dev")
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "n4o_7mE4mYqvC3G3q2jvO0Ykq0Yd2p9e3oQ0-8hVb1Q=")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return url


def refresh_statistics() -> None:
    """ANALYZE, as autovacuum does on a server once a tenth of a table has changed (it is off on the CI
    machines the benches run on). Without statistics PostgreSQL keeps the plans it made for the empty
    tables of the start: a sequential scan to update three order lines among tens of thousands, foreign
    key checks against a payments table planned as empty. Call it off the clock, between blocks."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def drop_database(url: str) -> None:
    """Drop a scratch benchmark database once its figures are taken."""
    from django.db import connections

    connections.close_all()
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def psycopg_url(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


def backend_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a PostgreSQL backend on this machine has used, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuTimer:
    """Wall time, this process's CPU and one database backend's CPU over a block: the CPU a piece of work
    costs, whatever else the machine is doing meanwhile."""

    def __init__(self, backend_pid: int):
        self.backend_pid = backend_pid
        self.wall = self.client = self.backend = 0.0

    def __enter__(self):
        self._start = (time.perf_counter(), time.process_time(), backend_cpu_seconds(self.backend_pid))
        return self

    def __exit__(self, *exc):
        wall, client, backend = self._start
        self.wall += time.perf_counter() - wall
        self.client += time.process_time() - client
        self.backend += backend_cpu_seconds(self.backend_pid) - backend

    @property
    def cpu(self) -> float:
        return self.client + self.backend


def write_results(name: str, figures: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    figures = {
        "benchmark": name,
        "machine": f"{platform.node()} {os.cpu_count()} cores",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "load_average_at_end": [round(load, 2) for load in os.getloadavg()],
        **figures,
    }
    path.write_text(json.dumps(figures, indent=2, default=str) + "\n")
    return path


def current_rss_mb() -> float:
    """The memory this process holds now (resident set)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class RssHighWater:
    """The most memory this process holds while the block runs, above what it held when it began:
    the resident set sampled every 5 ms by a thread. ru_maxrss cannot tell it, as its peak may come
    from before the block (migrating the database, building the file)."""

    def __enter__(self):
        self.start = current_rss_mb()
        self.highest = self.start
        self._done = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()
        return self

    def _sample(self) -> None:
        while not self._done.wait(0.005):
            self.highest = max(self.highest, current_rss_mb())

    def __exit__(self, *exc):
        self._done.set()
        self._sampler.join()
        self.highest = max(self.highest, current_rss_mb())

    @property
    def above_start_mb(self) -> float:
        return self.highest - self.start


def peak_rss_mb() -> float:
    """The most memory this process has held so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
