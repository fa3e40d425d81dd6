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
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from jobs import services
from jobs.runtime.settings import SERVICES_HOME, service_settings
from jobs.runtime.waiting import wait_until
from jobs.services.base import fetch_once, free_port, run_tool
from jobs.services.kafka import create_topic
from jobs.serving.keys import KeyStore

WRK_PACKAGES = Path(__file__).with_name("wrk-packages.txt")
WRK_HOME = SERVICES_HOME / "wrk"
MERCHANT = "m-bench"

# wrk's own Lua: the same POST for every request; done() prints the figures as one JSON line.
WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_KEY")
local file = io.open(os.getenv("BENCH_BODY"), "rb")
wrk.body = file:read("*a")
file:close()

done = function(summary, latency, requests)
  local statuses = 0
  for _, count in pairs(summary.errors) do statuses = statuses + count end
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "non_2xx": %d, "errors": %d, "p50_ms": %.2f, "p90_ms": %.2f, ' ..
    '"p99_ms": %.2f, "max_ms": %.2f}\\n',
    summary.requests, summary.duration / 1e6, summary.errors.status, summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
"""


def fetch_wrk() -> Path:
    """wrk and libluajit from Debian's packages, unpacked under .services/wrk; the wrk binary."""

    def download() -> None:
        shutil.rmtree(WRK_HOME, ignore_errors=True)
        WRK_HOME.mkdir(parents=True)
        pins = WRK_PACKAGES.read_text().split()
        run_tool(["apt-get", "download", "--quiet", *pins], "downloading wrk with apt-get", cwd=WRK_HOME)
        for package in WRK_HOME.glob("*.deb"):
            run_tool(["dpkg-deb", "-x", str(package), str(WRK_HOME / "root")], f"unpacking {package.name}")

    fetch_once(WRK_HOME / ".fetched", [WRK_PACKAGES], download)
    return WRK_HOME / "root" / "usr" / "bin" / "wrk"


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


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its waited-for children so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def run_one(source: str, wrk: Path, args: argparse.Namespace, work: Path, broker_pid: int | None) -> dict:
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
        (work / "post.lua").write_text(WRK_SCRIPT)
        server_cpu, broker_cpu = cpu_seconds(server.pid), cpu_seconds(broker_pid) if broker_pid else 0.0
        started = time.monotonic()
        result = subprocess.run(
            [
                "taskset",
                "-c",
                "1",
                str(wrk),
                "-t",
                "1",
                "-c",
                str(args.connections),
                "-d",
                f"{args.duration}s",
                "--timeout",
                "10s",
                "-s",
                str(work / "post.lua"),
                f"{url}/v1/events",
            ],
            env=os.environ
            | {
                "BENCH_KEY": key,
                "BENCH_BODY": str(work / "body.json"),
                "LD_LIBRARY_PATH": str(WRK_HOME / "root" / "usr" / "lib" / "x86_64-linux-gnu"),
            },
            capture_output=True,
            text=True,
            check=True,
        )
        elapsed = time.monotonic() - started
        figures = json.loads(result.stdout.strip().splitlines()[-1])
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
    wrk = fetch_wrk()
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
                figures = run_one(source, wrk, args, work, broker_pid)
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
