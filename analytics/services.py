"""Analytics writes nothing of the business; it only refreshes its own snapshots."""

from django.db import connection

SNAPSHOTS = ["analytics_customer_behaviour"]


def refresh_snapshots() -> None:
    """Recompute every materialised snapshot as of today, CONCURRENTLY: readers keep the old rows and
    writers are never blocked while it runs (each view has the unique index this needs)."""
    with connection.cursor() as cursor:
        for view in SNAPSHOTS:
            cursor.execute(f"REFRESH MATERIALIZED VIEW CONCURRENTLY {view}")
