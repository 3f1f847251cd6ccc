"""Backups with a verified restore: pg_dump of the test database, restored into a scratch database."""

import json
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

from otc.management.commands.backup_database import sha256
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _backup(directory, keep=14):
    call_command("backup_database", dir=directory, keep=keep, stdout=StringIO())
    return sorted(directory.glob("*.dump"))


def _scratch_databases() -> list[str]:
    prefix = settings.DATABASES["default"]["NAME"][:40] + "_verify_"
    with connection.cursor() as cursor:
        cursor.execute("SELECT datname FROM pg_database WHERE starts_with(datname, %s)", [prefix])
        return [row[0] for row in cursor.fetchall()]


def test_a_backup_restores_to_the_rows_it_was_taken_from(tmp_path, clerk):
    CustomerFactory.create_batch(3, actor=clerk)

    [dump] = _backup(tmp_path)
    CustomerFactory(actor=clerk)  # written after the dump: in neither the dump nor its record

    record = json.loads(dump.with_suffix(".json").read_text())
    assert record["database"] == settings.DATABASES["default"]["NAME"]
    assert record["row_counts"]["customers_customer"] == 3
    assert record["row_counts"]["django_migrations"] == MigrationRecorder.Migration.objects.count()
    assert record["row_counts"]["workflows_outboxevent"] == 3
    out = StringIO()
    call_command("verify_backup", str(dump), stdout=out)
    assert f"{dump} restores:" in out.getvalue()
    assert _scratch_databases() == []


def test_a_restore_that_differs_from_the_record_fails_and_leaves_no_scratch_database(tmp_path, clerk):
    CustomerFactory.create_batch(2, actor=clerk)
    [dump] = _backup(tmp_path)
    sidecar = dump.with_suffix(".json")
    record = json.loads(sidecar.read_text())
    record["row_counts"]["customers_customer"] = 5
    record["row_counts"]["customers_invented"] = 1
    sidecar.write_text(json.dumps(record))

    with pytest.raises(CommandError) as failure:
        call_command("verify_backup", str(dump), stdout=StringIO())

    assert "customers_customer: 2 rows, expected 5" in str(failure.value)
    assert "customers_invented: missing (expected 1 rows)" in str(failure.value)
    assert _scratch_databases() == []


def test_a_damaged_dump_is_refused(tmp_path, clerk):
    CustomerFactory(actor=clerk)
    [dump] = _backup(tmp_path)
    dump.write_bytes(dump.read_bytes()[: dump.stat().st_size // 2])

    with pytest.raises(CommandError, match="does not match its recorded SHA-256"):
        call_command("verify_backup", str(dump), stdout=StringIO())

    # Even with a record rewritten to match, the restore itself fails, and the scratch database goes.
    sidecar = dump.with_suffix(".json")
    record = json.loads(sidecar.read_text())
    record["sha256"] = sha256(dump)
    sidecar.write_text(json.dumps(record))
    with pytest.raises(CommandError, match="pg_restore failed"):
        call_command("verify_backup", str(dump), stdout=StringIO())
    assert _scratch_databases() == []


def test_a_dump_without_its_record_cannot_be_verified(tmp_path):
    [dump] = _backup(tmp_path)
    dump.with_suffix(".json").unlink()

    with pytest.raises(CommandError, match="is missing"):
        call_command("verify_backup", str(dump), stdout=StringIO())


def test_only_the_newest_backups_are_kept(tmp_path):
    made = [_backup(tmp_path, keep=2)[-1] for _ in range(3)]

    assert sorted(tmp_path.glob("*.dump")) == made[1:]
    assert sorted(tmp_path.glob("*.json")) == [dump.with_suffix(".json") for dump in made[1:]]
