"""ops.publish_progress: per sink and gold table, the table versions a sink has acknowledged (append-only)."""

from __future__ import annotations

from datetime import UTC, datetime

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from jobs.runtime.settings import Settings
from jobs.storage.delta import read_table, single_row
from jobs.storage.tables import PUBLISH_PROGRESS


def last_published(spark: SparkSession, settings: Settings, sink: str, table: str) -> int | None:
    """The newest version of `table` that `sink` acknowledged; None before its first publish."""
    progress = read_table(spark, settings, PUBLISH_PROGRESS.name)
    return single_row(progress.filter((F.col("sink") == sink) & (F.col("table") == table)).agg(F.max("version")))[0]


def record_progress(
    spark: SparkSession, settings: Settings, sink: str, table: str, version: int, written: int, deleted: int
) -> None:
    row = [(sink, table, version, written, deleted, datetime.now(UTC))]
    frame = spark.createDataFrame(row, PUBLISH_PROGRESS.ddl)
    frame.write.format("delta").mode("append").save(settings.table_path(PUBLISH_PROGRESS.name))
