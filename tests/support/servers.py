"""Processes a fault test owns: a PostgreSQL cluster of its own, a Redis of its own and gunicorn serving
the project, so a test can restart the database, stop the broker or kill a web worker mid-request
without touching the services that other tests (and other pytest-xdist workers) share.

The cluster is made with the machine's PostgreSQL binaries (`pg_config --bindir`), as `.ci/run` starts
the shared one; run as root, the cluster belongs to the `postgres` user, as PostgreSQL requires.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import requests

from tests.support.workers import CELERY, PROJECT_ROOT

GUNICORN = CELERY.with_name("gunicorn")  # the virtualenv running the tests


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _postgres_bin(name: str) -> str:
    bindir = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True).stdout.strip()
    return str(Path(bindir) / name)


def _as_postgres_owner(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root; the machine's `postgres` user owns the cluster then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@dataclass
class PostgresCluster:
    data_dir: Path
    port: int

    @property
    def log(self) -> Path:
        return self.data_dir / "server.log"

    def _pg_ctl(self, *args: str) -> None:
        command = [_postgres_bin("pg_ctl"), "-D", str(self.data_dir), "-l", str(self.log), "-w", "-t", "60", *args]
        subprocess.run(_as_postgres_owner(command), check=True, capture_output=True)

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.data_dir} -c fsync=off"
        )
        self._pg_ctl("-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        """`immediate` is a crash as far as the clients can tell: every connection is cut at once."""
        self._pg_ctl("-m", mode, "stop")

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str) -> psycopg.Connection:
        return psycopg.connect(self.url(database), autocommit=True)


@pytest.fixture
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A PostgreSQL server of this test's own, on a free port, removed afterwards."""
    data_dir = Path(tempfile.mkdtemp(prefix="otc-fault-pg-"))
    if os.geteuid() == 0:
        shutil.chown(data_dir, "postgres", "postgres")
    subprocess.run(
        _as_postgres_owner(
            [_postgres_bin("initdb"), "-D", str(data_dir), "-U", "postgres", "-A", "trust", "--no-sync"]
        ),
        check=True,
        capture_output=True,
    )
    cluster = PostgresCluster(data_dir=data_dir, port=free_port())
    cluster.start()
    try:
        yield cluster
    finally:
        with suppress(subprocess.CalledProcessError):  # already stopped by the test
            cluster.stop("immediate")
        shutil.rmtree(data_dir, ignore_errors=True)


def copy_database(source_url: str, cluster: PostgresCluster, database: str) -> str:
    """Copy the test database (schema, triggers and the rows the test made) into `cluster`; its URL."""
    with cluster.connect("postgres") as connection:
        connection.execute(f'CREATE DATABASE "{database}"')
    dump = subprocess.run([_postgres_bin("pg_dump"), "--no-owner", source_url], capture_output=True, check=True)
    subprocess.run(
        [_postgres_bin("psql"), "-q", "-v", "ON_ERROR_STOP=1", cluster.url(database)],
        input=dump.stdout,
        capture_output=True,
        check=True,
    )
    return cluster.url(database)


@dataclass
class RedisServer:
    port: int
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        _wait_for_port(self.port, "redis-server")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A Redis of this test's own (the shared one on 6379 stays up for the other tests)."""
    server = RedisServer(port=free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _wait_for_port(port: int, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    pytest.fail(f"{what} did not listen on port {port} within {timeout:.0f}s")


@dataclass
class WebServer:
    """gunicorn with sync workers, as the Dockerfile runs the web container."""

    process: subprocess.Popen
    port: int
    log: Path

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return [int(pid) for pid in children]

    def kill_workers(self) -> None:
        """SIGKILL every worker: the request in flight gets no response and no cleanup runs."""
        for pid in self.worker_pids():
            os.kill(pid, signal.SIGKILL)

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def web_server(database_url: str, log_dir: Path, *, workers: int = 2, **env: str) -> Iterator[WebServer]:
    """Serve the project on a free port against `database_url`; `env` adds settings (REDIS_URL, ...) and
    may be a whole worker environment (tests.support.workers.worker_environment)."""
    port = free_port()
    log = log_dir / f"gunicorn-{port}.log"
    environment = {key: value for key, value in os.environ.items() if key not in {"REDIS_URL", "DATABASE_URL"}}
    fixed = {"DJANGO_SETTINGS_MODULE": "otc.settings.test", "DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1"}
    environment.update({**env, **fixed, "DB_CONN_MAX_AGE": "60"})
    command = [str(GUNICORN), "otc.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    command += ["--timeout", "60", "--graceful-timeout", "2"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = WebServer(process=process, port=port, log=log)
    try:
        _wait_until_serving(server)
        yield server
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _wait_until_serving(server: WebServer, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"gunicorn exited at start:\n{server.log_tail()}")
        try:
            if requests.get(server.url("/healthz"), timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    pytest.fail(f"gunicorn did not answer /healthz within {timeout:.0f}s:\n{server.log_tail()}")
