"""`lakehouse serve ingest|portal`: the ingestion API or the merchant portal on uvicorn.

    lakehouse keys create --merchant m-00042 --scope ingest
    lakehouse serve ingest --port 8080        # writes to the stream LAKEHOUSE_SOURCE names
    curl -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \\
         --data '[{"event_id": "e-1", "merchant_id": "m-00042", ...}]' http://127.0.0.1:8080/v1/events

    lakehouse keys create --merchant m-00042 --scope read
    lakehouse serve portal --port 8081        # reads LAKEHOUSE_INFLUXDB_* and LAKEHOUSE_OPENSEARCH_*
    open http://127.0.0.1:8081/ and sign in with the key

SIGTERM or Ctrl-C stops either cleanly: no new connection is taken, every request in flight is answered, and the
ingestion API's stream producer is flushed before the process ends.
"""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from jobs.runtime.arguments import JobArgumentParser, positive_int
from jobs.runtime.settings import ServingSettings, UsageError, is_local, serving_settings_from
from jobs.runtime.streams import FileSource, parse_source

if TYPE_CHECKING:
    from starlette.applications import Starlette

DEFAULT_PORTS = {"ingest": 8080, "portal": 8081}
GRACEFUL_STOP_SECONDS = 20
MAX_CONNECTIONS = 1000


def main(argv: list[str] | None = None) -> int:
    parser = JobArgumentParser(prog="lakehouse serve", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("service", choices=list(DEFAULT_PORTS), help="what to serve")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=positive_int, help="port to listen on (default 8080 ingest, 8081 portal)")
    parser.add_argument("--source", help="the stream to write to (default LAKEHOUSE_SOURCE, else files:./landing)")
    parser.add_argument("--keys", help="the key store (default LAKEHOUSE_KEYS, else ./keys.sqlite)")
    args = parser.parse_args(argv)
    port = args.port or DEFAULT_PORTS[args.service]
    try:
        settings = serving_settings_from(args)
        app, serving = (build_ingest if args.service == "ingest" else build_portal)(settings)
    except (UsageError, OSError) as error:
        print(f"lakehouse serve: error: {error}", file=sys.stderr)
        return 2
    import uvicorn  # here: `lakehouse keys` and `--help` need none of the server

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    config = uvicorn.Config(
        app,
        host=args.host,
        port=port,
        access_log=False,  # the app logs each request itself, without its key
        log_level="warning",
        timeout_graceful_shutdown=GRACEFUL_STOP_SECONDS,
        limit_concurrency=MAX_CONNECTIONS,  # beyond it uvicorn answers 503 instead of queueing without bound
    )
    print(f"lakehouse serve {args.service}: http://{args.host}:{port} {serving}", flush=True)
    server = uvicorn.Server(config)
    stop_signals: list[int] = []
    for stop in (signal.SIGTERM, signal.SIGINT):
        # uvicorn stops gracefully on these, then raises the signal again for the handler it found: this one, so the
        # process ends here with status 0 and its last line rather than being killed by its own signal.
        signal.signal(stop, lambda number, _frame: stop_signals.append(number))
    server.run()
    if not server.started:
        print(f"lakehouse serve: failed: could not listen on {args.host}:{port}", file=sys.stderr)
        return 1
    print(f"lakehouse serve {args.service}: stopped, every request answered", flush=True)
    return 0


def build_ingest(settings: ServingSettings) -> tuple[Starlette, str]:
    """The ingestion API over the stream the settings name, and what it serves."""
    from jobs.serving.ingest import ingest_app
    from jobs.serving.keys import KeyStore
    from jobs.serving.streams import open_stream

    source = parse_source(settings.source)
    if isinstance(source, FileSource):
        if not is_local(source.directory):
            raise UsageError(f"the ingestion API writes files to a local folder, not {source.directory}")
        Path(source.directory).mkdir(parents=True, exist_ok=True)
    app = ingest_app(KeyStore(settings.keys), open_stream(settings.source), settings.ingest_rate)
    return app, f"-> {settings.source}"


def build_portal(settings: ServingSettings) -> tuple[Starlette, str]:
    """The portal over the stores the settings name, and what it serves."""
    from jobs.serving.keys import KeyStore
    from jobs.serving.portal import CHART_LIBRARY, portal_app
    from jobs.serving.stores import MetricsStore, SearchStore

    if not (CHART_LIBRARY / "chart.umd.min.js").is_file():
        raise UsageError(f"the dashboard's chart library is not in {CHART_LIBRARY}: run `make setup` (npm ci)")
    app = portal_app(
        KeyStore(settings.keys),
        MetricsStore(settings.influxdb_url, settings.influxdb_database, settings.influxdb_login),
        SearchStore(settings.opensearch_url, settings.opensearch_prefix, settings.opensearch_login),
    )
    return app, f"<- {settings.influxdb_url} ({settings.influxdb_database}), {settings.opensearch_url}"
