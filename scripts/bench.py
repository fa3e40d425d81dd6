"""Benchmark: generate N events, run bronze -> silver -> gold -> publish on a fresh warehouse, print events/s,
points/s published into the local InfluxDB and documents/s into the local OpenSearch (each started if it is not
up), the rate of a one-day backfill of the same data, and peak memory.

    make bench                      (2,000,000 events)
    .venv/bin/python scripts/bench.py --events 500000

A script that prints measured figures, not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from jobs import backfill, bronze, gold, publish, quality, services, silver
from jobs.generate import write_hour_files
from jobs.services import influxdb, opensearch
from jobs.settings import settings_from
from jobs.sinks import influx, search
from jobs.sources import FileSource
from jobs.spark import build_session
from jobs.synthetic import EventGenerator, GeneratorConfig


def jvm_peak_rss_mib(spark) -> float:
    pid = spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--hours", type=int, default=24)
    parser.add_argument("--dir", default="bench")
    args = parser.parse_args()

    root = Path(args.dir).resolve()
    landing = root / f"landing-{args.events}"
    if not landing.is_dir():
        started = time.monotonic()
        config = GeneratorConfig(events=args.events, hours=args.hours)
        write_hour_files(landing, config, EventGenerator(config).records_by_arrival_hour())
        print(f"generated {args.events:,} events in {time.monotonic() - started:.1f} s")
    shutil.rmtree(root / "warehouse", ignore_errors=True)
    shutil.rmtree(root / "checkpoints", ignore_errors=True)

    namespace = argparse.Namespace(
        warehouse=str(root / "warehouse"), checkpoints=str(root / "checkpoints"), source=None, master=None
    )
    settings = settings_from(namespace)
    spark = build_session(replace(settings), "bench")
    records = sum(1 for path in landing.glob("*.jsonl") for _ in path.open("rb"))
    print(
        f"{records:,} records in {landing}; Spark master {settings.master}, "
        f"{settings.shuffle_partitions} shuffle partitions, driver memory {settings.driver_memory}"
    )

    started = time.monotonic()
    stages = [
        ("bronze", lambda: bronze.run(spark, settings, FileSource(str(landing)))),
        ("silver", lambda: silver.run(spark, settings)),
        ("gold", lambda: gold.run(spark, settings)),
    ]
    stage_seconds = {}
    for name, stage in stages:
        report = stage()
        stage_seconds[name] = report.seconds
        print(f"{name:<7}{report.seconds:7.1f} s  {records / report.seconds:>10,.0f} records/s   ({report.line()})")
    total = time.monotonic() - started
    services.up(["influxdb", "opensearch"], quiet=True)
    sinks = replace(
        settings,
        influxdb_url=influxdb.url(),
        influxdb_database="bench",
        opensearch_url=opensearch.url(),
        opensearch_prefix="bench",
    )
    influx.client(sinks.influxdb_url).drop_database("bench")
    search.client(sinks.opensearch_url).indices.delete(index="bench-*")
    # One sink at a time, so that each figure is that sink's alone.
    for sink, unit, store in (("influxdb", "points", "InfluxDB"), ("opensearch", "documents", "OpenSearch")):
        report = publish.run(spark, replace(sinks, sinks=(sink,)))
        rate = report.rows_out / report.seconds
        print(f"publish{report.seconds:7.1f} s  {rate:>10,.0f} {unit}/s into {store}  ({report.line()})")
    validations = quality.day_results(settings, datetime.now(UTC).date().isoformat())
    for name in ("silver", "gold"):
        gates = sum(result["seconds"] for result in validations if result["table"].startswith(name))
        share = gates / stage_seconds[name]
        print(f"quality gates in {name}: {gates:.1f} s of its {stage_seconds[name]:.1f} s ({share:.0%})")
    print(f"overall {total:7.1f} s  {records / total:>10,.0f} records/s bronze -> gold (Spark start excluded)")
    # Bronze stamped every record with today's date: a one-day backfill rebuilds all of it from bronze.
    today = datetime.now(UTC).date()
    report = backfill.backfill(spark, settings, today, today, ["silver", "gold"])
    incremental = stage_seconds["silver"] + stage_seconds["gold"]
    print(
        f"backfill {report.seconds:6.1f} s  {report.rows_in / report.seconds:>10,.0f} records/s silver + gold of "
        f"{today} from bronze; incremental silver + gold: {records / incremental:,.0f} records/s"
    )
    python_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: Spark JVM {jvm_peak_rss_mib(spark):,.0f} MiB, Python driver {python_peak:,.0f} MiB")
    spark.stop()


if __name__ == "__main__":
    main()
