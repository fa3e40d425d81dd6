"""Replay quarantined records: re-validate them with today's rules and move the ones that now pass into silver.

The recovery path after an upstream bug, a validation fix or a new schema version. `lakehouse replay-quarantine
--from D --to D [--reason R]` takes the records quarantined (ingested) on those UTC dates that no replay has moved
yet, validates them with the current schema registry, and then, in this order:
1. inserts the events that now pass into silver.events (silver's insert-only MERGE on event_id: copies are still
   dropped, whether of each other or of events already in silver), after the silver quality gate;
2. runs gold's incremental catch-up, which merges those events (and any other new silver rows) into their gold
   hours and dates;
3. sets `replayed_at` on their quarantine rows, which keep their payload and original reason.
A replay cut short is rerun as it is: its marks come last, and steps 1 and 2 are idempotent. A second replay finds
nothing to move and writes nothing. Records that still fail stay in quarantine unmarked, for a later fix.
Spark-submit: `spark-submit jobs/replay.py --from D --to D`.
"""

from __future__ import annotations

import sys
from collections import Counter
from datetime import UTC, date, datetime

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs import gold
from jobs.quality import gate
from jobs.runtime.arguments import JobArgumentParser, days, parse_date
from jobs.runtime.commands import command_parser
from jobs.runtime.exits import run_entry
from jobs.runtime.progress import StageReport
from jobs.runtime.session import spark_session
from jobs.runtime.settings import Settings, UsageError, settings_from
from jobs.silver import add_events, first_copies, validated_records
from jobs.storage.batch_health import BatchHealth
from jobs.storage.batch_health import record as record_health
from jobs.storage.delta import ensure_tables, is_in, read_table, single_row
from jobs.storage.tables import BATCH_HEALTH, GOLD_TABLES, QUARANTINE, SILVER_EVENTS
from jobs.transforms.contract import registry_of

REPLAY_STAGE = "replay"


def pending_records(quarantine: DataFrame, dates: list[date], reason: str | None) -> DataFrame:
    """Quarantined records of these ingest dates (and this reason) that no replay has moved, in bronze's shape,
    their quarantine reason kept as `quarantined_for`."""
    pending = quarantine.filter(is_in("ingest_date", dates)).filter(F.col("replayed_at").isNull())
    if reason is not None:
        pending = pending.filter(F.col("reason") == reason)
    return pending.withColumnRenamed("reason", "quarantined_for").drop("replayed_at")


def mark_replayed(spark: SparkSession, settings: Settings, moved: DataFrame, dates: list[date]) -> int:
    """Set replayed_at on the quarantine rows of `moved` (ingest_date, source_position); returns how many."""
    table = DeltaTable.forPath(spark, settings.table_path(QUARANTINE.name)).alias("t")
    match = (
        f"t.{is_in('ingest_date', dates)} AND t.ingest_date = s.ingest_date "
        "AND t.source_position = s.source_position AND t.replayed_at IS NULL"
    )
    now = F.lit(datetime.now(UTC)).cast("timestamp")
    result = table.merge(moved.alias("s"), match).whenMatchedUpdate(set={"replayed_at": now}).execute()
    return int(single_row(result)["num_updated_rows"])


def replay(spark: SparkSession, settings: Settings, first: date, last: date, reason: str | None) -> StageReport:
    report = StageReport(REPLAY_STAGE)
    ensure_tables(spark, settings, [QUARANTINE.name, SILVER_EVENTS.name, *GOLD_TABLES, BATCH_HEALTH.name])
    dates = days(first, last)
    label = f"quarantine ingested {first} to {last}" + (f", reason {reason}" if reason else "")
    quarantine = read_table(spark, settings, QUARANTINE.name)
    validated = validated_records(settings, pending_records(quarantine, dates, reason)).persist()
    accepted = first_copies(validated).persist()
    health = BatchHealth(REPLAY_STAGE, label)
    try:
        tally = validated.groupBy("reason").count().collect()
        examined = sum(row["count"] for row in tally)
        still_failing = Counter({row["reason"]: row["count"] for row in tally if row["reason"] is not None})
        passing = examined - still_failing.total()
        print(f"{REPLAY_STAGE}: {label}: {examined:,} records to re-validate, {passing:,} now pass", flush=True)
        if examined == 0:
            report_unknown_reason(quarantine, dates, reason)
            return report.finish()
        if passing:
            gate.check(settings, SILVER_EVENTS.name, accepted, label)
            inserted = add_events(spark, settings, accepted)
            # Gold follows silver's new rows: its catch-up merges the moved events, and those of a replay cut short
            # after its insert, exactly once (its checkpoint and idempotent commits see to it).
            gold_report = gold.run(spark, settings)
            moved = validated.filter(F.col("reason").isNull()).select("ingest_date", "source_position")
            marked = mark_replayed(spark, settings, moved, dates)
            report.add("gold hours", gold_report.details.get("hours", 0))
            report.add("gold rows", gold_report.rows_out)
            report.add("marked replayed", marked)
        else:
            inserted = 0
        report.rows_in, report.rows_out = examined, inserted
        report.add("copies dropped", passing - inserted)
        report.add("still quarantined", still_failing.total())
        # `quarantined` stays empty: silver's own rows counted these records when it quarantined them.
        health.rows_in, health.rows_out, health.copies_dropped = examined, inserted, passing - inserted
        record_health(spark, settings, [health.finish()])
        if still_failing:
            reasons = ", ".join(f"{still} {count:,}" for still, count in still_failing.most_common())
            print(f"{REPLAY_STAGE}: still quarantined, by today's reason: {reasons}", flush=True)
        return report.finish()
    finally:
        accepted.unpersist()
        validated.unpersist()


def report_unknown_reason(quarantine: DataFrame, dates: list[date], reason: str | None) -> None:
    """When a --reason matched nothing, name the reasons that are pending on those dates."""
    if reason is None:
        return
    pending = pending_records(quarantine, dates, None).groupBy("quarantined_for").count().collect()
    found = ", ".join(f"{row['quarantined_for']} ({row['count']:,})" for row in sorted(pending, key=lambda r: -r[1]))
    print(f"{REPLAY_STAGE}: no pending record has reason {reason!r}; pending reasons: {found or 'none'}", flush=True)


def build_parser() -> JobArgumentParser:
    parser = command_parser("replay-quarantine", __doc__)
    parser.add_argument("--from", dest="first", type=parse_date, required=True, help="first ingest date (UTC)")
    parser.add_argument("--to", dest="last", type=parse_date, required=True, help="last ingest date (UTC)")
    parser.add_argument("--reason", help="only records quarantined for this reason, e.g. unsupported_schema_version")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def work() -> None:
        settings = settings_from(args)
        registry_of(settings)
        if args.last < args.first:
            raise UsageError(f"--to {args.last} is before --from {args.first}")
        with spark_session(settings, "replay-quarantine") as spark:
            replay(spark, settings, args.first, args.last, args.reason).print()

    return run_entry("lakehouse replay-quarantine", work)


if __name__ == "__main__":
    sys.exit(main())
