"""The embedded server refuses a data directory of another PostgreSQL major version, saying how on."""

import pytest

from otc.embedded_postgres import ClusterTooOld, check_cluster_version


def test_a_cluster_of_the_former_server_is_refused_with_the_way_to_move_it(tmp_path):
    (tmp_path / "PG_VERSION").write_text("16\n")

    with pytest.raises(ClusterTooOld) as refusal:
        check_cluster_version(tmp_path)

    message = str(refusal.value)
    assert "holds a PostgreSQL 16 database" in message
    assert f"mv {tmp_path} {tmp_path}-16" in message
    assert "--restore var/otc-16.sql" in message


def test_a_new_or_current_cluster_is_accepted(tmp_path):
    check_cluster_version(tmp_path)  # not initialised yet
    (tmp_path / "PG_VERSION").write_text("18\n")
    check_cluster_version(tmp_path)
