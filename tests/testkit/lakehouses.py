"""Lakehouses written once and shared: a pipeline run costs tens of seconds, so the integration tests that only read
its tables share one, and a test that changes them works on a copy (`copy_of`).

A copy keeps its source: the copied bronze checkpoint has read every file of the shared landing folder, which no
test writes to, so a copy's next run finds nothing new there. New records reach a copy through `land`, which appends
them to bronze as the stream would, and the copy's silver and gold streams then take them.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs import pipeline
from jobs.devtools.generate import write_hour_files
from jobs.devtools.synthetic import EventGenerator, GeneratorConfig
from jobs.runtime.progress import StageReport
from jobs.runtime.settings import Settings
from jobs.services.s3 import BUCKET
from jobs.sources import FileSource
from jobs.storage.tables import BRONZE_EVENTS, MERCHANT_HOURLY
from testkit.events import bronze_records

# 30 merchants over three hours across midnight: two dates, several currencies and channels, schema versions 1 and
# 2, late events, copies and malformed records.
SMALL_CONFIG = GeneratorConfig(events=2000, hours=3, merchants=30, seed=5, start=datetime(2026, 11, 22, 22, tzinfo=UTC))


# Compared through their estimates (`sessions`, `customers`): a sketch's bytes depend on the order in which it was
# merged, batch by batch, but not what it estimates.
SKETCHES = ("sessions_sketch", "customers_sketch")


def comparable_rows(table: DataFrame) -> list[str]:
    """A table's rows as sorted text, columns in name order and sketches left out: equal for equal tables."""
    columns = sorted(set(table.columns) - set(SKETCHES))
    return sorted(map(str, table.select(*columns).collect()))


@dataclass(frozen=True)
class Lakehouse:
    settings: Settings  # its warehouse, checkpoints and landing folder (the source)
    lines: list[str]  # every record of the landing folder, in file order
    reports: list[StageReport]  # what its one pipeline run reported, a report per stage


def build(spark: SparkSession, base: Settings, root: Path, config: GeneratorConfig, s3_prefix: str = "") -> Lakehouse:
    """Generate `config`'s events into <root>/landing and run the pipeline over them once (no sinks), with the
    warehouse and checkpoints under `root`, or on S3 under `s3_prefix` (see `on_s3`)."""
    settings = replace(
        base,
        warehouse=str(root / "warehouse"),
        checkpoints=str(root / "checkpoints"),
        source=f"files:{root / 'landing'}",
        sinks=(),
    )
    if s3_prefix:
        settings = on_s3(settings, s3_prefix)
    batches = EventGenerator(config).records_by_arrival_hour()
    write_hour_files(root / "landing", config, batches)
    reports = pipeline.run(spark, settings, FileSource(str(root / "landing")))
    return Lakehouse(settings, [line for batch in batches for line in batch], reports)


def on_s3(settings: Settings, prefix: str) -> Settings:
    """`settings` with the warehouse and checkpoints under s3a://lakehouse/<prefix>/, on the session's S3 server
    (the `s3_service` fixture)."""
    root = f"s3a://{BUCKET}/{prefix}"
    return replace(settings, warehouse=f"{root}/warehouse", checkpoints=f"{root}/checkpoints")


def copy_of(shared: Lakehouse, root: Path, onto: Settings) -> Settings:
    """`onto` (a test's settings: sinks, servers) with the shared lakehouse's warehouse and checkpoints copied under
    `root`, to be changed freely, and its source. Delta tables and stream checkpoints hold only relative paths to
    their own files, so a copied folder is the same table."""
    shutil.copytree(shared.settings.warehouse, root / "warehouse")
    shutil.copytree(shared.settings.checkpoints, root / "checkpoints")
    return replace(
        onto, warehouse=str(root / "warehouse"), checkpoints=str(root / "checkpoints"), source=shared.settings.source
    )


def land(spark: SparkSession, settings: Settings, payloads: list[str | dict], ingested_at: datetime) -> None:
    """Append records to bronze.events as if the stream had landed them at `ingested_at`, from one file."""
    file = f"landed-{ingested_at:%Y%m%d%H%M%S%f}.jsonl"
    records = bronze_records(spark, [p if isinstance(p, str) else json.dumps(p) for p in payloads], ingested_at, file)
    records.write.format("delta").mode("append").save(settings.table_path(BRONZE_EVENTS.name))


def gold_hours(spark: SparkSession, settings: Settings, *starts: datetime) -> None:
    """Rows of gold.merchant_hourly for these hours, a merchant each, their metrics empty: for what reads only the
    hours (the lag)."""
    rows = spark.createDataFrame(
        [(f"m-{n}", start, start.date()) for n, start in enumerate(starts)],
        "merchant_id string, hour_start timestamp, date date",
    )
    columns = [
        F.col(name) if name in rows.columns else F.lit(None).cast(kind).alias(name)
        for name, kind in MERCHANT_HOURLY.columns
    ]
    rows.select(columns).write.format("delta").mode("append").save(settings.table_path(MERCHANT_HOURLY.name))
