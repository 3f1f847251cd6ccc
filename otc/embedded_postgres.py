"""Start (or reuse) the embedded PostgreSQL under var/pgdata and print its DATABASE_URL.

`make run` uses it when DATABASE_URL is unset, so a new machine needs no database server. The server
keeps running after this process exits; `python -m otc.embedded_postgres --stop` stops it, which
`make run` does when it is stopped.
"""

import sys
import warnings
from pathlib import Path
from urllib.parse import quote

DATA_DIR = Path(__file__).resolve().parent.parent / "var" / "pgdata"
DATABASE = "otc"


def main() -> None:
    warnings.filterwarnings("ignore")
    import pgserver

    DATA_DIR.parent.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(DATA_DIR, cleanup_mode=None)
    if "--stop" in sys.argv:
        server.cleanup_mode = "stop"
        server.cleanup()
        return
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}';")  # noqa: S608 - constant
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE};")
    print(f"postgres://postgres@{quote(str(DATA_DIR), safe='')}/{DATABASE}")


if __name__ == "__main__":
    main()
