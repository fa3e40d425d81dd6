"""Ingestion API benchmark: wrk (Debian's package) posts batches of 100 events to `lakehouse serve ingest` on
loopback, server and load generator pinned to different cores, once per stream (the files stream, then a local
Kafka broker). Prints events/s, latency percentiles and the CPU each process used. A script that prints figures,
not a test.

    make bench-ingest
    .venv/bin/python scripts/bench_ingest.py --duration 20 --connections 8 --streams files

wrk and the LuaJIT library it needs are downloaded with `apt-get download` into .services/wrk and unpacked there,
not installed. The per-merchant rate limit is lifted for the run (one merchant sends all of the load).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from jobs import services
from jobs.runtime.settings import service_settings
from jobs.runtime.waiting import wait_until
from jobs.services.base import free_port
from jobs.services.kafka import create_topic
from jobs.serving.keys import KeyStore
from wrk import REPORT, cpu_seconds, fetch_wrk, run_wrk

MERCHANT = "m-bench"

# wrk's own Lua: the same POST for every request.
WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_KEY")
local file = io.open(os.getenv("BENCH_BODY"), "rb")
wrk.body = file:read("*a")
file:close()
"""


def body_of(events: int) -> bytes:
    occurred = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    return (
        "["
        + ",".join(
            json.dumps(
                {
                    "event_id": f"bench-{number}",
                    "event_type": "order",
                    "merchant_id": MERCHANT,
                    "occurred_at": occurred,
                    "schema_version": 1,
                    "session_id": f"s-{number % 7}",
                    "order_id": f"o-{number}",
                    "currency": "EUR",
                    "amount_minor": 1999,
                    "items": [{"sku": "sku-1", "name": "Mug", "quantity": 1, "price_minor": 1999}],
                }
            )
            for number in range(events)
        )
        + "]"
    ).encode()


def run_one(source: str, args: argparse.Namespace, work: Path, broker_pid: int | None) -> dict:
    keys = KeyStore(work / "keys.sqlite")
    _, key = keys.create(MERCHANT, "ingest")
    port = free_port()
    env = os.environ | {
        "LAKEHOUSE_KEYS": str(keys.path),
        "LAKEHOUSE_SOURCE": source,
        "LAKEHOUSE_INGEST_RATE": "1000000000",
    }
    with open(work / "serve.log", "wb") as log:
        server = subprocess.Popen(
            ["taskset", "-c", "0", sys.executable, "-m", "jobs.cli", "serve", "ingest", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:

        def ready() -> bool:
            try:
                return requests.get(f"{url}/readyz", timeout=1).status_code == 200
            except requests.ConnectionError:
                return False

        if not wait_until(ready, timeout=30):
            raise SystemExit(f"the API did not become ready: {(work / 'serve.log').read_text()[-500:]}")
        (work / "body.json").write_bytes(body_of(args.batch))
        (work / "post.lua").write_text(WRK_SCRIPT + REPORT)
        server_cpu, broker_cpu = cpu_seconds(server.pid), cpu_seconds(broker_pid) if broker_pid else 0.0
        started = time.monotonic()
        env = {"BENCH_KEY": key, "BENCH_BODY": str(work / "body.json")}
        figures = run_wrk(f"{url}/v1/events", work / "post.lua", args.connections, args.duration, env)
        elapsed = time.monotonic() - started
        figures["server_cpu_s"] = cpu_seconds(server.pid) - server_cpu
        figures["broker_cpu_s"] = (cpu_seconds(broker_pid) - broker_cpu) if broker_pid else None
        figures["wall_s"] = elapsed
        metrics = requests.get(f"{url}/metrics", timeout=5).text
        accepted = next(
            float(line.split()[1]) for line in metrics.splitlines() if line.startswith("ingest_events_accepted_total")
        )
        figures["events_accepted"] = int(accepted)
        return figures
    finally:
        server.terminate()
        server.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--duration", type=int, default=20, help="seconds of load per stream (default 20)")
    parser.add_argument("--connections", type=int, default=16, help="wrk's open connections (default 16)")
    parser.add_argument("--batch", type=int, default=100, help="events per request (default 100)")
    parser.add_argument("--streams", default="files,kafka", help="files and/or kafka (default both)")
    args = parser.parse_args()
    fetch_wrk()
    print(
        f"wrk: {args.connections} connections, {args.batch} events a request, {args.duration} s per stream; "
        "the API pinned to core 0, wrk to core 1 (the broker unpinned)",
        flush=True,
    )
    for stream in args.streams.split(","):
        with tempfile.TemporaryDirectory(prefix="bench-ingest-") as folder:
            work = Path(folder)
            broker_pid, started_broker = None, False
            if stream == "files":
                (work / "landing").mkdir()
                source = f"files:{work / 'landing'}"
            else:
                settings = service_settings()
                [state] = services.up(["kafka"], settings=settings, quiet=True)
                started_broker = state.started
                [kafka] = services.select(["kafka"], settings)
                create_topic("bench-ingest", 4, servers=kafka.address)
                source = f"kafka:{kafka.address}/bench-ingest"
                broker_pid = int(kafka.pid_file.read_text().split()[0]) if kafka.pid_file.is_file() else None
            try:
                figures = run_one(source, args, work, broker_pid)
            finally:
                if started_broker:  # stop a broker this run started, not one a developer had up
                    services.down(["kafka"], settings=settings, quiet=True)
        requests_per_second = figures["requests"] / figures["seconds"]
        print(
            f"{stream}: {requests_per_second * args.batch:,.0f} events/s ({requests_per_second:,.0f} requests/s, "
            f"{figures['non_2xx']} not 2xx, {figures['errors']} errors); latency p50 {figures['p50_ms']:.1f} ms, "
            f"p90 {figures['p90_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms, max {figures['max_ms']:.1f} ms; "
            f"CPU: API {figures['server_cpu_s'] / figures['wall_s']:.0%} of a core"
            + (f", broker {figures['broker_cpu_s'] / figures['wall_s']:.0%}" if figures["broker_cpu_s"] else "")
            + f"; {figures['events_accepted']:,} events acknowledged",
            flush=True,
        )


if __name__ == "__main__":
    main()
