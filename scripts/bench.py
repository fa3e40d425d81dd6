"""Benchmark: generate N events, run bronze -> silver -> gold -> publish on a fresh warehouse, print events/s,
points/s published into the local InfluxDB and documents/s into the local OpenSearch (each started if it is not
up), the rate of a one-day backfill of the same data, peak memory, and the latency in Trino of one merchant's 30 days
of hourly rows.

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
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pyspark.sql import functions as F

from jobs import backfill, bronze, gold, publish, services, silver
from jobs.analysts import sql, trino_register
from jobs.devtools.generate import write_hour_files
from jobs.devtools.synthetic import EventGenerator, GeneratorConfig
from jobs.quality.gate import day_results
from jobs.runtime.session import build_session, jvm_peak_rss_mib
from jobs.runtime.settings import service_settings, settings_from
from jobs.services.base import free_port
from jobs.services.influxdb import PIPELINE, InfluxService
from jobs.services.opensearch import OpenSearchService
from jobs.services.trino import PIPELINE as TRINO_PIPELINE
from jobs.services.trino import TrinoService
from jobs.sinks import search
from jobs.sources import FileSource
from jobs.storage.delta import read_table, single_row


def landing_of(root: Path, events: int, hours: int) -> Path:
    """<root>/landing-<events>: generator events over `hours`, written the first time and kept for later runs."""
    landing = root / f"landing-{events}"
    if not landing.is_dir():
        started = time.monotonic()
        config = GeneratorConfig(events=events, hours=hours)
        write_hour_files(landing, config, EventGenerator(config).records_by_arrival_hour())
        print(f"generated {events:,} events in {time.monotonic() - started:.1f} s")
    return landing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--hours", type=int, default=24)
    parser.add_argument("--dir", default="bench")
    args = parser.parse_args()

    root = Path(args.dir).resolve()
    landing = landing_of(root, args.events, args.hours)
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
    influxdb = InfluxService.configured()
    sinks = replace(
        settings,
        influxdb_url=influxdb.url,
        influxdb_login=influxdb.login(PIPELINE),
        influxdb_database="bench",
        opensearch_url=OpenSearchService.configured().url,
        opensearch_prefix="bench",
    )
    influxdb.admin_client().drop_database("bench")
    influxdb.create_database("bench")
    search.client(sinks.opensearch_url).indices.delete(index="bench-*")
    # One sink at a time, so that each figure is that sink's alone.
    for sink, unit, store in (("influxdb", "points", "InfluxDB"), ("opensearch", "documents", "OpenSearch")):
        report = publish.run(spark, replace(sinks, sinks=(sink,)))
        rate = report.rows_out / report.seconds
        print(f"publish{report.seconds:7.1f} s  {rate:>10,.0f} {unit}/s into {store}  ({report.line()})")
    validations = day_results(settings, datetime.now(UTC).date().isoformat())
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
    trino_merchant_query(spark, settings)
    spark.stop()


def trino_merchant_query(spark, settings, days: int = 30, runs: int = 10) -> None:
    """Latency of an analyst's typical query in Trino: one merchant's hourly rows over `days` days.

    The last day of gold.merchant_hourly is copied to the `days - 1` dates before it (written as gold writes: one
    partition per date, sorted by merchant_id), so the table holds `days` such days; the bench is done with it. The
    query runs on a Trino of the bench's own (its run dir under the bench folder, a free port), stopped at the end.
    """
    hourly = read_table(spark, settings, "gold.merchant_hourly")
    last = single_row(hourly.agg(F.max("date")))[0]
    back = F.col("days_back").cast("int")
    copies = (
        hourly.where(F.col("date") == last)
        .crossJoin(spark.range(1, days).withColumnRenamed("id", "days_back"))
        .withColumn("date", F.date_sub("date", back))
        .withColumn("hour_start", F.col("hour_start") - F.make_interval(days=back))
        .drop("days_back")
    )
    started = time.monotonic()
    copies.repartition("date").sortWithinPartitions("merchant_id", "hour_start").write.format("delta").mode(
        "append"
    ).save(settings.table_path("gold.merchant_hourly"))
    print(f"trino   copied {last} of gold.merchant_hourly to {days} days in {time.monotonic() - started:.1f} s")

    own_trino = replace(
        service_settings(),
        run_dir=Path(settings.warehouse).parent / "run",
        port_overrides={"trino": free_port(span=2)},  # HTTPS on the next port
    )
    services.up(["trino"], settings=own_trino, quiet=True)
    try:
        trino = TrinoService.configured(own_trino)
        settings = replace(
            settings,
            trino_url=trino.client_url,
            trino_ca_file=str(trino.ca_file),
            trino_login=trino.login(TRINO_PIPELINE),
        )
        with sql.connect(settings) as connection:
            trino_register.register(connection, settings)
            print_merchant_query_latency(connection, last, days, runs)
    finally:
        services.down(["trino"], settings=own_trino, quiet=True)


def print_merchant_query_latency(connection, last, days: int, runs: int) -> None:
    size = sql.frame(connection, "SELECT count(*) AS n, count(DISTINCT date) AS days FROM gold.merchant_hourly")
    merchant = sql.frame(
        connection,
        "SELECT merchant_id FROM gold.merchant_hourly WHERE date = ? GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
        [last],
    )["merchant_id"][0]
    query = (
        "SELECT hour_start, events, orders, sessions, conversion_rate FROM gold.merchant_hourly "
        "WHERE merchant_id = ? AND date BETWEEN ? AND ? ORDER BY hour_start"
    )
    params = [merchant, last - timedelta(days=days - 1), last]
    seconds = []
    for _ in range(runs + 1):
        started = time.monotonic()
        rows = sql.frame(connection, query, params)
        seconds.append(time.monotonic() - started)
    warm = sorted(seconds[1:])
    print(
        f"trino   one merchant ({merchant}), {days} days of hourly rows: {len(rows)} rows of "
        f"{size['n'][0]:,} ({size['days'][0]} days); first run {seconds[0]:.2f} s, then p50 "
        f"{warm[len(warm) // 2]:.2f} s, max {warm[-1]:.2f} s ({runs} runs)"
    )


if __name__ == "__main__":
    main()
