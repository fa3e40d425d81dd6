"""Silver: validate, type and de-duplicate what bronze landed; rejected records go to silver.quarantine.

Incremental runs follow bronze as a stream (checkpoint <checkpoints>/silver). `--date D [--hour H]` reprocesses the
bronze records ingested in that UTC slice. Both write only with insert-only MERGEs (silver.events on event_id within
the event's date and the dates on either side, quarantine on the record's source position), so reprocessing adds
nothing that is already there and a resend of an event counts once however far apart the copies arrive.
Spark-submit: `spark-submit jobs/silver.py [flags]`.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date, timedelta

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming import StreamingQuery

from jobs.quality import gate
from jobs.runtime.arguments import Slice, Trigger
from jobs.runtime.commands import following_stage_main
from jobs.runtime.progress import StageReport
from jobs.runtime.settings import Settings
from jobs.storage.batch_health import BatchHealth
from jobs.storage.batch_health import record as record_health
from jobs.storage.delta import (
    MicroBatch,
    ensure_tables,
    follow_new_rows,
    insert_missing,
    is_in,
    process_new_rows,
    read_table,
    single_row,
)
from jobs.storage.tables import BATCH_HEALTH, BRONZE_EVENTS, QUARANTINE, SILVER_EVENTS
from jobs.transforms.contract import registry_of
from jobs.transforms.dedup import first_copy_per_event
from jobs.transforms.lateness import lateness
from jobs.transforms.validation import FIELD_TYPES, accepted_events, quarantined_records, validate_events

SOURCE, EVENTS = BRONZE_EVENTS.name, SILVER_EVENTS.name
# What validation keeps of a record: its typed fields, its verdict, and what its landing said.
VALIDATED_COLUMNS = [*FIELD_TYPES, "extra", "payload", "reason", "source_position", "ingested_at", "ingest_date"]


def validated_records(settings: Settings, records: DataFrame) -> DataFrame:
    """Records with their typed fields and `reason` (null when accepted) under the schema registry's versions. Only
    the typed result is kept: only quarantine needs the raw payload."""
    return (
        validate_events(records, registry_of(settings))
        .withColumn("payload", F.when(F.col("reason").isNotNull(), F.col("payload")))
        .select(*VALIDATED_COLUMNS)
    )


def first_copies(validated: DataFrame) -> DataFrame:
    """The accepted events of validated records, one per event_id, in silver's shape."""
    return validated.transform(accepted_events).transform(first_copy_per_event).select(*SILVER_EVENTS.names)


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
            QUARANTINE.name,
            quarantined_records(validated),
            f"t.{is_in('ingest_date', dates)} AND t.ingest_date = s.ingest_date "
            "AND t.source_position = s.source_position",
        )
    return add_events(spark, settings, accepted)


def copy_match(event_dates: Iterable[date]) -> str:
    """The MERGE condition that finds, in silver.events, a copy of an event being added: the same event_id on the
    event's UTC date or a date on either side. A resend carries the same `occurred_at` (DESIGN.md §4), so nothing
    further is looked at; the literal dates prune silver's partitions, so the check's cost grows with the batch,
    not with the table."""
    dates = {day + timedelta(days=shift) for day in event_dates for shift in (-1, 0, 1)}
    return (
        f"t.{is_in('event_date', dates)} "
        "AND t.event_date BETWEEN date_sub(s.event_date, 1) AND date_add(s.event_date, 1) "
        "AND t.event_id = s.event_id"
    )


def add_events(spark: SparkSession, settings: Settings, accepted: DataFrame) -> int:
    """Insert the accepted events (first copies) of which silver.events holds no copy; returns how many."""
    dates = [row["event_date"] for row in accepted.select("event_date").distinct().collect()]  # a few
    if not dates:
        return 0
    return insert_missing(spark, settings, EVENTS, accepted, copy_match(dates))


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
        late = single_row(accepted.transform(lateness)).asDict()
        gate.check(settings, EVENTS, accepted, label)
        rejects: Counter[str] = Counter()
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


def ingested_in(ingest_slice: Slice) -> Column:
    """Records (of bronze or quarantine) that landed in the slice; the date prunes partitions."""
    return (
        (F.col("ingest_date") == F.lit(ingest_slice.day))
        & (F.col("ingested_at") >= F.lit(ingest_slice.start))
        & (F.col("ingested_at") < F.lit(ingest_slice.end))
    )


def bronze_slice(spark: SparkSession, settings: Settings, ingest_slice: Slice) -> DataFrame:
    return read_table(spark, settings, SOURCE).filter(ingested_in(ingest_slice))


def start(spark: SparkSession, settings: Settings, trigger: Trigger) -> StreamingQuery:
    """Start following bronze continuously; each micro-batch prints its own progress line."""
    ensure_tables(spark, settings, [SOURCE, EVENTS, QUARANTINE.name, BATCH_HEALTH.name])

    def process_batch(records: DataFrame, batch: MicroBatch) -> None:
        report = StageReport("silver")
        process_records(spark, settings, records, report, batch.label)
        if report.rows_in:
            report.finish().print()

    return follow_new_rows(spark, settings, SOURCE, "silver", process_batch, trigger)


def run(spark: SparkSession, settings: Settings, ingest_slice: Slice | None = None) -> StageReport:
    report = StageReport("silver")
    ensure_tables(spark, settings, [SOURCE, EVENTS, QUARANTINE.name, BATCH_HEALTH.name])
    if ingest_slice is not None:
        records = bronze_slice(spark, settings, ingest_slice)
        process_records(spark, settings, records, report, f"ingested {ingest_slice}")
        return report.finish()
    process_new_rows(
        spark,
        settings,
        SOURCE,
        "silver",
        lambda records, batch: process_records(spark, settings, records, report, batch.label),
    )
    return report.finish()


def main(argv: list[str] | None = None) -> int:
    return following_stage_main(
        "silver", __doc__, argv, slice_of="bronze records ingested", start=start, run=run, check=registry_of
    )


if __name__ == "__main__":
    sys.exit(main())
