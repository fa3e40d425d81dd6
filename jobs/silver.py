"""Silver: validate, type and de-duplicate what bronze landed; rejected records go to silver.quarantine.

Incremental runs follow bronze as a stream (checkpoint <checkpoints>/silver). `--date D [--hour H]` reprocesses the
bronze records ingested in that UTC slice. Both write only with insert-only MERGEs (silver.events on event_id,
quarantine on the record's source position), so reprocessing adds nothing that is already there and a copy of an
event counts once however far apart the copies arrive. Spark-submit: `spark-submit jobs/silver.py [flags]`.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming import StreamingQuery

from jobs import quality
from jobs.contract import registry
from jobs.entry import StageReport, run_entry, spark_session
from jobs.health import TABLE as HEALTH
from jobs.health import BatchHealth
from jobs.health import record as record_health
from jobs.settings import (
    JobArgumentParser,
    Settings,
    Slice,
    Trigger,
    UsageError,
    add_settings_arguments,
    add_slice_arguments,
    add_trigger_argument,
    settings_from,
    slice_from,
)
from jobs.tables import ensure_tables, follow_new_rows, insert_missing, is_in, process_new_rows, read_table
from jobs.transforms.dedup import first_copy_per_event
from jobs.transforms.health import lateness
from jobs.transforms.validation import (
    QUARANTINE_COLUMNS,
    SILVER_COLUMNS,
    accepted_events,
    quarantined_records,
    validate_events,
)

SOURCE, EVENTS, QUARANTINE = "bronze.events", "silver.events", "silver.quarantine"
VALIDATED_COLUMNS = sorted({*SILVER_COLUMNS, *QUARANTINE_COLUMNS, "source_position"} - {"event_hour", "event_date"})


def validated_records(settings: Settings, records: DataFrame) -> DataFrame:
    """Records with their typed fields and `reason` (null when accepted) under the schema registry's versions. Only
    the typed result is kept: the parsed VARIANT and per-field type columns are not needed again, and only
    quarantine needs the raw payload."""
    return (
        validate_events(records, registry(Path(settings.schemas)))
        .withColumn("payload", F.when(F.col("reason").isNotNull(), F.col("payload")))
        .select(*VALIDATED_COLUMNS)
    )


def first_copies(validated: DataFrame) -> DataFrame:
    """The accepted events of validated records, one per event_id, in silver's shape."""
    return validated.transform(accepted_events).transform(first_copy_per_event).select(*SILVER_COLUMNS)


# Writes one set of validated records: (spark, settings, validated, accepted, ingest dates of its rejects) -> the
# silver rows written. Incremental runs add what is new; a backfill replaces a day (jobs/backfill.py).
SilverWriter = Callable[[SparkSession, Settings, DataFrame, DataFrame, set[date]], int]


def add_new(
    spark: SparkSession, settings: Settings, validated: DataFrame, accepted: DataFrame, dates: set[date]
) -> int:
    """What incremental runs and reruns write: the rejects and events that silver does not have yet."""
    if dates:
        insert_missing(
            spark,
            settings,
            QUARANTINE,
            quarantined_records(validated),
            f"t.{is_in('ingest_date', dates)} AND t.ingest_date = s.ingest_date "
            "AND t.source_position = s.source_position",
        )
    return insert_missing(spark, settings, EVENTS, accepted, "t.event_id = s.event_id")


def process_records(
    spark: SparkSession,
    settings: Settings,
    records: DataFrame,
    report: StageReport,
    label: str,
    write: SilverWriter = add_new,
) -> None:
    """Validate one set of bronze records (`label` names it) and, if its accepted events pass the quality gate,
    write them and its rejects with `write`."""
    validated = validated_records(settings, records).persist()
    accepted = first_copies(validated).persist()
    health = BatchHealth("silver", label)
    try:
        tally = validated.groupBy("reason", "ingest_date").count().collect()
        received = sum(row["count"] for row in tally)
        if received == 0:
            return
        # Figures of the late events, in the pass that fills the cache the gate and the MERGE then read.
        late = accepted.transform(lateness).first().asDict()
        quality.check(settings, EVENTS, accepted, label)
        rejects = Counter()
        for row in tally:
            if row["reason"] is not None:
                rejects[row["reason"]] += row["count"]
        rejected = rejects.total()
        quarantine_dates = {row["ingest_date"] for row in tally if row["reason"] is not None}
        written = write(spark, settings, validated, accepted, quarantine_dates)
        report.rows_in += received
        report.rows_out += written
        report.add("quarantined", rejected)
        report.add("copies dropped", received - rejected - written)
        health.rows_in, health.rows_out, health.quarantined = received, written, dict(rejects)
        health.copies_dropped = received - rejected - written
        health.late_events = late["late_events"]
        health.lateness_max_seconds, health.lateness_p95_seconds = (
            late["lateness_max_seconds"],
            late["lateness_p95_seconds"],
        )
        record_health(spark, settings, [health.finish()])
    finally:
        accepted.unpersist()
        validated.unpersist()


def bronze_slice(spark: SparkSession, settings: Settings, ingest_slice: Slice) -> DataFrame:
    bronze = read_table(spark, settings, SOURCE)
    in_slice = (
        (F.col("ingest_date") == F.lit(ingest_slice.day))
        & (F.col("ingested_at") >= F.lit(ingest_slice.start))
        & (F.col("ingested_at") < F.lit(ingest_slice.end))
    )
    return bronze.filter(in_slice)


def start(spark: SparkSession, settings: Settings, trigger: Trigger) -> StreamingQuery:
    """Start following bronze continuously; each micro-batch prints its own progress line."""
    ensure_tables(spark, settings, [SOURCE, EVENTS, QUARANTINE, HEALTH])

    def process_batch(batch: DataFrame, label: str) -> None:
        report = StageReport("silver")
        process_records(spark, settings, batch, report, label)
        if report.rows_in:
            report.finish().print()

    return follow_new_rows(spark, settings, SOURCE, "silver", process_batch, trigger)


def run(spark: SparkSession, settings: Settings, ingest_slice: Slice | None = None) -> StageReport:
    report = StageReport("silver")
    ensure_tables(spark, settings, [SOURCE, EVENTS, QUARANTINE, HEALTH])
    if ingest_slice is not None:
        records = bronze_slice(spark, settings, ingest_slice)
        process_records(spark, settings, records, report, f"ingested {ingest_slice}")
        return report.finish()
    process_new_rows(
        spark, settings, SOURCE, "silver", lambda batch, label: process_records(spark, settings, batch, report, label)
    )
    return report.finish()


def build_parser() -> JobArgumentParser:
    parser = JobArgumentParser(prog="lakehouse silver", description=__doc__.splitlines()[0])
    add_settings_arguments(parser)
    add_trigger_argument(parser)
    add_slice_arguments(parser, "bronze records ingested")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def work() -> None:
        settings = settings_from(args)
        registry(Path(settings.schemas))  # a bad registry folder fails here, before Spark starts
        ingest_slice = slice_from(args)
        if args.trigger.continuous and ingest_slice is not None:
            raise UsageError("--trigger '<n> seconds' follows new rows; it cannot be combined with --date")
        with spark_session(settings, "silver") as spark:
            if args.trigger.continuous:
                start(spark, settings, args.trigger).awaitTermination()
            else:
                run(spark, settings, ingest_slice).print()

    return run_entry("lakehouse silver", work)


if __name__ == "__main__":
    sys.exit(main())
