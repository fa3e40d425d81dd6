"""Gold: the per-merchant metrics of the event hours (and dates) that new silver rows touch.

Incremental runs follow silver as a stream (checkpoint <checkpoints>/gold): each micro-batch merges its new events
into the gold rows of their hours and dates (counts and amounts added, sketches unioned, estimates taken from the
union) and replaces those slices atomically (Delta replaceWhere). Each table's commit carries the batch's number
under the stream's id (Delta's idempotent writes), so a batch replayed after a crash skips the tables it already
wrote. Its cost grows with the batch and the gold rows of its slices, never with silver. `--date D [--hour H]` (and
backfill) recompute that slice of event time from silver instead: the same rows. Spark-submit:
`spark-submit jobs/gold.py`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from functools import partial

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming import StreamingQuery

from jobs.quality import gate
from jobs.quality.expectations import VOLUME_HISTORY_DAYS, with_volume_ratio
from jobs.runtime.arguments import Slice, Trigger
from jobs.runtime.commands import following_stage_main
from jobs.runtime.progress import StageReport
from jobs.runtime.settings import Settings
from jobs.storage.batch_health import BatchHealth
from jobs.storage.batch_health import record as record_health
from jobs.storage.delta import (
    MicroBatch,
    WriteOnce,
    ensure_tables,
    follow_new_rows,
    is_in,
    process_new_rows,
    read_table,
    replace_where,
)
from jobs.storage.tables import (
    BATCH_HEALTH,
    GOLD_TABLES,
    MERCHANT_DAILY,
    MERCHANT_HOURLY,
    MERCHANT_HOURLY_CHANNEL_SALES,
    MERCHANT_HOURLY_SALES,
    PRODUCT_DAILY,
    SILVER_EVENTS,
)
from jobs.transforms.metrics import (
    merchant_daily,
    merchant_hourly,
    merchant_hourly_channel_sales,
    merchant_hourly_sales,
    merged_activity,
    merged_products,
    merged_sales,
    product_daily,
)

SOURCE, HOURLY = SILVER_EVENTS.name, MERCHANT_HOURLY.name


def rows_per_hour(events: DataFrame) -> dict[datetime, int]:
    """Event count per event hour of a batch (a few dozen hours, so collecting them is cheap)."""
    hour_text = F.date_format("event_hour", "yyyy-MM-dd HH:mm:ss").alias("hour")
    counts = events.groupBy(hour_text).count().collect()
    return {datetime.fromisoformat(row["hour"]).replace(tzinfo=UTC): row["count"] for row in counts}


def hours_label(hours: list[datetime]) -> str:
    first, last = hours[0], hours[-1]
    if first == last:
        return f"hour {first:%Y-%m-%d %H:00}"
    return f"{len(hours)} hours {first:%Y-%m-%d %H:00} to {last:%Y-%m-%d %H:00}"


def recompute(spark: SparkSession, settings: Settings, hours: list[datetime], label: str) -> int:
    """Rebuild every gold row of these event hours and of their dates from silver; returns the rows written."""
    if not hours:
        return 0
    dates = sorted({hour.date() for hour in hours})
    in_hours, in_dates = hours_predicate(hours), is_in("date", dates)
    silver = read_table(spark, settings, SOURCE).filter(is_in("event_date", dates))
    hour_events = silver.filter(is_in("event_hour", hours))
    hourly = hour_events.transform(merchant_hourly, settings.conversion_basis).persist()
    other_hours = read_table(spark, settings, HOURLY).filter(f"{in_dates} AND NOT {is_in('hour_start', hours)}")
    slices = {
        HOURLY: (hourly, in_hours),
        MERCHANT_HOURLY_SALES.name: (hour_events.transform(merchant_hourly_sales), in_hours),
        MERCHANT_HOURLY_CHANNEL_SALES.name: (hour_events.transform(merchant_hourly_channel_sales), in_hours),
        MERCHANT_DAILY.name: (
            other_hours.unionByName(hourly).transform(merchant_daily, settings.conversion_basis),
            in_dates,
        ),
        PRODUCT_DAILY.name: (silver.transform(product_daily), in_dates),
    }
    try:
        return write_slices(spark, settings, slices, dates, label)
    finally:
        hourly.unpersist()


def merge_batch(
    spark: SparkSession, settings: Settings, events: DataFrame, hours: list[datetime], label: str, *, once: WriteOnce
) -> int:
    """Merge a micro-batch of new silver events into the gold rows of their hours and dates; returns the rows
    written. Silver inserts each event once, so each reaches here once (or again in a replayed batch, whose
    tables already written skip the write)."""
    dates = sorted({hour.date() for hour in hours})
    in_hours, in_dates = hours_predicate(hours), is_in("date", dates)
    basis = settings.conversion_basis

    def current(table: str, scope: str) -> DataFrame:
        return read_table(spark, settings, table).filter(scope)

    hourly = events.transform(merchant_hourly, basis).persist()
    slices = {
        HOURLY: (
            current(HOURLY, in_hours).unionByName(hourly).transform(merged_activity, MERCHANT_HOURLY, basis),
            in_hours,
        ),
        MERCHANT_HOURLY_SALES.name: (
            current(MERCHANT_HOURLY_SALES.name, in_hours)
            .unionByName(events.transform(merchant_hourly_sales))
            .transform(merged_sales, MERCHANT_HOURLY_SALES),
            in_hours,
        ),
        MERCHANT_HOURLY_CHANNEL_SALES.name: (
            current(MERCHANT_HOURLY_CHANNEL_SALES.name, in_hours)
            .unionByName(events.transform(merchant_hourly_channel_sales))
            .transform(merged_sales, MERCHANT_HOURLY_CHANNEL_SALES),
            in_hours,
        ),
        MERCHANT_DAILY.name: (
            current(MERCHANT_DAILY.name, in_dates)
            .unionByName(hourly.transform(merchant_daily, basis))
            .transform(merged_activity, MERCHANT_DAILY, basis),
            in_dates,
        ),
        PRODUCT_DAILY.name: (
            current(PRODUCT_DAILY.name, in_dates)
            .unionByName(events.transform(product_daily))
            .transform(merged_products),
            in_dates,
        ),
    }
    try:
        return write_slices(spark, settings, slices, dates, label, once)
    finally:
        hourly.unpersist()


def hours_predicate(hours: list[datetime]) -> str:
    """Rows of these hours; the dates prune partitions."""
    return f"{is_in('date', {hour.date() for hour in hours})} AND {is_in('hour_start', hours)}"


def write_slices(
    spark: SparkSession,
    settings: Settings,
    slices: dict[str, tuple[DataFrame, str]],
    dates: list[date],
    label: str,
    once: WriteOnce | None = None,
) -> int:
    """Replace each table's slice (its predicate) with its new rows, once all of them pass their quality gates;
    returns the rows written."""
    history_dates = {day - timedelta(days=back) for day in dates for back in range(1, VOLUME_HISTORY_DAYS + 1)}
    history = read_table(spark, settings, HOURLY).filter(is_in("date", history_dates))
    computed = {table: rows.persist() for table, (rows, _) in slices.items()}
    try:
        # The five tables' jobs are small and mostly the driver's planning and Delta's commits: run side by side, they
        # keep both cores busy. Counting fills the caches: the gates and the writes then read the computed rows.
        with ThreadPoolExecutor(len(slices)) as pool:
            written = sum(pool.map(lambda rows: rows.count(), computed.values()))
            for table, rows in computed.items():
                gated = with_volume_ratio(rows, history, datetime.now(UTC)) if table == HOURLY else rows
                gate.check(settings, table, gated, label)
            # Each table is its own Delta commit: a failed one leaves the others written, and a rerun (or the replayed
            # batch, whose written tables skip theirs) writes it.
            list(
                pool.map(lambda table: replace_where(settings, table, computed[table], slices[table][1], once), slices)
            )
        return written
    finally:
        for rows in computed.values():
            rows.unpersist()


def recompute_and_record(
    spark: SparkSession, settings: Settings, hours: list[datetime], rows_in: int, label: str, report: StageReport
) -> None:
    record(spark, settings, hours, rows_in, label, report, lambda batch: recompute(spark, settings, hours, batch))


def record(
    spark: SparkSession,
    settings: Settings,
    hours: list[datetime],
    rows_in: int,
    label: str,
    report: StageReport,
    write: Callable[[str], int],
) -> None:
    """Run `write` (given the batch's name, returning the rows written) and record its batch health."""
    health = BatchHealth("gold", f"{label}: {hours_label(hours)}" if hours else label, rows_in=rows_in)
    health.rows_out = write(health.batch)
    record_health(spark, settings, [health.finish()])
    report.rows_in += rows_in
    report.rows_out += health.rows_out
    report.add("hours", len(hours))
    report.add("dates", len({hour.date() for hour in hours}))


def process_batch(
    spark: SparkSession, settings: Settings, events: DataFrame, batch: MicroBatch, report: StageReport
) -> None:
    counts = rows_per_hour(events)
    if counts:
        hours = sorted(counts)

        merge = partial(merge_batch, spark, settings, events, hours, once=batch.write_once)
        record(spark, settings, hours, sum(counts.values()), batch.label, report, merge)


def start(spark: SparkSession, settings: Settings, trigger: Trigger) -> StreamingQuery:
    """Start following silver continuously; each micro-batch prints its own progress line."""
    ensure_tables(spark, settings, [SOURCE, *GOLD_TABLES, BATCH_HEALTH.name])

    def handle(events: DataFrame, batch: MicroBatch) -> None:
        report = StageReport("gold")
        process_batch(spark, settings, events, batch, report)
        if report.rows_in:
            report.finish().print()

    return follow_new_rows(spark, settings, SOURCE, "gold", handle, trigger)


def run(spark: SparkSession, settings: Settings, event_slice: Slice | None = None) -> StageReport:
    report = StageReport("gold")
    ensure_tables(spark, settings, [SOURCE, *GOLD_TABLES, BATCH_HEALTH.name])
    if event_slice is not None:
        recompute_and_record(spark, settings, event_slice.hours(), 0, "rerun", report)
    else:
        process_new_rows(
            spark, settings, SOURCE, "gold", lambda events, batch: process_batch(spark, settings, events, batch, report)
        )
    return report.finish()


def main(argv: list[str] | None = None) -> int:
    return following_stage_main(
        "gold", __doc__, argv, slice_of="gold rows of events that occurred", start=start, run=run
    )


if __name__ == "__main__":
    sys.exit(main())
