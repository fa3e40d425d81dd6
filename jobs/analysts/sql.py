"""`lakehouse sql "<query>"`: one Trino SQL query over the lakehouse catalog, printed as a table or CSV.

Also the one way the project's Python (trino-register, the notebooks, the tests, the benchmark) talks to Trino:
`connect(settings)` and `frame(connection, sql)`, with Trino's errors turned into one-line QueryFailed errors.
"""

from __future__ import annotations

import sys
import time
import urllib.parse
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import pandas as pd
import requests
import trino
from trino.auth import BasicAuthentication
from trino.exceptions import TrinoConnectionError, TrinoQueryError

from jobs.runtime.arguments import JobArgumentParser, positive_int
from jobs.runtime.commands import command_parser
from jobs.runtime.exits import first_line, run_entry
from jobs.runtime.settings import Settings, UsageError, settings_from

CATALOG = "lakehouse"


class QueryFailed(RuntimeError):
    """Trino refused or failed a query, or could not be reached: one line, exit status 1."""


def connect(settings: Settings, schema: str | None = None) -> trino.dbapi.Connection:
    """A DB-API connection to the `lakehouse` catalog of the Trino at LAKEHOUSE_TRINO_URL, logged in as
    LAKEHOUSE_TRINO_USER, its certificate verified against LAKEHOUSE_TRINO_CA_FILE if set."""
    url = urllib.parse.urlsplit(settings.trino_url)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise UsageError(f"LAKEHOUSE_TRINO_URL must be http(s)://host:port, got {settings.trino_url!r}")
    login = settings.trino_login
    if not login:
        raise UsageError(
            "no Trino login: set LAKEHOUSE_TRINO_USER and LAKEHOUSE_TRINO_PASSWORD or _PASSWORD_FILE "
            '(the local Trino\'s: eval "$(lakehouse services env trino)")'
        )
    if url.scheme != "https":  # Trino takes a password over HTTPS only, as it should
        raise UsageError(f"LAKEHOUSE_TRINO_URL must be https:// to log in, got {settings.trino_url!r}")
    return trino.dbapi.connect(
        host=url.hostname,
        port=url.port or 443,
        http_scheme=url.scheme,
        user=login.user,
        auth=BasicAuthentication(login.user, login.password.reveal()),
        http_session=https_session(settings.trino_ca_file),
        catalog=CATALOG,
        schema=schema,
        source="merchant-insights",
    )


def https_session(ca_file: str) -> requests.Session:
    """HTTP for a Trino client, verifying the server's certificate against `ca_file` (the system's CAs when empty).
    requests lets REQUESTS_CA_BUNDLE override a session's own `verify` (psf/requests#3829), so a session with a CA
    file of its own does not read the environment."""
    session = requests.Session()
    if ca_file:
        session.verify = ca_file
        session.trust_env = False
    return session


@contextmanager
def trino_errors(connection: trino.dbapi.Connection) -> Iterator[None]:
    """Trino's errors as QueryFailed: its own message for a refused or failed query, one line for a server down."""
    where = f"{connection.host}:{connection.port}"
    try:
        yield
    except TrinoQueryError as error:
        raise QueryFailed(f"{error.error_name}: {error.message}") from None
    except (TrinoConnectionError, requests.exceptions.ConnectionError) as error:
        # The client wraps what requests raised; a failed TLS handshake is not a server that is down.
        cause = error if isinstance(error, requests.exceptions.SSLError) else error.__context__
        if isinstance(cause, requests.exceptions.SSLError):
            raise QueryFailed(
                f"no TLS answer from Trino at {where}: {first_line(cause)[-160:]} (is it Trino? is "
                "LAKEHOUSE_TRINO_CA_FILE the CA that signed its certificate?)"
            ) from None
        raise QueryFailed(f"Trino is not reachable at {where} (start it with `lakehouse services up trino`)") from None
    except trino.exceptions.HttpError as error:  # e.g. another server on that port; its body may be a page of HTML
        status = str(error).split(":", 1)[0]
        if status == "error 401":
            raise QueryFailed(f"Trino at {where} refused the login of user {connection.user!r}") from None
        raise QueryFailed(f"no answer from Trino at {where}: HTTP {status} (is it Trino?)") from None
    except trino.exceptions.Error as error:
        raise QueryFailed(f"no answer from Trino at {where}: {first_line(error)}") from None


def execute(connection: trino.dbapi.Connection, sql: str, params: Sequence[object] = ()) -> trino.dbapi.Cursor:
    """Run `sql` with its `?` parameters; the cursor is ready to fetch."""
    cursor = connection.cursor()
    with trino_errors(connection):
        cursor.execute(sql, list(params) or None)
    return cursor


def frame(
    connection: trino.dbapi.Connection, sql: str, params: Sequence[object] = (), limit: int | None = None
) -> pd.DataFrame:
    """The query's rows as a DataFrame (the first `limit` rows when given; the rest are not fetched)."""
    cursor = execute(connection, sql, params)
    # A query can also fail after its first rows, e.g. on a division by zero further down.
    with trino_errors(connection):
        rows = cursor.fetchall() if limit is None else cursor.fetchmany(limit)
        if limit is not None:
            cursor.cancel()
    return pd.DataFrame(rows, columns=[column[0] for column in cursor.description or []])


def build_parser() -> JobArgumentParser:
    parser = command_parser("sql", __doc__)
    parser.add_argument("query", help="Trino SQL; tables are <schema>.<table>, e.g. gold.merchant_daily")
    parser.add_argument("--format", choices=["table", "csv"], default="table", help="output (default table)")
    parser.add_argument("--limit", type=positive_int, default=1000, help="print at most this many rows (default 1000)")
    parser.add_argument("--trino-url", help="default LAKEHOUSE_TRINO_URL, else https://127.0.0.1:18081")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def work() -> None:
        limit = args.limit
        settings = settings_from(args)
        started = time.monotonic()
        with connect(settings) as connection:
            rows = frame(connection, args.query, limit=limit + 1)
        shown = rows.head(limit)
        if args.format == "csv":
            shown.to_csv(sys.stdout, index=False)
        elif len(shown.columns):
            print(shown.to_string(index=False, na_rep="NULL", max_colwidth=60))
        more = f", more not shown (--limit {limit})" if len(rows) > limit else ""
        print(f"({len(shown):,} rows{more}, {time.monotonic() - started:.2f} s)", file=sys.stderr)

    return run_entry("lakehouse sql", work)


if __name__ == "__main__":
    sys.exit(main())
