"""Gold: recompute the per-merchant metrics of exactly the event hours (and dates) touched by new silver rows.

Incremental runs follow silver as a stream (checkpoint <checkpoints>/gold): the hours of each batch's events are
recomputed from all of silver and replace their old rows atomically (Delta replaceWhere), so a late event updates its
own hour and day. `--date D [--hour H]` recomputes that slice of event time. Spark-submit: `spark-submit jobs/gold.py`.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

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
from jobs.storage.delta import ensure_tables, follow_new_rows, is_in, process_new_rows, read_table, replace_where
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
    """Rebuild every gold row of these event hours and of their dates from silver; returns the rows written. All
    gold tables pass their quality gates before any of them is written."""
    if not hours:
        return 0
    dates = sorted({hour.date() for hour in hours})
    silver = read_table(spark, settings, SOURCE).filter(is_in("event_date", dates))
    hour_events = silver.filter(is_in("event_hour", hours))
    in_hours = f"{is_in('date', dates)} AND {is_in('hour_start', hours)}"
    in_dates = is_in("date", dates)

    hourly = hour_events.transform(merchant_hourly, settings.conversion_basis).persist()
    other_hours = read_table(spark, settings, HOURLY).filter(f"{in_dates} AND NOT {is_in('hour_start', hours)}")
    slices = {
        HOURLY: (hourly, in_hours),
        MERCHANT_HOURLY_SALES.name: (hour_events.transform(merchant_hourly_sales).persist(), in_hours),
        MERCHANT_HOURLY_CHANNEL_SALES.name: (hour_events.transform(merchant_hourly_channel_sales).persist(), in_hours),
        MERCHANT_DAILY.name: (
            other_hours.unionByName(hourly).transform(merchant_daily, settings.conversion_basis).persist(),
            in_dates,
        ),
        PRODUCT_DAILY.name: (silver.transform(product_daily).persist(), in_dates),
    }
    history_dates = {day - timedelta(days=back) for day in dates for back in range(1, VOLUME_HISTORY_DAYS + 1)}
    history = read_table(spark, settings, HOURLY).filter(is_in("date", history_dates))
    try:
        # The five tables' jobs are small and mostly the driver's planning and Delta's commits: run side by side, they
        # keep both cores busy. Counting fills the caches: the gates and the writes then read the computed rows.
        with ThreadPoolExecutor(len(slices)) as pool:
            written = sum(pool.map(lambda rows: rows.count(), [rows for rows, _ in slices.values()]))
            for table, (rows, _) in slices.items():
                gated = with_volume_ratio(rows, history, datetime.now(UTC)) if table == HOURLY else rows
                gate.check(settings, table, gated, label)
            # Each table is its own Delta commit, as before: a failed one leaves the others written, and a rerun
            # (or the next batch of the same hours) writes it.
            list(pool.map(lambda item: replace_where(settings, item[0], *item[1]), slices.items()))
        return written
    finally:
        for rows, _ in slices.values():
            rows.unpersist()


def recompute_and_record(
    spark: SparkSession, settings: Settings, hours: list[datetime], rows_in: int, label: str, report: StageReport
) -> None:
    health = BatchHealth("gold", f"{label}: {hours_label(hours)}" if hours else label, rows_in=rows_in)
    health.rows_out = recompute(spark, settings, hours, health.batch)
    record_health(spark, settings, [health.finish()])
    report.rows_in += rows_in
    report.rows_out += health.rows_out
    report.add("hours", len(hours))
    report.add("dates", len({hour.date() for hour in hours}))


def process_batch(spark: SparkSession, settings: Settings, batch: DataFrame, report: StageReport, label: str) -> None:
    counts = rows_per_hour(batch)
    if counts:
        recompute_and_record(spark, settings, sorted(counts), sum(counts.values()), label, report)


def start(spark: SparkSession, settings: Settings, trigger: Trigger) -> StreamingQuery:
    """Start following silver continuously; each micro-batch prints its own progress line."""
    ensure_tables(spark, settings, [SOURCE, *GOLD_TABLES, BATCH_HEALTH.name])

    def handle(batch: DataFrame, label: str) -> None:
        report = StageReport("gold")
        process_batch(spark, settings, batch, report, label)
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
            spark, settings, SOURCE, "gold", lambda batch, label: process_batch(spark, settings, batch, report, label)
        )
    return report.finish()


def main(argv: list[str] | None = None) -> int:
    return following_stage_main(
        "gold", __doc__, argv, slice_of="gold rows of events that occurred", start=start, run=run
    )


if __name__ == "__main__":
    sys.exit(main())
