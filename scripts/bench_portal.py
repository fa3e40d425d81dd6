"""Portal benchmark: p50/p99 latency of the busiest merchant's 30-day hourly series (720 points) at 50 concurrent
clients, wrk (Debian's package) against `lakehouse serve portal` over a local InfluxDB, the portal pinned to core 0
and wrk to core 1 (InfluxDB unpinned). A script that prints figures, not a test.

Two runs: every client asking the same series (what open dashboards do; the portal's answer cache serves all but
one request in CACHE_SECONDS), then every request a different window (its end moved by a second each time), so
that each one is a query to InfluxDB: the cold path.

    make bench-portal
    .venv/bin/python scripts/bench_portal.py --merchants 200 --connections 50 --duration 20

The bench data: 30 days of gold.merchant_hourly points for --merchants merchants, in the shape `lakehouse publish`
writes them (jobs/storage/published.py's measurement), the busiest merchant with all 720 hours and the others with
a random share of them. Written straight to InfluxDB: publishing 30 days of gold through Spark first would take this
machine most of an hour and measure nothing more about the portal.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

from jobs import services
from jobs.runtime.settings import service_settings
from jobs.runtime.waiting import wait_until
from jobs.services import influxdb
from jobs.services.base import free_port
from jobs.services.influxdb import InfluxService
from jobs.serving.keys import KeyStore
from jobs.sinks.influx import client
from jobs.storage.published import MEASUREMENTS
from wrk import REPORT, cpu_seconds, fetch_wrk, run_wrk

DATABASE = "bench_portal"
DAYS = 30
BUSIEST = "m-busiest"
END = datetime(2026, 11, 1, tzinfo=UTC)

WRK_SCRIPT = """
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_KEY")
"""
# Each request's window ends one second later than the last one's (an hour of distinct windows): no two alike.
DISTINCT_REQUESTS = """
local counter = 0
request = function()
  counter = counter + 1
  local second = counter % 3600
  return wrk.format(nil, string.format(os.getenv("BENCH_PATH"), math.floor(second / 60), second % 60))
end
"""


def hourly_lines(merchants: int, seed: int = 7) -> list[str]:
    """Line-protocol points of merchant_hourly: the busiest merchant every hour, the others a random share."""
    measurement = MEASUREMENTS["gold.merchant_hourly"]
    rng = random.Random(seed)
    start = END - timedelta(days=DAYS)
    lines = []
    for number in range(merchants):
        merchant = BUSIEST if number == 0 else f"m-{number:05d}"
        share = 1.0 if number == 0 else rng.uniform(0.05, 0.9)
        for hour in range(DAYS * 24):
            if rng.random() > share:
                continue
            events = rng.randint(50, 5000)
            values = {name: rng.randint(0, events) for name in measurement.integer_fields} | {"events": events}
            fields = ",".join(f"{name}={value}i" for name, value in sorted(values.items()))
            second = int((start + timedelta(hours=hour)).timestamp())
            lines.append(f"{measurement.name},merchant_id={merchant} {fields},conversion_rate=0.031 {second}")
    return lines


def load_data(influx: InfluxService, merchants: int) -> int:
    influx.create_database(DATABASE)
    writer = client(influx.url, influx.login(influxdb.PIPELINE))
    lines = hourly_lines(merchants)
    for first in range(0, len(lines), 10_000):
        writer.write_points(lines[first : first + 10_000], database=DATABASE, protocol="line", time_precision="s")
    return len(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--merchants", type=int, default=200, help="merchants in the bench data (default 200)")
    parser.add_argument("--connections", type=int, default=50, help="concurrent clients (default 50)")
    parser.add_argument("--duration", type=int, default=20, help="seconds of load (default 20)")
    args = parser.parse_args()
    fetch_wrk()
    settings = service_settings()
    [state] = services.up(["influxdb"], settings=settings, quiet=True)
    [influx] = services.select(["influxdb"], settings)
    assert isinstance(influx, InfluxService)
    try:
        started = time.monotonic()
        points = load_data(influx, args.merchants)
        print(
            f"bench data: {points:,} hourly points of {args.merchants} merchants over {DAYS} days, written in "
            f"{time.monotonic() - started:.1f} s",
            flush=True,
        )
        with tempfile.TemporaryDirectory(prefix="bench-portal-") as folder:
            measure(influx, Path(folder), args)
    finally:
        if state.started:  # stop a server this run started, not one a developer had up
            services.down(["influxdb"], settings=settings, quiet=True)


def report(label: str, figures: dict) -> None:
    print(
        f"{label}: {figures['requests'] / figures['seconds']:,.0f} requests/s "
        f"({figures['non_2xx']} not 2xx, {figures['errors']} errors); latency p50 {figures['p50_ms']:.1f} ms, "
        f"p90 {figures['p90_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms, max {figures['max_ms']:.1f} ms; "
        f"CPU: portal {figures['portal_cpu']:.0%} of a core, InfluxDB {figures['influx_cpu']:.0%}",
        flush=True,
    )


def measure(influx: InfluxService, work: Path, args: argparse.Namespace) -> None:
    keys = KeyStore(work / "keys.sqlite")
    _, key = keys.create(BUSIEST, "read")
    port = free_port()
    env = os.environ | {
        "LAKEHOUSE_KEYS": str(keys.path),
        "LAKEHOUSE_INFLUXDB_URL": influx.url,
        "LAKEHOUSE_INFLUXDB_DATABASE": DATABASE,
        "LAKEHOUSE_INFLUXDB_USER": influxdb.READER,
        "LAKEHOUSE_INFLUXDB_PASSWORD_FILE": str(influx.password_file(influxdb.READER)),
    }
    with open(work / "portal.log", "wb") as log:
        portal = subprocess.Popen(
            ["taskset", "-c", "0", sys.executable, "-m", "jobs.cli", "serve", "portal", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    start = END - timedelta(days=DAYS)
    window = f"/v1/metrics/hourly?from={start:%Y-%m-%dT%H:%M:%SZ}&to="
    series = f"{url}{window}{END:%Y-%m-%dT%H:%M:%SZ}"
    try:

        def alive() -> bool:
            try:
                return requests.get(f"{url}/healthz", timeout=1).status_code == 200
            except requests.ConnectionError:
                return False

        if not wait_until(alive, timeout=30):
            raise SystemExit(f"the portal did not start: {(work / 'portal.log').read_text()[-500:]}")
        answer = requests.get(series, headers={"Authorization": f"Bearer {key}"}, timeout=10)
        assert answer.status_code == 200 and len(answer.json()["points"]) == DAYS * 24, answer.text[:300]
        (work / "same.lua").write_text(WRK_SCRIPT + REPORT)
        (work / "distinct.lua").write_text(WRK_SCRIPT + DISTINCT_REQUESTS + REPORT)
        influx_pid = int(influx.pid_file.read_text().split()[0])
        print(
            f"{DAYS}-day hourly series of {BUSIEST} ({DAYS * 24} points), {args.connections} clients, "
            f"{args.duration} s each:",
            flush=True,
        )
        runs = [("  the same series (cached)", "same.lua"), ("  a new window each (cold)", "distinct.lua")]
        for label, script in runs:
            portal_cpu, influx_cpu, started = cpu_seconds(portal.pid), cpu_seconds(influx_pid), time.monotonic()
            env = {"BENCH_KEY": key, "BENCH_PATH": window + END.strftime("%Y-%m-%dT00:%%02d:%%02dZ")}
            figures = run_wrk(series, work / script, args.connections, args.duration, env)
            wall = time.monotonic() - started
            figures["portal_cpu"] = (cpu_seconds(portal.pid) - portal_cpu) / wall
            figures["influx_cpu"] = (cpu_seconds(influx_pid) - influx_cpu) / wall
            report(label, figures)
    finally:
        portal.terminate()
        portal.wait(timeout=60)


if __name__ == "__main__":
    main()
