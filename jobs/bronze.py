"""Bronze: land every record of the source in bronze.events exactly as received (append-only, exactly once).

The stream's checkpoint (<checkpoints>/bronze) remembers what was already landed, so a rerun lands only what is new
and a killed run resumes without loss or duplicates. Spark-submit: `spark-submit jobs/bronze.py [flags]`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming import StreamingQuery

from jobs.runtime.arguments import Trigger
from jobs.runtime.commands import command_parser
from jobs.runtime.exits import run_entry
from jobs.runtime.progress import StageReport
from jobs.runtime.session import spark_session
from jobs.runtime.settings import Settings, settings_from
from jobs.sources import KinesisSource, Source, checked_source, read_source, records_of_batch
from jobs.storage.batch_health import await_recording_bronze, record_bronze_progress
from jobs.storage.delta import ensure_tables, remove_unfinished_first_offsets, rows_written_since, table_version
from jobs.storage.tables import BATCH_HEALTH, BRONZE_EVENTS

TABLE = BRONZE_EVENTS.name
QUERY_NAME = "bronze"


def with_ingest_columns(records: DataFrame) -> DataFrame:
    """Stamp each record with the time it was landed (one timestamp per micro-batch)."""
    return records.withColumn("ingested_at", F.current_timestamp()).withColumn("ingest_date", F.to_date("ingested_at"))


def land_batches(spark: SparkSession, settings: Settings, source: Source) -> Callable[[DataFrame, int], None]:
    """What bronze's query does with each micro-batch: append its records to bronze.events as one Delta commit. The
    commit carries (query id, batch id) as Delta's idempotent-write transaction, so a batch redone after a crash
    that came after its commit is skipped: with the checkpoint, every record lands exactly once. The commit's user
    metadata names the batch for ops.batch_health."""
    path = settings.table_path(TABLE)

    def land(batch: DataFrame, batch_id: int) -> None:
        query_id = next(str(query.id) for query in spark.streams.active if query.name == QUERY_NAME)
        (
            records_of_batch(source, batch)
            .transform(with_ingest_columns)
            .write.format("delta")
            .mode("append")
            .option("txnAppId", query_id)
            .option("txnVersion", batch_id)
            .option("userMetadata", json.dumps({"queryId": query_id, "batchId": batch_id}))
            .save(path)
        )

    return land


def start(spark: SparkSession, settings: Settings, source: Source, trigger: Trigger) -> StreamingQuery:
    """Start landing the source in bronze.events."""
    ensure_tables(spark, settings, [TABLE, BATCH_HEALTH.name])
    remove_unfinished_first_offsets(settings.checkpoint_path("bronze"))
    writer = (
        read_source(spark, source)
        .writeStream.queryName(QUERY_NAME)
        .foreachBatch(land_batches(spark, settings, source))
        .option("checkpointLocation", settings.checkpoint_path("bronze"))
    )
    return trigger.apply(writer).start()


def run(spark: SparkSession, settings: Settings, source: Source) -> StageReport:
    """Land everything the source holds now, then stop."""
    report = StageReport("bronze")
    ensure_tables(spark, settings, [TABLE, BATCH_HEALTH.name])
    version_before = table_version(spark, settings, TABLE)
    passes = 2 if isinstance(source, KinesisSource) else 1
    # Spark 4.1 runs an available-now query over a Python source that restarts after a crash as the one batch left
    # in its offset log, without asking the source for newer records: for Kinesis a second pass takes those.
    for _ in range(passes):
        query = start(spark, settings, source, Trigger())
        query.awaitTermination()
        record_bronze_progress(spark, settings, query)
    landed = rows_written_since(spark, settings, TABLE, version_before)
    report.rows_in = report.rows_out = landed
    return report.finish()


def main(argv: list[str] | None = None) -> int:
    args = command_parser("bronze", __doc__, trigger=True).parse_args(argv)

    def work() -> None:
        settings = settings_from(args)
        source = checked_source(settings)
        with spark_session(settings, "bronze") as spark:
            if args.trigger.continuous:
                query = start(spark, settings, source, args.trigger)
                await_recording_bronze(spark, settings, query, query.awaitTermination, [query])
            else:
                run(spark, settings, source).print()

    return run_entry("lakehouse bronze", work)


if __name__ == "__main__":
    sys.exit(main())
