"""Gold: recompute the per-merchant metrics of exactly the event hours (and dates) touched by new silver rows.

Incremental runs follow silver as a stream (checkpoint <checkpoints>/gold): the hours of each batch's events are
recomputed from all of silver and replace their old rows atomically (Delta replaceWhere), so a late event updates its
own hour and day. `--date D [--hour H]` recomputes that slice of event time. Spark-submit: `spark-submit jobs/gold.py`.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming import StreamingQuery

from jobs.entry import StageReport, run_entry, spark_session
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
    rows_written_since,
    table_version,
)
from jobs.transforms.metrics import merchant_daily, merchant_hourly, merchant_hourly_sales, product_daily

SOURCE = "silver.events"
HOURLY, SALES, DAILY, PRODUCTS = (
    "gold.merchant_hourly",
    "gold.merchant_hourly_sales",
    "gold.merchant_daily",
    "gold.product_daily",
)
GOLD_TABLES = [HOURLY, SALES, DAILY, PRODUCTS]


def rows_per_hour(events: DataFrame) -> dict[datetime, int]:
    """Event count per event hour of a batch (a few dozen hours, so collecting them is cheap)."""
    hour_text = F.date_format("event_hour", "yyyy-MM-dd HH:mm:ss").alias("hour")
    counts = events.groupBy(hour_text).count().collect()
    return {datetime.fromisoformat(row["hour"]).replace(tzinfo=UTC): row["count"] for row in counts}


def recompute(spark: SparkSession, settings: Settings, hours: list[datetime], report: StageReport) -> None:
    """Rebuild every gold row of these event hours and of their dates from silver."""
    if not hours:
        return
    dates = sorted({hour.date() for hour in hours})
    silver = read_table(spark, settings, SOURCE).filter(is_in("event_date", dates))
    in_hours = f"{is_in('date', dates)} AND {is_in('hour_start', hours)}"
    hour_events = silver.filter(is_in("event_hour", hours))

    replace_where(settings, HOURLY, hour_events.transform(merchant_hourly), in_hours)
    replace_where(settings, SALES, hour_events.transform(merchant_hourly_sales), in_hours)
    day_hours = read_table(spark, settings, HOURLY).filter(is_in("date", dates))
    replace_where(settings, DAILY, day_hours.transform(merchant_daily), is_in("date", dates))
    replace_where(settings, PRODUCTS, silver.transform(product_daily), is_in("date", dates))
    report.add("hours", len(hours))
    report.add("dates", len(dates))


def process_batch(spark: SparkSession, settings: Settings, batch: DataFrame, report: StageReport) -> None:
    counts = rows_per_hour(batch)
    report.rows_in += sum(counts.values())
    recompute(spark, settings, sorted(counts), report)


def start(spark: SparkSession, settings: Settings, trigger: Trigger) -> StreamingQuery:
    """Start following silver continuously; each micro-batch prints its own progress line."""
    ensure_tables(spark, settings, [SOURCE, *GOLD_TABLES])

    def handle(batch: DataFrame) -> None:
        report = StageReport("gold", rows_out=None)
        process_batch(spark, settings, batch, report)
        if report.rows_in:
            report.finish().print()

    return follow_new_rows(spark, settings, SOURCE, "gold", handle, trigger)


def run(spark: SparkSession, settings: Settings, event_slice: Slice | None = None) -> StageReport:
    report = StageReport("gold")
    ensure_tables(spark, settings, [SOURCE, *GOLD_TABLES])
    versions_before = {table: table_version(spark, settings, table) for table in GOLD_TABLES}
    if event_slice is not None:
        recompute(spark, settings, event_slice.hours(), report)
    else:
        process_new_rows(spark, settings, SOURCE, "gold", lambda batch: process_batch(spark, settings, batch, report))
    report.rows_out = sum(
        rows_written_since(spark, settings, table, version) for table, version in versions_before.items()
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
