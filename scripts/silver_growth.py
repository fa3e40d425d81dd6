"""Benchmark: one silver micro-batch of the same events against a silver.events of 2 M rows, then of 20 M rows, with
silver's copy check (the batch's event dates and the dates on either side) and with a check over every event_id (what
silver did before), to show which of the two grows with the table. Prints seconds per batch.

    .venv/bin/python scripts/silver_growth.py                       (a batch of 100,000 events; 2 M, then 20 M rows)
    .venv/bin/python scripts/silver_growth.py --batch 50000 --sizes 1000000,5000000

silver.events is filled with copies of the batch's own events under new ids, a day per copy, on dates before the
batch's (a year of history at 20 M rows); the batch's events are all new to it. Each measured batch is undone
(Delta RESTORE) before the next. A script that prints measured figures, not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import shutil
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs import silver
from jobs.devtools.synthetic import EventGenerator, GeneratorConfig
from jobs.runtime.progress import StageReport
from jobs.runtime.session import build_session
from jobs.runtime.settings import Settings, settings_from
from jobs.storage.delta import ensure_tables, read_table, table_version
from jobs.storage.tables import BRONZE_EVENTS, QUARANTINE, SILVER_EVENTS

EVERY_EVENT_ID = "t.event_id = s.event_id"  # the copy check before 2026-12-05


def bronze_batch(spark: SparkSession, events: int) -> DataFrame:
    """One hour of synthetic records as bronze rows, cached: the batch every measurement processes."""
    config = GeneratorConfig(events=events, hours=1, merchants=20_000, start=datetime(2026, 11, 30, 12, tzinfo=UTC))
    lines = [line for batch in EventGenerator(config).records_by_arrival_hour() for line in batch]
    rows = [(line, "files", f"file:/bench/batch.jsonl:{n}") for n, line in enumerate(lines, start=1)]
    frame = spark.createDataFrame(rows, "payload string, source string, source_position string")
    landed = frame.withColumn("ingested_at", F.lit(datetime(2026, 11, 30, 13, tzinfo=UTC))).withColumn(
        "ingest_date", F.to_date("ingested_at")
    )
    return landed.select(*BRONZE_EVENTS.names).cache()


def grow_silver(spark: SparkSession, settings: Settings, batch: DataFrame, rows: int) -> None:
    """Append copies of the batch's accepted events (new ids, a day further back per copy) until silver.events
    holds `rows` rows."""
    template = silver.first_copies(silver.validated_records(settings, batch)).cache()
    per_copy = template.count()
    have = read_table(spark, settings, SILVER_EVENTS.name).count()
    first, last = have // per_copy + 1, -(-rows // per_copy)
    days = F.col("copy").cast("int") + 2  # never the batch's dates nor those beside them
    copies = (
        template.crossJoin(spark.range(first, last + 1).withColumnRenamed("id", "copy"))
        .withColumn("event_id", F.concat_ws("-", "event_id", F.col("copy").cast("string")))
        .withColumn("occurred_at", F.col("occurred_at") - F.make_interval(days=days))
        .withColumn("event_hour", F.col("event_hour") - F.make_interval(days=days))
        .withColumn("event_date", F.date_sub("event_date", days))
        .select(*SILVER_EVENTS.names)
    )
    copies.write.format("delta").mode("append").partitionBy("event_date").save(settings.table_path(SILVER_EVENTS.name))
    template.unpersist()


@contextmanager
def copy_check(match: str | None):
    """Silver's own copy check (None), or `match` in its place."""
    if match is None:
        yield
        return
    with mock.patch.object(silver, "copy_match", lambda _dates: match):
        yield


def timed_batch(spark: SparkSession, settings: Settings, batch: DataFrame, match: str | None) -> float:
    """Seconds of one silver batch (validation, gate, quarantine and events MERGEs), then undone."""
    versions = {name: table_version(spark, settings, name) for name in (SILVER_EVENTS.name, QUARANTINE.name)}
    started = time.monotonic()
    with copy_check(match):
        silver.process_records(spark, settings, batch, StageReport("silver"), "bench batch")
    seconds = time.monotonic() - started
    for name, version in versions.items():
        DeltaTable.forPath(spark, settings.table_path(name)).restoreToVersion(version)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=100_000, help="events in the measured batch")
    parser.add_argument("--sizes", default="2000000,20000000", help="silver sizes to measure at, rows, ascending")
    parser.add_argument("--dir", default="bench/silver-growth")
    args = parser.parse_args()
    root = Path(args.dir).resolve()
    shutil.rmtree(root, ignore_errors=True)
    namespace = argparse.Namespace(
        warehouse=str(root / "warehouse"), checkpoints=str(root / "checkpoints"), source=None, master=None
    )
    settings = settings_from(namespace)
    spark = build_session(settings, "bench-silver-growth")
    ensure_tables(spark, settings, [SILVER_EVENTS.name, QUARANTINE.name, "ops.batch_health"])
    batch = bronze_batch(spark, args.batch)
    print(f"batch: {batch.count():,} records; Spark master {settings.master}, driver memory {settings.driver_memory}")
    for size in (int(text) for text in args.sizes.split(",")):
        started = time.monotonic()
        grow_silver(spark, settings, batch, size)
        held = read_table(spark, settings, SILVER_EVENTS.name).count()
        print(f"silver.events holds {held:,} rows (grown in {time.monotonic() - started:.0f} s)", flush=True)
        timed_batch(spark, settings, batch, None)  # warm-up: the first batch after a write reads fresh metadata
        for name, match in (("dates of the batch +/- 1", None), ("every event_id", EVERY_EVENT_ID)):
            runs = sorted(timed_batch(spark, settings, batch, match) for _ in range(2))
            print(f"  copy check over {name:<24} {runs[0]:6.1f} s, {runs[1]:6.1f} s", flush=True)
    spark.stop()


if __name__ == "__main__":
    main()
