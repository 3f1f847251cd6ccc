"""Django's PostgreSQL backend, binding parameters on the server so that psycopg prepares a statement a
connection runs often (OPTIONS prepare_threshold) and PostgreSQL plans it once instead of at every call.
Planning was half of the database's CPU in order intake (bench/order_intake.py)."""

from typing import Any

from django.db.backends.postgresql import base
from psycopg import ClientCursor


def _holds_several_statements(query: object) -> bool:
    """Whether the text may hold more than one statement: every such text has a semicolon (one inside a
    literal only costs that statement its preparation)."""
    if isinstance(query, bytes):
        return b";" in query
    return isinstance(query, str) and ";" in query


class PreparingCursor(base.ServerBindingCursor):
    """A server-binding cursor that still runs what a prepared statement cannot hold: pghistory and
    pgtrigger put a `set_config` before the statement they label (in autocommit both must run in one
    implicit transaction), so such a text is bound on the client and sent as one simple query."""

    def execute(self, query: Any, params: Any = None, **options: Any) -> "PreparingCursor":
        if params is not None and _holds_several_statements(query):
            return super().execute(self.mogrify(query, params), prepare=False)
        return super().execute(query, params, **options)

    def mogrify(self, query: Any, params: Any = None) -> str:
        """The statement with its parameters merged as client-side binding merges them (pghistory builds
        its audit-trail queries this way)."""
        return ClientCursor(self.connection).mogrify(query, params)


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self) -> dict[str, Any]:
        params = super().get_connection_params()
        params["cursor_factory"] = PreparingCursor
        return params
