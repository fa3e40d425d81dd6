"""The lakehouse on S3: the same events through the same pipeline with warehouse and checkpoints on a real S3 server
(s3proxy on loopback, through Hadoop's S3A) give the same tables as on the local disk; quality results, the report
and a backfill run there too. Trino over these S3 tables: tests/integration/test_trino.py; a stream killed on S3:
tests/heavy/test_kafka_kill_drill_on_s3.py."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow.fs as pafs
import pytest
from pyspark.sql import functions as F

from jobs import backfill
from jobs.analysts import report
from jobs.quality import summary
from jobs.runtime.settings import Settings
from jobs.storage.delta import read_table
from jobs.storage.files import location
from jobs.storage.tables import BATCH_HEALTH, BRONZE_EVENTS, GOLD_TABLES, TABLES
from testkit.lakehouses import comparable_rows, on_s3

# Columns that hold the wall-clock time of the run (when a record was landed, a batch ran), which two runs cannot
# share; every other column must be equal.
RUN_TIME_COLUMNS = {
    "bronze.events": ["ingested_at", "ingest_date"],
    "silver.events": ["ingested_at"],
    "silver.quarantine": ["ingested_at", "ingest_date"],
    "gold.merchant_hourly": ["updated_at"],
    "gold.merchant_daily": ["updated_at"],
    "ops.batch_health": ["batch", "started_at", "seconds", "date", "lateness_max_seconds", "lateness_p95_seconds"],
}
WRITTEN = [name for name in TABLES if name != "ops.publish_progress"]  # written by a publish; no sinks here


def rows(spark, settings, table: str) -> list[str]:
    frame = read_table(spark, settings, table).drop(*RUN_TIME_COLUMNS.get(table, []))
    if "source_position" in frame.columns:  # file:<landing folder>/<file>:<line>: each run has its own folder
        frame = frame.withColumn("source_position", F.regexp_replace("source_position", "^.*/", ""))
    return comparable_rows(frame)


@pytest.mark.parametrize("table", WRITTEN)
def test_every_table_on_s3_equals_the_one_on_the_local_disk(spark, small_lakehouse, s3_lakehouse, table):
    on_s3 = rows(spark, s3_lakehouse.settings, table)
    assert on_s3 == rows(spark, small_lakehouse.settings, table)
    assert len(on_s3) > 0


def test_everything_is_written_to_the_s3_server_and_nothing_to_the_local_disk(s3_lakehouse, s3_service):
    stored = s3_service.data_dir / "lakehouse" / "small"
    for table in WRITTEN:
        assert (stored / "warehouse" / table.replace(".", "/") / "_delta_log" / "00000000000000000000.json").is_file()
    for query in ("bronze", "silver", "gold"):
        assert any((stored / "checkpoints" / query / "commits").iterdir()), query
    assert any((stored / "warehouse" / "_quality" / "results").rglob("*.json"))
    landing = s3_lakehouse.settings.source.removeprefix("files:")
    local_root = landing.rsplit("/", 1)[0]
    assert sorted(path.name for path in Path(local_root).iterdir()) == ["landing"]


def test_the_stage_reports_match_those_of_the_local_run(small_lakehouse, s3_lakehouse):
    def counts(lakehouse) -> list[tuple]:
        return [(r.stage, r.rows_in, r.rows_out, dict(r.details)) for r in lakehouse.reports]

    assert counts(s3_lakehouse) == counts(small_lakehouse)


@pytest.fixture(scope="module")
def s3_copy(s3_lakehouse, s3_service) -> Settings:
    """A copy of the S3 lakehouse, for the tests that write (the report creates tables that the run has not written;
    a backfill commits): the shared one stays as the run left it. Delta tables and checkpoints hold only relative
    paths, so copied objects are the same tables."""
    filesystem = s3_service.filesystem()
    pafs.copy_files("lakehouse/small", "lakehouse/small-copy", filesystem, filesystem)
    return on_s3(s3_lakehouse.settings, "small-copy")


def test_quality_results_and_the_report_are_read_from_s3(spark, s3_copy, mains_use_this_session, capsys):
    settings = s3_copy
    today = datetime.now(UTC).date().isoformat()
    lines = summary.summary_lines(settings, today)
    assert any(line.split()[:2] == ["silver.events", "1"] for line in lines), lines
    assert lines[-1] == f"data docs: {settings.warehouse}/_quality/docs/index.html"

    assert report.main(["--warehouse", settings.warehouse]) == 0
    printed = capsys.readouterr().out
    bronze_rows = read_table(spark, settings, BRONZE_EVENTS.name).count()
    assert f"{bronze_rows:,}" in printed


def test_a_backfill_on_s3_equals_its_incremental_runs(spark, s3_copy):
    settings = s3_copy
    tables = ["silver.events", "silver.quarantine", *GOLD_TABLES]
    before = {table: rows(spark, settings, table) for table in tables}
    days = read_table(spark, settings, BRONZE_EVENTS.name).agg(F.min("ingest_date"), F.max("ingest_date")).first()
    commits = read_table(spark, settings, BATCH_HEALTH.name).count()

    backfill.backfill(spark, settings, days[0], days[1], ["silver", "gold"])

    assert {table: rows(spark, settings, table) for table in tables} == before
    assert read_table(spark, settings, BATCH_HEALTH.name).count() > commits  # it did run, and recorded its batches


def test_a_location_on_s3_is_read_through_the_same_settings(s3_lakehouse):
    settings = s3_lakehouse.settings
    bronze_log = location(settings, settings.table_path(BRONZE_EVENTS.name)).child("_delta_log")
    assert bronze_log.is_dir()
    assert any(file.name == "00000000000000000000.json" for file in bronze_log.files(".json"))
    assert not location(settings, f"{settings.warehouse}/nothing").is_dir()
