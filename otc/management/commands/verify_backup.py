"""Prove a backup restores: pg_restore it into a scratch database, compare it with the record written
beside it at dump time, drop the scratch database. Exits non-zero on any difference.

    python manage.py verify_backup var/backups/20260101T020000.000000Z.dump

Checks: the file's SHA-256 is the one recorded; pg_restore succeeds; django_migrations is present and
every recorded table exists with the recorded row count. The database role needs CREATEDB.
"""

import json
import secrets
import subprocess
from contextlib import closing
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from psycopg import sql

from otc.management.commands.backup_database import (
    MIGRATIONS_TABLE,
    connect,
    count_rows,
    database_settings,
    existing_tables,
    libpq_env,
    pg_tool,
    sha256,
    sidecar_for,
)


class Command(BaseCommand):
    help = "Restore a backup into a scratch database, check it against its record, then drop the scratch database."

    def add_arguments(self, parser) -> None:
        parser.add_argument("dump", type=Path, help="A .dump file written by backup_database.")

    def handle(self, *args, dump: Path, **options) -> None:
        record = self._record(dump)
        if sha256(dump) != record["sha256"]:
            raise CommandError(f"{dump} does not match its recorded SHA-256: the file is damaged or was changed")
        pg_restore = pg_tool("pg_restore")
        scratch = f"{database_settings()['NAME'][:40]}_verify_{secrets.token_hex(4)}"
        with closing(connect(autocommit=True)) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(scratch)))
        try:
            result = subprocess.run(  # noqa: S603 - fixed argv, no shell
                [pg_restore, "--no-owner", "--no-privileges", "--exit-on-error", "--no-password", "--dbname", scratch],
                stdin=dump.open("rb"),
                env=libpq_env(scratch),
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                raise CommandError(f"pg_restore failed ({result.returncode}): {result.stderr.strip()}")
            problems, total = self._compare(scratch, record["row_counts"])
        finally:
            with closing(connect(autocommit=True)) as admin:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(scratch)))
        if problems:
            raise CommandError(f"{dump} does not restore to what was backed up:\n  " + "\n  ".join(problems))
        self.stdout.write(
            self.style.SUCCESS(
                f"{dump} restores: {len(record['row_counts'])} tables, {total} rows, as recorded at "
                f"{record['created_at']} (scratch database {scratch} dropped)"
            )
        )

    def _record(self, dump: Path) -> dict:
        if not dump.is_file():
            raise CommandError(f"{dump} is not a file")
        sidecar = sidecar_for(dump)
        if not sidecar.is_file():
            raise CommandError(f"{sidecar} is missing: without the record there is nothing to verify against")
        try:
            record = json.loads(sidecar.read_text())
        except ValueError as error:
            raise CommandError(f"{sidecar} is not a backup record: {error}") from error
        missing = {"sha256", "row_counts", "created_at"} - set(record if isinstance(record, dict) else ())
        if missing:
            raise CommandError(f"{sidecar} is not a backup record: {', '.join(sorted(missing))} missing")
        return record

    def _compare(self, scratch: str, expected: dict[str, int]) -> tuple[list[str], int]:
        with closing(connect(scratch)) as connection, connection.cursor() as cursor:
            present = existing_tables(cursor, list(expected))
            actual = count_rows(cursor, present)
        problems = []
        if MIGRATIONS_TABLE not in actual:
            problems.append(f"{MIGRATIONS_TABLE} is missing")
        for table, count in sorted(expected.items()):
            if table not in actual:
                problems.append(f"{table}: missing (expected {count} rows)")
            elif actual[table] != count:
                problems.append(f"{table}: {actual[table]} rows, expected {count}")
        return problems, sum(actual.values())
