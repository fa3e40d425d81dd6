"""`lakehouse check quarantine|freshness --date D --hour H`: the hourly DAG's gate and deadline for one UTC hour.

- `quarantine`: of the bronze records ingested in the hour, the share silver quarantined is at most --max-share
  (default 5%). Above it something upstream broke (a bad deploy, an unannounced schema change), and gold should not
  be published from what is left: a failed gate exits 3, as the gates inside the jobs do.
- `freshness`: the hour's gold is complete and published. Every silver event that occurred in the hour is counted
  in gold.merchant_hourly, and no configured sink has an unpublished change of that hour (hourly tables) or of its
  date (daily tables). A stale hour exits 1 with what is missing.
Spark-submit: `spark-submit jobs/hour_checks.py freshness --date D --hour H`.
"""

from __future__ import annotations

import sys

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from jobs import publish, silver
from jobs.runtime.arguments import JobArgumentParser, Slice, parse_date, parse_hour
from jobs.runtime.commands import command_parser
from jobs.runtime.exits import QualityGateFailed, run_entry
from jobs.runtime.session import spark_session
from jobs.runtime.settings import Settings, UsageError, settings_from
from jobs.sinks import SINKS
from jobs.storage.delta import ensure_tables, read_change_feed, read_table, single_row, table_version
from jobs.storage.publish_progress import last_published
from jobs.storage.tables import BRONZE_EVENTS, MERCHANT_HOURLY, QUARANTINE, SILVER_EVENTS

CHECKS = ("quarantine", "freshness")


class StaleHour(RuntimeError):
    """An hour whose gold is incomplete or not yet published everywhere."""


def quarantine_share(spark: SparkSession, settings: Settings, hour: Slice) -> tuple[int, int]:
    """(records quarantined, records landed) among the bronze records ingested in the hour."""
    landed = silver.bronze_slice(spark, settings, hour).count()
    quarantined = read_table(spark, settings, QUARANTINE.name).filter(silver.ingested_in(hour)).count()
    return quarantined, landed


def check_quarantine(spark: SparkSession, settings: Settings, hour: Slice, max_share: float) -> str:
    quarantined, landed = quarantine_share(spark, settings, hour)
    share = quarantined / landed if landed else 0.0
    summary = (
        f"{quarantined:,} of {landed:,} records ingested in {hour} quarantined ({share:.2%}, at most {max_share:.2%})"
    )
    if share > max_share:
        raise QualityGateFailed(f"quarantine gate failed: {summary}; see `lakehouse quality --date {hour.day}`")
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
    parser.add_argument("--date", type=parse_date, required=True, help="UTC date of the hour (YYYY-MM-DD)")
    parser.add_argument("--hour", type=parse_hour, required=True, help="UTC hour, 0-23")
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
        hour = Slice(args.date, args.hour)
        with spark_session(settings, f"check {args.check}") as spark:
            ensure_tables(
                spark, settings, [BRONZE_EVENTS.name, SILVER_EVENTS.name, QUARANTINE.name, MERCHANT_HOURLY.name]
            )
            if args.check == "quarantine":
                print(f"check quarantine: ok: {check_quarantine(spark, settings, hour, args.max_share)}", flush=True)
            else:
                print(f"check freshness: ok: {check_freshness(spark, settings, hour)}", flush=True)

    return run_entry(f"lakehouse check {args.check}", work)


if __name__ == "__main__":
    sys.exit(main())
