"""`lakehouse publish`: gold to the configured sinks, exactly what gold recomputed since the sink's last publish.

For each sink and gold table, ops.publish_progress holds the last table version the sink acknowledged. A publish
reads Delta's change data feed of the versions after it: the latest state of every changed row is written (a record
with the same key replaces the old one) and every row gold no longer has is deleted. Only when all of it was
acknowledged is the new version recorded, so after a sink outage the same changes are published by the next run.
`--date D [--hour H]` republishes every row of that slice on demand. Spark-submit: `spark-submit jobs/publish.py`.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import replace

from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.runtime.arguments import Slice, slice_from
from jobs.runtime.commands import command_parser
from jobs.runtime.exits import JOB_ERRORS, first_line, run_entry
from jobs.runtime.progress import StageReport
from jobs.runtime.session import spark_session
from jobs.runtime.settings import Settings, UsageError, settings_from
from jobs.sinks import SINKS, Sink
from jobs.storage.delta import ensure_tables, is_in, read_change_feed, read_table, table_version
from jobs.storage.publish_progress import last_published, record_progress
from jobs.storage.tables import PUBLISH_PROGRESS
from jobs.transforms.changes import WRITTEN_CHANGES, latest_changes


def publish_changes(spark: SparkSession, settings: Settings, sink: Sink, table: str) -> tuple[int, int] | None:
    """Publish one table's changes since the sink's last acknowledged version; (records written, records
    deleted), or None when there was nothing new."""
    current = table_version(spark, settings, table)
    last = last_published(spark, settings, sink.name, table)
    if last is not None and last >= current:
        return None
    rows, gone, latest, sweep = read_table(spark, settings, table), None, None, False
    if last is not None:
        try:
            key, columns = sink.targets[table].key, rows.columns
            latest = latest_changes(read_change_feed(spark, settings, table, last + 1, current), key).persist()
            latest.count()  # reads the feed now, so a feed that no longer covers those versions fails here
            # The table's own columns: the feed's _change_type and _commit_* are not the sink's business.
            rows = latest.filter(F.col("_change_type").isin(*WRITTEN_CHANGES)).select(*columns)
            gone = latest.filter(~F.col("_change_type").isin(*WRITTEN_CHANGES)).select(*columns)
        except AnalysisException as error:
            # The feed no longer covers those versions (vacuumed, or written before the feed was on): publish the
            # whole table, which rewrites every record, then delete the records of rows gold no longer has.
            reason = str(error).splitlines()[0]
            print(
                f"publish: {sink.name}: {table}: no change feed after version {last} ({reason}); all rows, then a"
                " sweep of the records gold no longer has",
                flush=True,
            )
            rows, gone = read_table(spark, settings, table), None
            sweep = True
    try:
        written = sink.write(settings, table, rows)
        if sweep:
            gone = records_without_rows(sink.held_keys(spark, settings, table), rows, sink.targets[table].key)
        deleted = 0 if gone is None else sink.delete(settings, table, gone)
    finally:
        if latest is not None:
            latest.unpersist()
    record_progress(spark, settings, sink.name, table, current, written, deleted)
    return written, deleted


def records_without_rows(held: DataFrame, rows: DataFrame, key: tuple[str, ...]) -> DataFrame:
    """The keys of `held` that no row of `rows` has (null keys equal, as the sinks write them)."""
    matches = F.lit(True)
    for column in key:
        matches = matches & held[column].eqNullSafe(rows[column])
    return held.join(rows.select(*key), matches, "left_anti")


def slice_predicate(time_column: str, published_slice: Slice) -> str:
    if time_column == "date" or published_slice.hour is None:
        return is_in("date", [published_slice.day])
    return f"{is_in('date', [published_slice.day])} AND {is_in('hour_start', published_slice.hours())}"


def run(spark: SparkSession, settings: Settings, published_slice: Slice | None = None) -> StageReport:
    """Publish to each configured sink in turn; rows_in counts the tables that had something new for a sink,
    rows_out the records written."""
    report = StageReport("publish")
    if not settings.sinks:
        return report.finish()
    sinks = [SINKS[name] for name in settings.sinks]
    tables = list(dict.fromkeys(table for sink in sinks for table in sink.targets))
    ensure_tables(spark, settings, [*tables, PUBLISH_PROGRESS.name])
    for sink in sinks:
        sink.prepare(settings)
        for table, target in sink.targets.items():
            if published_slice is not None:
                rows = read_table(spark, settings, table).filter(slice_predicate(target.time, published_slice))
                written, deleted = sink.write(settings, table, rows), 0
            else:
                outcome = publish_changes(spark, settings, sink, table)
                if outcome is None:
                    continue
                written, deleted = outcome
                report.rows_in += 1
            report.rows_out += written
            report.add(f"{sink.name} written", written)
            report.add(f"{sink.name} deleted", deleted)
    return report.finish()


def run_continuously(spark: SparkSession, settings: Settings, interval_seconds: float, stop: threading.Event) -> None:
    """Publish what gold recomputed every `interval_seconds` until `stop` is set (`lakehouse run --trigger`).

    Each sink on its own: one that fails (down past its bounded wait) is reported once per outage and tried again
    every interval, its changes still pending, while the others go on and gold never waits for a sink."""
    failures: dict[str, int] = {}  # sink -> failed attempts in a row
    while not stop.wait(interval_seconds):
        for name in settings.sinks:
            try:
                report = run(spark, replace(settings, sinks=(name,)))
            except JOB_ERRORS as error:
                if stop.is_set():  # Spark is being stopped under this publish: the next run redoes it
                    return
                if name not in failures:
                    print(f"publish: {name} failed, its changes stay pending: {first_line(error)}", flush=True)
                failures[name] = failures.get(name, 0) + 1
                continue
            if name in failures:
                print(f"publish: {name} is back after {failures.pop(name)} failed attempts", flush=True)
            if report.rows_in:
                report.print()


def main(argv: list[str] | None = None) -> int:
    args = command_parser("publish", __doc__, slice_of="gold rows of events that occurred").parse_args(argv)

    def work() -> None:
        settings = settings_from(args)
        published_slice = slice_from(args)
        if not settings.sinks:
            raise UsageError("no sink to publish to: set --sinks influxdb,opensearch or LAKEHOUSE_SINKS")
        with spark_session(settings, "publish") as spark:
            run(spark, settings, published_slice).print()

    return run_entry("lakehouse publish", work)


if __name__ == "__main__":
    sys.exit(main())
