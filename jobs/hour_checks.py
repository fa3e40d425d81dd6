"""`lakehouse check quarantine|freshness`: the hourly DAG's gate and deadline.

- `quarantine --since T`: of the records silver took in through its batches started at or after T (the DAG passes
  its run's start, so the gate sees exactly what this run's silver processed, whenever it landed), the share
  quarantined is at most --max-share (default 5%); read from ops.batch_health. `quarantine --date D --hour H`
  checks the bronze records ingested in that hour instead. Above the share something upstream broke (a bad deploy,
  an unannounced schema change), and gold should not be published from what is left: a failed gate exits 3, as the
  gates inside the jobs do.
- `freshness --date D --hour H`: the hour's gold is complete and published. Every silver event that occurred in
  the hour is counted in gold.merchant_hourly, and no configured sink has an unpublished change of that hour (hourly
  tables) or of its date (daily tables). A stale hour exits 1 with what is missing.
Spark-submit: `spark-submit jobs/hour_checks.py freshness --date D --hour H`.
"""

from __future__ import annotations

import sys
from datetime import date, datetime

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from jobs import publish, silver
from jobs.runtime.arguments import JobArgumentParser, Slice, parse_date, parse_hour, parse_moment, slice_from
from jobs.runtime.commands import command_parser
from jobs.runtime.exits import QualityGateFailed, run_entry
from jobs.runtime.session import spark_session
from jobs.runtime.settings import Settings, UsageError, settings_from
from jobs.sinks import SINKS
from jobs.storage.delta import ensure_tables, read_change_feed, read_table, single_row, table_version
from jobs.storage.publish_progress import last_published
from jobs.storage.tables import BATCH_HEALTH, BRONZE_EVENTS, MERCHANT_HOURLY, QUARANTINE, SILVER_EVENTS

CHECKS = ("quarantine", "freshness")


class StaleHour(RuntimeError):
    """An hour whose gold is incomplete or not yet published everywhere."""


def quarantine_share(spark: SparkSession, settings: Settings, hour: Slice) -> tuple[int, int]:
    """(records quarantined, records landed) among the bronze records ingested in the hour."""
    landed = silver.bronze_slice(spark, settings, hour).count()
    quarantined = read_table(spark, settings, QUARANTINE.name).filter(silver.ingested_in(hour)).count()
    return quarantined, landed


def silver_batches_share(spark: SparkSession, settings: Settings, since: datetime) -> tuple[int, int]:
    """(records quarantined, records taken in) by silver's batches started at or after `since`."""
    started = (F.col("date") >= F.lit(since.date())) & (F.col("started_at") >= F.lit(since))
    batches = read_table(spark, settings, BATCH_HEALTH.name).filter((F.col("stage") == "silver") & started)
    quarantined = F.aggregate(F.map_values("quarantined"), F.lit(0).cast("bigint"), lambda total, n: total + n)
    row = single_row(batches.agg(F.sum(quarantined), F.sum("rows_in")))
    return int(row[0] or 0), int(row[1] or 0)


def check_quarantine(quarantined: int, total: int, what: str, day: date, max_share: float) -> str:
    """Pass with a summary, or fail the gate (QualityGateFailed), on `quarantined` of `total` records."""
    share = quarantined / total if total else 0.0
    summary = f"{quarantined:,} of {total:,} {what} quarantined ({share:.2%}, at most {max_share:.2%})"
    if share > max_share:
        raise QualityGateFailed(f"quarantine gate failed: {summary}; see `lakehouse quality --date {day}`")
    return summary


def missing_from_gold(spark: SparkSession, settings: Settings, hour: Slice) -> tuple[int, int]:
    """(silver events that occurred in the hour, of them counted in gold.merchant_hourly)."""
    in_hour = (F.col("event_date") == F.lit(hour.day)) & (F.col("event_hour") == F.lit(hour.start))
    events = read_table(spark, settings, SILVER_EVENTS.name).filter(in_hour).count()
    in_gold = (F.col("date") == F.lit(hour.day)) & (F.col("hour_start") == F.lit(hour.start))
    hourly = read_table(spark, settings, MERCHANT_HOURLY.name).filter(in_gold)
    counted = single_row(hourly.agg(F.coalesce(F.sum("events"), F.lit(0))))[0]
    return events, counted


def unpublished(spark: SparkSession, settings: Settings, hour: Slice) -> list[str]:
    """'<sink> <table>' for every sink and gold table with a change of the hour (or its date) not yet published."""
    pending = []
    for sink in (SINKS[name] for name in settings.sinks):
        for table, target in sink.targets.items():
            current = table_version(spark, settings, table)
            last = last_published(spark, settings, sink.name, table)
            if last is not None and last >= current:
                continue
            in_slice = publish.slice_predicate(target.time, hour)
            if last is None:
                changed = read_table(spark, settings, table).filter(in_slice)
            else:
                changed = read_change_feed(spark, settings, table, last + 1, current).filter(in_slice)
            if not changed.isEmpty():
                pending.append(f"{sink.name} {table}")
    return pending


def check_freshness(spark: SparkSession, settings: Settings, hour: Slice) -> str:
    events, counted = missing_from_gold(spark, settings, hour)
    if counted != events:
        raise StaleHour(f"gold counts {counted:,} of the {events:,} silver events of {hour}")
    pending = unpublished(spark, settings, hour)
    if pending:
        raise StaleHour(f"{hour} has changes not yet published to: {', '.join(pending)}")
    sinks = ", ".join(settings.sinks) or "no sinks configured"
    return f"{hour}: gold counts all {events:,} silver events and is published ({sinks})"


def build_parser() -> JobArgumentParser:
    parser = command_parser("check", __doc__)
    parser.add_argument("check", choices=CHECKS, help="quarantine (the gate) or freshness (the deadline)")
    parser.add_argument("--date", type=parse_date, help="UTC date of the hour (YYYY-MM-DD)")
    parser.add_argument("--hour", type=parse_hour, help="UTC hour, 0-23")
    parser.add_argument(
        "--since", type=parse_moment, help="quarantine: check silver's batches started at or after this time instead"
    )
    parser.add_argument(
        "--max-share", type=float, default=0.05, help="quarantine: the largest share quarantined that passes"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def work() -> None:
        settings = settings_from(args)
        if not 0 <= args.max_share <= 1:
            raise UsageError(f"--max-share must be between 0 and 1, got {args.max_share}")
        hour = slice_from(args)
        if args.since is not None:
            if args.check != "quarantine":
                raise UsageError("--since is for the quarantine check")
            if hour is not None:
                raise UsageError("give --since or --date and --hour, not both")
        elif hour is None or hour.hour is None:
            alternative = " (or --since)" if args.check == "quarantine" else ""
            raise UsageError(f"{args.check} needs --date and --hour{alternative}")
        tables = [BRONZE_EVENTS.name, SILVER_EVENTS.name, QUARANTINE.name, MERCHANT_HOURLY.name, BATCH_HEALTH.name]
        with spark_session(settings, f"check {args.check}") as spark:
            ensure_tables(spark, settings, tables)
            if hour is None:
                counts = silver_batches_share(spark, settings, args.since)
                what = f"records silver took in since {args.since:%Y-%m-%d %H:%M:%S} UTC"
                summary = check_quarantine(*counts, what, args.since.date(), args.max_share)
            elif args.check == "quarantine":
                counts = quarantine_share(spark, settings, hour)
                summary = check_quarantine(*counts, f"records ingested in {hour}", hour.day, args.max_share)
            else:
                summary = check_freshness(spark, settings, hour)
            print(f"check {args.check}: ok: {summary}", flush=True)

    return run_entry(f"lakehouse check {args.check}", work)


if __name__ == "__main__":
    sys.exit(main())
