"""Backfill: rebuild silver and gold for a range of dates from bronze, then republish what changed.

`lakehouse backfill --from D --to D [--stages silver,gold,publish]`, after a fix to validation or to a metric:
1. silver, one ingest date at a time: the bronze records ingested that day are validated with today's rules, and
   that day's quarantine and the silver events first accepted that day become exactly what they give, in one commit
   each. Copies of events that silver holds from other days are still dropped (an earlier copy replaces a later one).
2. gold: first its incremental run takes any rows step 1 only added (so it never takes them again); then, one
   event date at a time, every hour of the range's dates is recomputed from silver; with step 1, also the
   hours of other dates that hold events first accepted in the range (late events) or events step 1 removed or
   changed. `--stages gold` alone (a changed metric) recomputes the range's dates only.
3. publish: what gold changed goes to the configured sinks through the change feed, as after any run.
Nothing else is written. A backfill cut short is rerun as it is: every step replaces, none adds (one gap: an event
that step 1 removed from another date's hour, in a run stopped before step 2, is not found again by the rerun).
Incremental runs skip the commits a backfill makes (see storage.delta.follow_new_rows), so pause them meanwhile: both
write the same partitions, and the loser of a conflicting commit fails. Spark-submit: `spark-submit jobs/backfill.py`.
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from datetime import date, datetime

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs import gold, publish, silver
from jobs.runtime.arguments import JobArgumentParser, Slice, days, parse_date
from jobs.runtime.commands import command_parser
from jobs.runtime.exits import run_entry
from jobs.runtime.progress import StageReport
from jobs.runtime.session import spark_session
from jobs.runtime.settings import Settings, UsageError, settings_from
from jobs.storage.delta import (
    ensure_tables,
    is_in,
    read_table,
    read_table_version,
    replace_in_scope,
    replace_where,
    sql_literal,
    table_version,
)
from jobs.storage.tables import BATCH_HEALTH, BRONZE_EVENTS, GOLD_TABLES, QUARANTINE, SILVER_EVENTS
from jobs.transforms.contract import registry_of
from jobs.transforms.validation import quarantined_records

STAGES = ("silver", "gold", "publish")
# When an accepted copy (alias s) replaces the copy silver holds (alias t) from another ingest day: it came first.
REPLACES = "s.ingested_at < t.ingested_at"
MAX_DAYS = 366


def ingested_on(day: date) -> str:
    """Silver events (alias t) whose first accepted copy was ingested on `day`."""
    whole_day = Slice(day)
    return f"t.ingested_at >= {sql_literal(whole_day.start)} AND t.ingested_at < {sql_literal(whole_day.end)}"


def hours_by_date(dates: list[date], changed_hours: set[datetime]) -> dict[date, list[datetime]]:
    """Every hour of `dates` and the `changed_hours`, grouped by their date in time order."""
    grouped = defaultdict(set)
    for day in dates:
        grouped[day].update(Slice(day).hours())
    for hour in changed_hours:
        grouped[hour.date()].add(hour)
    return {day: sorted(grouped[day]) for day in sorted(grouped)}


def event_hours(events: DataFrame) -> set[datetime]:
    return set(gold.rows_per_hour(events))


def rebuild_silver_day(spark: SparkSession, settings: Settings, day: date, report: StageReport) -> set[datetime]:
    """Replace silver's events first accepted on `day` and its quarantine of `day` with what bronze's records of
    that day give today; returns the event hours gold must recompute for it: those of the events now first accepted
    that day, and those of events this removed or changed, copies from other days that it replaced included."""
    hours: set[datetime] = set()

    def replace_day(
        spark: SparkSession, settings: Settings, validated: DataFrame, accepted: DataFrame, _: set[date]
    ) -> int:
        replace_where(settings, QUARANTINE.name, quarantined_records(validated), is_in("ingest_date", [day]))
        version = table_version(spark, settings, SILVER_EVENTS.name)
        same_event = silver.copy_match(row["event_date"] for row in accepted.select("event_date").distinct().collect())
        # A copy accepted today that arrived before the one silver holds from another day replaces it: the hour
        # of the replaced copy loses the event.
        replaced_elsewhere = (
            read_table(spark, settings, SILVER_EVENTS.name)
            .alias("t")
            .filter(f"NOT ({ingested_on(day)})")
            .join(accepted.alias("s"), F.expr(f"{same_event} AND {REPLACES}"), "left_semi")
        )
        hours.update(event_hours(replaced_elsewhere))
        written = replace_in_scope(
            spark,
            settings,
            SILVER_EVENTS.name,
            accepted,
            match=same_event,
            scope=ingested_on(day),
            replaces=REPLACES,
        )
        before = read_table_version(spark, settings, SILVER_EVENTS.name, version).alias("t").filter(ingested_on(day))
        hours.update(event_hours(before.exceptAll(after_day(spark, settings, day))))
        return written

    records = read_table(spark, settings, BRONZE_EVENTS.name).filter(is_in("ingest_date", [day]))
    silver.process_records(spark, settings, records, report, f"backfill of records ingested {day}", replace_day)
    # Read from the table, not from this run's diff, so that a backfill rerun after a stop between its silver and
    # gold stages still recomputes the hours of the late events.
    return hours | event_hours(after_day(spark, settings, day))


def after_day(spark: SparkSession, settings: Settings, day: date) -> DataFrame:
    return read_table(spark, settings, SILVER_EVENTS.name).alias("t").filter(ingested_on(day))


def backfill(spark: SparkSession, settings: Settings, first: date, last: date, stages: list[str]) -> StageReport:
    """Run the chosen stages over the range, printing a line per day; returns the totals."""
    ensure_tables(
        spark, settings, [BRONZE_EVENTS.name, SILVER_EVENTS.name, QUARANTINE.name, *GOLD_TABLES, BATCH_HEALTH.name]
    )
    total = StageReport("backfill")
    range_days = days(first, last)
    changed_hours: set[datetime] = set()
    if "silver" in stages:
        for number, day in enumerate(range_days, 1):
            report = StageReport("silver")
            changed_hours |= rebuild_silver_day(spark, settings, day, report)
            progress(f"silver {day} ({number}/{len(range_days)}, records ingested that day)", report.finish())
            total.rows_in += report.rows_in
            total.add("silver events", report.rows_out)
    if "gold" in stages:
        if "silver" in stages:
            # Incremental gold skips silver's commits that changed or removed rows, but a commit of step 1 that only
            # added events (newly accepted ones) reaches it like any new rows. Taking them now moves its stream past
            # them, so it cannot add them again after the recompute below has counted them.
            caught_up = gold.run(spark, settings)
            progress("gold catch-up of silver's new rows", caught_up)
        gold_days = hours_by_date(range_days, changed_hours)
        for number, (day, hours) in enumerate(gold_days.items(), 1):
            report = StageReport("gold")
            gold.recompute_and_record(spark, settings, hours, 0, "backfill", report)
            progress(f"gold {day} ({number}/{len(gold_days)}, {len(hours)} event hours)", report.finish())
            total.add("gold dates", 1)
            total.add("gold rows", report.rows_out)
    if "publish" in stages:
        if settings.sinks:
            report = publish.run(spark, settings)
            progress(f"publish to {', '.join(settings.sinks)}", report)
            total.add("published", report.rows_out)
        else:
            print("backfill: publish skipped: no sinks configured (--sinks or LAKEHOUSE_SINKS)", flush=True)
    return total.finish()


def progress(step: str, report: StageReport) -> None:
    print(f"backfill: {step}: {report.line().strip()}", flush=True)


def parse_stages(text: str) -> list[str]:
    stages = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in stages if name not in STAGES]
    if unknown or not stages:
        raise UsageError(f"--stages takes a comma-separated list of {', '.join(STAGES)}, got {text!r}")
    if "silver" in stages and "gold" not in stages:
        # Incremental gold skips a backfill's silver commits: gold would keep counting what silver no longer holds.
        raise UsageError("--stages silver needs gold too: only the backfill recomputes the gold its silver changes")
    return stages


def build_parser() -> JobArgumentParser:
    parser = command_parser("backfill", __doc__)
    parser.add_argument("--from", dest="first", type=parse_date, required=True, help="first UTC date (YYYY-MM-DD)")
    parser.add_argument("--to", dest="last", type=parse_date, required=True, help="last UTC date, included")
    parser.add_argument(
        "--stages", default=",".join(STAGES), help=f"which of {','.join(STAGES)} to run (default all, in that order)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def work() -> None:
        settings = settings_from(args)
        stages = parse_stages(args.stages)
        if args.last < args.first:
            raise UsageError(f"--to {args.last} is before --from {args.first}")
        if (args.last - args.first).days + 1 > MAX_DAYS:
            raise UsageError(f"a backfill covers at most {MAX_DAYS} days; split {args.first} to {args.last}")
        registry_of(settings)
        with spark_session(settings, "backfill") as spark:
            started = time.monotonic()
            total = backfill(spark, settings, args.first, args.last, stages)
            rate = total.rows_in / max(time.monotonic() - started, 1e-9)
            print(f"backfill: {args.first} to {args.last} done; {rate:,.0f} bronze records/s", flush=True)
            total.print()

    return run_entry("lakehouse backfill", work)


if __name__ == "__main__":
    sys.exit(main())
