"""Delta maintenance: compact the small files of closed days, and vacuum the files no reader can need any more.

`lakehouse maintain [--before D] [--days N] [--vacuum] [--retain-hours H]`. A continuous run commits a micro-batch
every few seconds, a small file per table and day each time: a day of it is tens of thousands of files, which every
reader then opens one by one.
- Compaction (Delta's OPTIMIZE, bin-packing) rewrites the small files of each table's closed days, the `--days` UTC
  dates before `--before` (default: today), into few large ones. It changes no row, and its commits say so
  (dataChange=false): the streams that follow bronze and silver, and the change feed that publishing reads, skip them.
  A day already compacted is left as it is, so a rerun rewrites nothing; a late event reopens its day with one file,
  which the next run compacts. Tables are partitioned by day, so a day is compacted once it has closed.
  `ops.publish_progress`, partitioned by sink and only ever appended to, is compacted whole.
- Vacuum (`--vacuum`, every hourly DAG run) deletes the files that left a table more than `--retain-hours` ago: at least
  RETENTION_HOURS, the longest window in which a reader needs a table as it was (see there). It reads Delta's log
  since the last vacuum (VACUUM LITE) instead of listing the table's folder, so its cost follows what changed.
Compaction rewrites files that silver's copy check and gold's merges read, and the commit that comes second of two
that touch the same files fails: maintenance runs when no other job writes (the DAGs give it both slots of the
writes pool, as the backfill has). Spark-submit: `spark-submit jobs/maintain.py --vacuum`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from delta.tables import DeltaTable
from pyspark.errors import PySparkException
from pyspark.sql import SparkSession

from jobs.runtime.arguments import JobArgumentParser, parse_date, positive_int
from jobs.runtime.commands import command_parser
from jobs.runtime.exits import run_entry
from jobs.runtime.session import spark_session
from jobs.runtime.settings import Settings, UsageError, settings_from
from jobs.storage.delta import ensure_tables, single_row, sql_literal
from jobs.storage.tables import TABLES, TableSpec

# Seven days, the longest window in which a reader needs files a table no longer holds: a stream query (silver
# after bronze, gold after silver) or a publish (gold's change feed) stopped for up to the source stream's retention
# of seven days restarts from versions that old, and a bad backfill can be undone by restoring the version before it
# (RESTORE, time travel) for a week. Past it, the fix is a backfill from bronze, which needs no old version.
RETENTION_HOURS = 7 * 24
CLOSED_DAYS = 3  # how far back a run looks: late events reopen recent days; older ones stay compacted


@dataclass(frozen=True)
class TableMaintenance:
    """What maintenance did to one table: files before and after, what compaction removed and added, what vacuum
    deleted from storage (None when it did not run)."""

    table: str
    files_before: int
    files_after: int
    files_removed: int
    files_added: int
    files_vacuumed: int | None = None

    def line(self) -> str:
        line = (
            f"maintain  {self.table:<35}files {self.files_before:>7,} -> {self.files_after:>7,}"
            f"  (compacted {self.files_removed:,} into {self.files_added:,})"
        )
        return line if self.files_vacuumed is None else f"{line}  vacuumed {self.files_vacuumed:,}"


def closed_days_predicate(spec: TableSpec, before: date, days: int) -> str | None:
    """The partitions of `spec` that compaction may rewrite: its `days` dates before `before`, or the whole table
    (None) when it is not partitioned by date."""
    if dict(spec.columns)[spec.partitioned_by] != "date":
        return None
    first = before - timedelta(days=days)
    last = before - timedelta(days=1)
    return f"{spec.partitioned_by} BETWEEN {sql_literal(first)} AND {sql_literal(last)}"


def file_count(spark: SparkSession, path: str) -> int:
    """The data files of the table's current version (from the log, no listing)."""
    return int(single_row(spark.sql(f"DESCRIBE DETAIL delta.`{path}`"))["numFiles"])


def compact(spark: SparkSession, path: str, where: str | None) -> tuple[int, int]:
    """Bin-pack the small files of the partitions matching `where` (all when None); returns (removed, added)."""
    statement = f"OPTIMIZE delta.`{path}`" + (f" WHERE {where}" if where else "")
    metrics = single_row(spark.sql(statement))["metrics"]
    return int(metrics["numFilesRemoved"]), int(metrics["numFilesAdded"])


def vacuum(spark: SparkSession, path: str, retain_hours: int) -> int:
    """Delete the files that left the table more than `retain_hours` ago; returns how many. LITE reads the log since
    the last vacuum; when the log no longer reaches back that far (its own retention), a full vacuum lists the
    folder once and the next one is LITE again."""
    try:
        spark.sql(f"VACUUM delta.`{path}` LITE RETAIN {retain_hours} HOURS")
    except PySparkException as error:
        if "VACUUM_LITE" not in str(error).upper():
            raise
        spark.sql(f"VACUUM delta.`{path}` RETAIN {retain_hours} HOURS")
    return files_deleted_by_last_vacuum(spark, path)


def files_deleted_by_last_vacuum(spark: SparkSession, path: str) -> int:
    """numDeletedFiles of the table's latest VACUUM END commit (Delta logs a vacuum as a START and an END commit)."""
    history = DeltaTable.forPath(spark, path).history(2).filter("operation = 'VACUUM END'").collect()
    return int((history[0]["operationMetrics"] or {}).get("numDeletedFiles", 0)) if history else 0


def maintain(
    spark: SparkSession,
    settings: Settings,
    before: date,
    days: int = CLOSED_DAYS,
    retain_hours: int | None = None,
    tables: list[str] | None = None,
) -> list[TableMaintenance]:
    """Compact the closed days of every table (or of `tables`), then vacuum them when `retain_hours` is given;
    a line per table as it is done."""
    names = tables or list(TABLES)
    ensure_tables(spark, settings, names)
    done = []
    for name in names:
        path = settings.table_path(name)
        files_before = file_count(spark, path)
        removed, added = compact(spark, path, closed_days_predicate(TABLES[name], before, days))
        vacuumed = None if retain_hours is None else vacuum(spark, path, retain_hours)
        outcome = TableMaintenance(name, files_before, file_count(spark, path), removed, added, vacuumed)
        print(outcome.line(), flush=True)
        done.append(outcome)
    return done


def build_parser() -> JobArgumentParser:
    parser = command_parser("maintain", __doc__)
    parser.add_argument(
        "--before", type=parse_date, help="the first UTC date still open (default today): the days before it are closed"
    )
    parser.add_argument(
        "--days", type=positive_int, default=CLOSED_DAYS, help=f"closed days to compact (default {CLOSED_DAYS})"
    )
    parser.add_argument("--vacuum", action="store_true", help="also delete the files past the retention")
    parser.add_argument(
        "--retain-hours",
        type=positive_int,
        default=RETENTION_HOURS,
        help=f"keep the files a table left within this many hours (default and least {RETENTION_HOURS})",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def work() -> None:
        if args.retain_hours < RETENTION_HOURS:
            raise UsageError(
                f"--retain-hours {args.retain_hours} is under {RETENTION_HOURS}: a stopped stream or publish, or an "
                "undo of a backfill, could then need files that are gone"
            )
        settings = settings_from(args)
        before = args.before or datetime.now(UTC).date()
        with spark_session(settings, "maintain") as spark:
            done = maintain(spark, settings, before, args.days, args.retain_hours if args.vacuum else None)
            before_total, after_total = sum(t.files_before for t in done), sum(t.files_after for t in done)
            print(f"maintain: {len(done)} tables, {before_total:,} files -> {after_total:,}", flush=True)

    return run_entry("lakehouse maintain", work)


if __name__ == "__main__":
    sys.exit(main())
