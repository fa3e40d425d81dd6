"""`lakehouse serve ingest`: the ingestion API on uvicorn, writing to the stream LAKEHOUSE_SOURCE names.

    lakehouse keys create --merchant m-00042 --scope ingest
    lakehouse serve ingest --port 8080
    curl -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \\
         --data '[{"event_id": "e-1", "merchant_id": "m-00042", ...}]' http://127.0.0.1:8080/v1/events

SIGTERM or Ctrl-C stops it cleanly: no new connection is taken, every request in flight is answered, and the
stream's producer is flushed before the process ends.
"""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path

from jobs.runtime.arguments import JobArgumentParser, positive_int
from jobs.runtime.settings import UsageError, serving_settings_from
from jobs.runtime.streams import FileSource, parse_source

GRACEFUL_STOP_SECONDS = 20
MAX_CONNECTIONS = 1000


def main(argv: list[str] | None = None) -> int:
    parser = JobArgumentParser(prog="lakehouse serve", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("service", choices=["ingest"], help="what to serve")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=positive_int, default=8080, help="port to listen on (default 8080)")
    parser.add_argument("--source", help="the stream to write to (default LAKEHOUSE_SOURCE, else files:./landing)")
    parser.add_argument("--keys", help="the key store (default LAKEHOUSE_KEYS, else ./keys.sqlite)")
    args = parser.parse_args(argv)
    try:
        settings = serving_settings_from(args)
        source = parse_source(settings.source)
        if isinstance(source, FileSource):
            Path(source.directory).mkdir(parents=True, exist_ok=True)
    except (UsageError, OSError) as error:
        print(f"lakehouse serve: error: {error}", file=sys.stderr)
        return 2
    # Imported here: `lakehouse keys` and `--help` need none of the server.
    import uvicorn

    from jobs.serving.ingest import ingest_app
    from jobs.serving.keys import KeyStore
    from jobs.serving.streams import open_stream

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    app = ingest_app(KeyStore(settings.keys), open_stream(settings.source), settings.ingest_rate)
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        access_log=False,  # the app logs each request itself, without its key
        log_level="warning",
        timeout_graceful_shutdown=GRACEFUL_STOP_SECONDS,
        limit_concurrency=MAX_CONNECTIONS,  # beyond it uvicorn answers 503 instead of queueing without bound
    )
    print(f"lakehouse serve ingest: http://{args.host}:{args.port} -> {settings.source}", flush=True)
    server = uvicorn.Server(config)
    stop_signals: list[int] = []
    for stop in (signal.SIGTERM, signal.SIGINT):
        # uvicorn stops gracefully on these, then raises the signal again for the handler it found: this one, so the
        # process ends here with status 0 and its last line rather than being killed by its own signal.
        signal.signal(stop, lambda number, _frame: stop_signals.append(number))
    server.run()
    if not server.started:
        print(f"lakehouse serve: failed: could not listen on {args.host}:{args.port}", file=sys.stderr)
        return 1
    print("lakehouse serve ingest: stopped, every request answered and the stream flushed", flush=True)
    return 0
