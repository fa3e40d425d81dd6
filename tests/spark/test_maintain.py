"""Maintenance compacts the small files of closed days without changing a row or waking a reader, a rerun rewrites
nothing, and vacuum keeps every version of the retention window readable."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from py4j.protocol import Py4JJavaError

from jobs import gold, maintain, silver
from jobs.storage.delta import ensure_tables, read_change_feed, read_table, read_table_version, table_version
from jobs.storage.tables import GOLD_TABLES, TABLES
from testkit import lakehouses

LAST_DAY = date(2026, 11, 23)  # the small lakehouse's events and landings end on it
FILES = 6  # files per table and day before compaction
FIRST_DAY = date(2026, 11, 20)  # the small lakehouse's first event day


def every_closed_day() -> dict:
    """`maintain`'s arguments that close every day of every table: bronze, quarantine and ops rows are dated by when
    the small lakehouse was built, so up to tomorrow, and back to the events' first day. Read at the call, not at
    import: a run that crosses midnight builds the lakehouse after the import's tomorrow has become today."""
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    return {"before": tomorrow, "days": (tomorrow - FIRST_DAY).days}


def rows(spark, settings, name: str) -> list:
    return sorted(read_table(spark, settings, name).collect(), key=repr)


def files_per_partition(spark, settings, name: str) -> dict:
    spec = TABLES[name]
    files = read_table(spark, settings, name).select(spec.partitioned_by, "_metadata.file_path").distinct()
    counted = files.groupBy(spec.partitioned_by).count()
    return {row[0]: row["count"] for row in counted.collect()}


def fragmented_copy(spark, small_lakehouse, root, settings, names: list[str]):
    """A copy of the small lakehouse whose tables `names` hold their rows in several small files per day, as a
    continuous run leaves them (each table rewritten once, as it is, from a few tasks)."""
    copied = lakehouses.copy_of(small_lakehouse, root, settings)
    ensure_tables(spark, copied, list(TABLES))
    for name in names:
        table = read_table(spark, copied, name).localCheckpoint().repartition(FILES)
        partition = TABLES[name].partitioned_by
        table.write.format("delta").mode("overwrite").partitionBy(partition).save(copied.table_path(name))
    return copied


@pytest.fixture
def fragmented(spark, small_lakehouse, tmp_path, settings):
    return fragmented_copy(spark, small_lakehouse, tmp_path, settings, list(TABLES))


@pytest.fixture
def fragmented_silver(spark, small_lakehouse, tmp_path, settings):
    return fragmented_copy(spark, small_lakehouse, tmp_path, settings, ["silver.events"])


def test_closed_days_are_compacted_to_one_file_each_with_the_same_rows_and_nothing_for_readers(spark, fragmented):
    before = {name: rows(spark, fragmented, name) for name in TABLES}
    gold_versions = {name: table_version(spark, fragmented, name) for name in GOLD_TABLES}
    assert max(files_per_partition(spark, fragmented, "silver.events").values()) == FILES

    done = maintain.maintain(spark, fragmented, **every_closed_day())

    by_table = {outcome.table: outcome for outcome in done}
    for name in ("bronze.events", "silver.events", "gold.merchant_hourly", "ops.batch_health"):
        assert by_table[name].files_after < by_table[name].files_before, by_table[name]
        assert set(files_per_partition(spark, fragmented, name).values()) == {1}, name
    assert {name: rows(spark, fragmented, name) for name in TABLES} == before
    # The compactions commit no data change: the streams and the change feed that publishing reads see nothing new.
    reports = [silver.run(spark, fragmented), gold.run(spark, fragmented)]
    assert [report.rows_in for report in reports] == [0, 0]
    for name, version in gold_versions.items():
        assert (
            read_change_feed(spark, fragmented, name, version + 1, table_version(spark, fragmented, name)).count() == 0
        )

    # A rerun finds nothing left to compact.
    again = maintain.maintain(spark, fragmented, **every_closed_day())
    assert [(o.files_removed, o.files_added) for o in again] == [(0, 0)] * len(TABLES)


def test_an_open_day_is_left_as_it_is(spark, fragmented_silver):
    open_files = files_per_partition(spark, fragmented_silver, "silver.events")[LAST_DAY - timedelta(days=1)]
    maintain.maintain(spark, fragmented_silver, before=LAST_DAY - timedelta(days=1), days=3, tables=["silver.events"])
    assert (
        files_per_partition(spark, fragmented_silver, "silver.events")[LAST_DAY - timedelta(days=1)] == open_files > 1
    )


def test_vacuum_keeps_the_retention_window_readable_and_deletes_what_left_before_it(spark, fragmented_silver):
    name = "silver.events"
    version = table_version(spark, fragmented_silver, name)
    old = sorted(read_table_version(spark, fragmented_silver, name, version).collect(), key=repr)
    maintain.maintain(spark, fragmented_silver, **every_closed_day(), tables=[name])

    # The default retention: the files the compaction replaced left minutes ago, so they stay, and so does the past.
    [kept] = maintain.maintain(
        spark, fragmented_silver, **every_closed_day(), tables=[name], retain_hours=maintain.RETENTION_HOURS
    )
    assert kept.files_vacuumed == 0
    assert sorted(read_table_version(spark, fragmented_silver, name, version).collect(), key=repr) == old

    # With no retention at all (which the command refuses, and Delta too unless told), the replaced files go: the
    # table reads the same, and only the version before the compaction is gone.
    spark.conf.set("spark.databricks.delta.retentionDurationCheck.enabled", "false")
    try:
        deleted = maintain.vacuum(spark, fragmented_silver.table_path(name), 0)
    finally:
        spark.conf.set("spark.databricks.delta.retentionDurationCheck.enabled", "true")
    assert deleted >= FILES
    assert rows(spark, fragmented_silver, name) == old
    with pytest.raises(Py4JJavaError, match="FILE_NOT_EXIST"):
        read_table_version(spark, fragmented_silver, name, version).collect()
