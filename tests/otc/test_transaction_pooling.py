"""Behind PgBouncer in transaction mode the connection settings drop what a pooled connection may not
keep: a connection held between requests, server-side cursors and prepared statements."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = "import json; from django.conf import settings; print(json.dumps(settings.DATABASES['default']))"


def database_settings(**environment: str) -> dict:
    printed = subprocess.run(
        [sys.executable, "-c", SCRIPT], env={**os.environ, **environment}, cwd=ROOT, capture_output=True, text=True
    )
    assert printed.returncode == 0, printed.stderr
    return json.loads(printed.stdout)


def test_transaction_pooling_keeps_no_connection_cursor_or_prepared_statement():
    pooled = database_settings(DB_TRANSACTION_POOLING="1", DB_CONN_MAX_AGE="60")

    assert (pooled["CONN_MAX_AGE"], pooled["DISABLE_SERVER_SIDE_CURSORS"]) == (0, True)
    assert pooled["OPTIONS"]["prepare_threshold"] is None


def test_without_pooling_connections_are_kept_and_statements_prepared():
    direct = database_settings(DB_TRANSACTION_POOLING="", DB_CONN_MAX_AGE="60")

    assert (direct["CONN_MAX_AGE"], direct.get("DISABLE_SERVER_SIDE_CURSORS", False)) == (60, False)
    assert direct["OPTIONS"]["prepare_threshold"] == 5


def test_prepared_statements_can_be_turned_off():
    unprepared = database_settings(DB_TRANSACTION_POOLING="", DB_PREPARED_STATEMENTS="false")

    assert unprepared["OPTIONS"]["prepare_threshold"] is None
    assert unprepared["OPTIONS"]["server_side_binding"] is True
