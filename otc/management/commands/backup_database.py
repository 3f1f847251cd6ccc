"""Dump the database (pg_dump, custom format) to var/backups/<timestamp>.dump and keep the newest N.

Beside each dump, <timestamp>.json records what `verify_backup` checks a restore against: the row
count of every table of the project's apps and of django_migrations, counted in the very snapshot that
pg_dump dumps (an exported snapshot), so the numbers hold even while the application writes.

    python manage.py backup_database [--dir var/backups] [--keep 14]
"""

import hashlib
import json
import os
import shutil
import subprocess
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from psycopg import sql

MIGRATIONS_TABLE = "django_migrations"


def default_backup_dir() -> Path:
    return Path(getattr(settings, "BACKUP_DIR", Path(settings.BASE_DIR) / "var" / "backups"))


def default_keep() -> int:
    return int(getattr(settings, "BACKUP_KEEP", 14))


def database_settings() -> dict[str, Any]:
    return settings.DATABASES["default"]


def libpq_env(dbname: str | None = None) -> dict[str, str]:
    """The environment that points pg_dump/pg_restore at the configured server (no password on argv)."""
    db = database_settings()
    values = {
        "PGHOST": db.get("HOST") or "",
        "PGPORT": str(db.get("PORT") or ""),
        "PGUSER": db.get("USER") or "",
        "PGPASSWORD": db.get("PASSWORD") or "",
        "PGDATABASE": dbname or db["NAME"],
        "PGSSLMODE": (db.get("OPTIONS") or {}).get("sslmode", ""),
    }
    return {**os.environ, **{key: value for key, value in values.items() if value}}


def connect(dbname: str | None = None, *, autocommit: bool = False) -> psycopg.Connection:
    db = database_settings()
    params = {
        "dbname": dbname or db["NAME"],
        "user": db.get("USER") or None,
        "password": db.get("PASSWORD") or None,
        "host": db.get("HOST") or None,
        "port": db.get("PORT") or None,
        "sslmode": (db.get("OPTIONS") or {}).get("sslmode"),
    }
    return psycopg.connect(autocommit=autocommit, **{key: value for key, value in params.items() if value})


def key_tables() -> list[str]:
    """Tables of the project's own apps (from the app registry, so otc imports no app), plus migrations."""
    base_dir = Path(settings.BASE_DIR).resolve()
    tables = {MIGRATIONS_TABLE}
    for app_config in apps.get_app_configs():
        if Path(app_config.path).resolve().parent != base_dir:
            continue  # Django's and third-party apps
        for model in app_config.get_models(include_auto_created=True):
            if model._meta.managed and not model._meta.proxy:
                tables.add(model._meta.db_table)
    return sorted(tables)


def count_rows(cursor: psycopg.Cursor, tables: list[str]) -> dict[str, int]:
    counts = {}
    for table in tables:
        cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
        counts[table] = cursor.fetchone()[0]
    return counts


def existing_tables(cursor: psycopg.Cursor, tables: list[str]) -> list[str]:
    cursor.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND c.relname = ANY(%s)",
        [tables],
    )
    return sorted(row[0] for row in cursor.fetchall())


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sidecar_for(dump: Path) -> Path:
    return dump.with_suffix(".json")


def pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise CommandError(f"{name} not found on PATH; install the PostgreSQL client matching the server's version")
    return path


class Command(BaseCommand):
    help = "Back up the database with pg_dump (custom format) and keep the newest --keep backups."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dir", type=Path, default=None, help="Where to write (default var/backups).")
        parser.add_argument("--keep", type=int, default=None, help="How many backups to keep (default 14).")

    def handle(self, *args, dir: Path | None, keep: int | None, **options) -> None:
        directory = dir or default_backup_dir()
        keep = default_keep() if keep is None else keep
        if keep < 1:
            raise CommandError("--keep must be at least 1")
        directory.mkdir(parents=True, exist_ok=True)
        now = datetime.now(UTC)
        dump = directory / f"{now:%Y%m%dT%H%M%S.%f}Z.dump"
        partial = dump.with_name(dump.name + ".partial")
        pg_dump = pg_tool("pg_dump")

        # Count rows in one snapshot and hand the same snapshot to pg_dump, which dumps exactly that.
        with closing(connect()) as connection:
            connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
                snapshot, server_version = cursor.fetchone()
                tables = existing_tables(cursor, key_tables())
                if MIGRATIONS_TABLE not in tables:
                    raise CommandError("The database has no django_migrations table: nothing worth backing up")
                counts = count_rows(cursor, tables)
                result = subprocess.run(  # noqa: S603 - fixed argv, no shell
                    [pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={partial}", "--no-password"],
                    env=libpq_env(),
                    capture_output=True,
                    text=True,
                    check=False,
                )
            connection.rollback()
        if result.returncode != 0:
            partial.unlink(missing_ok=True)
            raise CommandError(f"pg_dump failed ({result.returncode}): {result.stderr.strip()}")
        partial.rename(dump)
        sidecar = {
            "database": database_settings()["NAME"],
            "created_at": now.isoformat(),
            "server_version": server_version,
            "pg_dump": subprocess.run(  # noqa: S603
                [pg_dump, "--version"], capture_output=True, text=True, check=False
            ).stdout.strip(),
            "sha256": sha256(dump),
            "size": dump.stat().st_size,
            "row_counts": counts,
        }
        sidecar_for(dump).write_text(json.dumps(sidecar, indent=2, sort_keys=True) + "\n")
        removed = self._prune(directory, keep)
        self.stdout.write(
            self.style.SUCCESS(f"Backed up {sidecar['database']} to {dump} ({sidecar['size']} bytes)")
            + (f"; removed {len(removed)} older backup(s)" if removed else "")
        )

    def _prune(self, directory: Path, keep: int) -> list[Path]:
        """Keep the newest `keep` complete backups (dump plus record); names sort by time."""
        complete = sorted(path for path in directory.glob("*.dump") if sidecar_for(path).exists())
        old = complete[:-keep]
        for path in old:
            path.unlink()
            sidecar_for(path).unlink()
        return old
