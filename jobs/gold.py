"""Gold: recompute the per-merchant metrics of exactly the event hours (and dates) touched by new silver rows.

Incremental runs follow silver as a stream (checkpoint <checkpoints>/gold): the hours of each batch's events are
recomputed from all of silver and replace their old rows atomically (Delta replaceWhere), so a late event updates its
own hour and day. `--date D [--hour H]` recomputes that slice of event time. Spark-submit: `spark-submit jobs/gold.py`.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming import StreamingQuery

from jobs import quality
from jobs.entry import StageReport, run_entry, spark_session
from jobs.health import TABLE as TABLE_HEALTH
from jobs.health import BatchHealth
from jobs.health import record as record_health
from jobs.quality import VOLUME_HISTORY_DAYS, with_volume_ratio
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
from jobs.tables import (
    ensure_tables,
    follow_new_rows,
    is_in,
    process_new_rows,
    read_table,
    replace_where,
)
from jobs.transforms.metrics import (
    merchant_daily,
    merchant_hourly,
    merchant_hourly_channel_sales,
    merchant_hourly_sales,
    product_daily,
)

SOURCE = "silver.events"
HOURLY, SALES, CHANNEL_SALES, DAILY, PRODUCTS = (
    "gold.merchant_hourly",
    "gold.merchant_hourly_sales",
    "gold.merchant_hourly_channel_sales",
    "gold.merchant_daily",
    "gold.product_daily",
)
GOLD_TABLES = [HOURLY, SALES, CHANNEL_SALES, DAILY, PRODUCTS]


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
        SALES: (hour_events.transform(merchant_hourly_sales).persist(), in_hours),
        CHANNEL_SALES: (hour_events.transform(merchant_hourly_channel_sales).persist(), in_hours),
        DAILY: (
            other_hours.unionByName(hourly).transform(merchant_daily, settings.conversion_basis).persist(),
            in_dates,
        ),
        PRODUCTS: (silver.transform(product_daily).persist(), in_dates),
    }
    history_dates = {day - timedelta(days=back) for day in dates for back in range(1, VOLUME_HISTORY_DAYS + 1)}
    history = read_table(spark, settings, HOURLY).filter(is_in("date", history_dates))
    try:
        # Counting fills the caches: the gates and the writes then read the computed rows, not silver again.
        written = sum(rows.count() for rows, _ in slices.values())
        for table, (rows, _) in slices.items():
            gated = with_volume_ratio(rows, history, datetime.now(UTC)) if table == HOURLY else rows
            quality.check(settings, table, gated, label)
        for table, (rows, predicate) in slices.items():
            replace_where(settings, table, rows, predicate)
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
    ensure_tables(spark, settings, [SOURCE, *GOLD_TABLES, TABLE_HEALTH])

    def handle(batch: DataFrame, label: str) -> None:
        report = StageReport("gold")
        process_batch(spark, settings, batch, report, label)
        if report.rows_in:
            report.finish().print()

    return follow_new_rows(spark, settings, SOURCE, "gold", handle, trigger)


def run(spark: SparkSession, settings: Settings, event_slice: Slice | None = None) -> StageReport:
    report = StageReport("gold")
    ensure_tables(spark, settings, [SOURCE, *GOLD_TABLES, TABLE_HEALTH])
    if event_slice is not None:
        recompute_and_record(spark, settings, event_slice.hours(), 0, "rerun", report)
    else:
        process_new_rows(
            spark, settings, SOURCE, "gold", lambda batch, label: process_batch(spark, settings, batch, report, label)
        )
    return report.finish()


def build_parser() -> JobArgumentParser:
    parser = JobArgumentParser(prog="lakehouse gold", description=__doc__.splitlines()[0])
    add_settings_arguments(parser)
    add_trigger_argument(parser)
    add_slice_arguments(parser, "gold rows of events that occurred")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def work() -> None:
        settings = settings_from(args)
        event_slice = slice_from(args)
        if args.trigger.continuous and event_slice is not None:
            raise UsageError("--trigger '<n> seconds' follows new rows; it cannot be combined with --date")
        with spark_session(settings, "gold") as spark:
            if args.trigger.continuous:
                start(spark, settings, args.trigger).awaitTermination()
            else:
                run(spark, settings, event_slice).print()

    return run_entry("lakehouse gold", work)


if __name__ == "__main__":
    sys.exit(main())
