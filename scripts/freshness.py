"""Freshness benchmark: produce at a steady rate into Kafka while `lakehouse run` runs continuously, and measure how
long each event takes from its send to its visibility in gold.merchant_hourly.

    make freshness                                   (11,600 events/s for 300 s)
    .venv/bin/python scripts/freshness.py --rate 2000 --duration 60

Once a second a probe event of its own merchant (`probe-<n>`) is sent with the load; a probe is visible when a
committed version of gold.merchant_hourly first holds its merchant. Visibility is read from the table's Delta log and
its data files (with pyarrow), so measuring takes nothing from Spark. A script that prints figures, not a test.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq

from jobs import services
from jobs.devtools.chaos import pipeline_command
from jobs.devtools.produce import KafkaSink, generated_records, paced
from jobs.runtime.settings import settings_from
from jobs.runtime.waiting import wait_until
from jobs.services import kafka
from jobs.sources import KafkaSource

TOPIC = "freshness"


def probe(number: int) -> bytes:
    now = datetime.now(UTC)
    event = {
        "event_id": f"probe-{number}-{now.timestamp()}",
        "event_type": "page_view",
        "merchant_id": f"probe-{number:05d}",
        "occurred_at": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "schema_version": 1,
        "session_id": f"probe-{number}",
    }
    return json.dumps(event).encode()


class GoldWatcher(threading.Thread):
    """Follows gold.merchant_hourly's Delta log and notes when each probe merchant first appears."""

    def __init__(self, table: Path):
        super().__init__(daemon=True)
        self.table = table
        self.seen: dict[str, float] = {}
        self.next_version = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            commit = self.table / "_delta_log" / f"{self.next_version:020d}.json"
            if not commit.exists():
                time.sleep(0.2)
                continue
            actions = [json.loads(line) for line in commit.read_text().splitlines()]
            # Visible from the commit's own time (the log records it), however late this watcher looks.
            visible_at = next(a["commitInfo"]["timestamp"] / 1000 for a in actions if "commitInfo" in a)
            for action in actions:
                if "add" in action:
                    path = self.table / action["add"]["path"]
                    for merchant in pq.read_table(path, columns=["merchant_id"]).column(0).to_pylist():
                        if merchant.startswith("probe-"):
                            self.seen.setdefault(merchant, visible_at)
            self.next_version += 1


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=11_600, help="events per second (default 11600)")
    parser.add_argument("--duration", type=int, default=300, help="seconds of load (default 300)")
    parser.add_argument("--trigger", default="5 seconds", help="micro-batch interval (default '5 seconds')")
    parser.add_argument("--dir", default="bench/freshness")
    args = parser.parse_args()

    root = Path(args.dir).resolve()
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    locations = {"warehouse": str(root / "warehouse"), "checkpoints": str(root / "checkpoints")}
    settings = settings_from(argparse.Namespace(**locations, source=None, master=None))
    services.up(["kafka"], fresh=True)
    bootstrap = kafka.bootstrap_servers()
    kafka.create_topic(TOPIC, partitions=4)
    source = f"kafka:{bootstrap}/{TOPIC}"

    print(f"generating {args.rate * args.duration:,} events ...", flush=True)
    start_hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    load = generated_records(args.rate * args.duration, seed=5, merchants=100_000, start=start_hour)

    log = (root / "pipeline.log").open("w")
    pipeline = subprocess.Popen(pipeline_command(source, settings, args.trigger), stdout=log, stderr=log)
    watcher = GoldWatcher(Path(settings.table_path("gold.merchant_hourly")))
    watcher.start()
    time.sleep(20)  # Spark's start, so the load does not queue behind it

    sink = KafkaSink(KafkaSource(bootstrap, TOPIC))
    sent_at: dict[str, float] = {}
    started = time.monotonic()
    next_probe = started
    for records in paced(load, args.rate):
        sink.send(records)
        if time.monotonic() >= next_probe:
            number = len(sent_at)
            sink.send([probe(number)])
            sent_at[f"probe-{number:05d}"] = time.time()
            next_probe += 1.0
    sink.close()
    sending = time.monotonic() - started
    print(f"sent {len(load):,} events and {len(sent_at)} probes in {sending:.0f} s ({len(load) / sending:,.0f}/s)")

    wait_until(lambda: len(watcher.seen) >= len(sent_at) or pipeline.poll() is not None, 600, 1.0)
    drained = time.monotonic() - started
    pipeline.terminate()
    pipeline.wait(60)
    watcher.stopping.set()

    delays = [watcher.seen[name] - sent for name, sent in sent_at.items() if name in watcher.seen]
    missing = len(sent_at) - len(delays)
    # Each micro-batch takes every partition up to its end, so when the last probe shows, the load sent before it has.
    print(f"last probe in gold after {drained:.0f} s: sustained {len(load) / drained:,.0f} events/s end to end")
    if delays:
        print(
            f"send -> visible in gold.merchant_hourly over {len(delays)} probes: "
            f"p50 {percentile(delays, 0.50):.1f} s  p95 {percentile(delays, 0.95):.1f} s  "
            f"p99 {percentile(delays, 0.99):.1f} s  max {max(delays):.1f} s  mean {statistics.mean(delays):.1f} s"
        )
    if missing:
        print(f"{missing} probes not visible within the wait (see {root / 'pipeline.log'})")
        sys.exit(1)


if __name__ == "__main__":
    main()
