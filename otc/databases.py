"""Which database a read goes to. Reports that read much and may lag the primary by a few seconds
(analytics) read from the replica when DATABASE_REPLICA_URL names one, and from the primary
otherwise; everything that writes, or reads what it has just written, stays on the primary."""

from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"


def reporting_database() -> str:
    return REPLICA if REPLICA in connections.settings else DEFAULT_DB_ALIAS
