"""Table creation survives a crash in the middle of it; a table made before new columns gets them added, and a gold
table of 64-bit sums is converted to exact ones."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from delta.tables import DeltaTable

from jobs.runtime.settings import UsageError
from jobs.storage.delta import (
    UNFINISHED_CREATION_SECONDS,
    ensure_tables,
    read_change_feed,
    read_table,
    remove_unfinished_creation,
    table_version,
)
from jobs.storage.tables import TABLES
from jobs.transforms.changes import latest_changes


def test_a_creation_cut_short_by_a_crash_is_redone(spark, settings):
    # What a process killed inside CREATE TABLE leaves on a local disk: the log folder and a temporary file.
    log = Path(settings.table_path("gold.merchant_hourly"), "_delta_log")
    log.mkdir(parents=True)
    (log / ".00000000000000000000.json.4c1e.tmp").write_text("{")
    cut_short = time.time() - UNFINISHED_CREATION_SECONDS - 1
    os.utime(log, (cut_short, cut_short))

    ensure_tables(spark, settings, ["gold.merchant_hourly"])

    assert (log / "00000000000000000000.json").is_file()
    assert read_table(spark, settings, "gold.merchant_hourly").count() == 0


def test_a_table_with_commits_is_left_alone(spark, settings):
    ensure_tables(spark, settings, ["bronze.events"])
    bronze = settings.table_path("bronze.events")
    spark.sql(f"INSERT INTO delta.`{bronze}` VALUES ('{{}}', 'file', 'f:1', now(), current_date())")

    ensure_tables(spark, settings, ["bronze.events"])

    assert read_table(spark, settings, "bronze.events").count() == 1


def test_a_creation_under_way_in_another_process_is_left_to_finish(settings):
    log = Path(settings.table_path("gold.merchant_hourly"), "_delta_log")
    log.mkdir(parents=True)
    commit = log / "00000000000000000000.json"
    other_process = threading.Timer(1.0, commit.write_text, args=("{}",))
    other_process.start()

    remove_unfinished_creation(settings.table_path("gold.merchant_hourly"))

    other_process.join()
    assert commit.is_file()


def test_a_young_creation_that_never_commits_is_redone_once_it_is_old_enough(spark, settings):
    log = Path(settings.table_path("gold.merchant_hourly"), "_delta_log")
    log.mkdir(parents=True)
    almost_old_enough = time.time() - UNFINISHED_CREATION_SECONDS + 1
    os.utime(log, (almost_old_enough, almost_old_enough))

    ensure_tables(spark, settings, ["gold.merchant_hourly"])  # waits about a second for a commit, then redoes it

    assert (log / "00000000000000000000.json").is_file()
    assert read_table(spark, settings, "gold.merchant_hourly").count() == 0


def test_a_table_made_before_schema_version_2_gets_its_columns_and_keeps_its_rows(spark, settings):
    """What a warehouse of the version 1 days looks like: silver.events without channel, discount and tax."""
    path = settings.table_path("silver.events")
    old_columns = TABLES["silver.events"].ddl.split(", `channel`")[0]
    assert "channel" not in old_columns
    spark.sql(f"CREATE TABLE delta.`{path}` ({old_columns}) USING delta PARTITIONED BY (event_date)")
    spark.sql(
        f"INSERT INTO delta.`{path}` (event_id, event_type, merchant_id, event_date) "
        "VALUES ('e-1', 'page_view', 'm-1', DATE '2026-11-24')"
    )
    files_before = set(read_table(spark, settings, "silver.events").inputFiles())

    ensure_tables(spark, settings, ["silver.events"])
    version = table_version(spark, settings, "silver.events")
    ensure_tables(spark, settings, ["silver.events"])  # nothing left to add: no new commit

    silver = read_table(spark, settings, "silver.events")
    assert silver.columns[-3:] == ["channel", "discount_minor", "tax_minor"]
    assert silver.schema == spark.createDataFrame([], TABLES["silver.events"].ddl).schema
    [row] = silver.collect()
    assert (row["event_id"], row["channel"], row["discount_minor"], row["tax_minor"]) == ("e-1", None, None, None)
    assert set(silver.inputFiles()) == files_before  # a metadata-only change: no data file rewritten
    operations = [row["operation"] for row in DeltaTable.forPath(spark, path).history().orderBy("version").collect()]
    assert operations == ["CREATE TABLE", "WRITE", "ADD COLUMNS"], operations
    assert table_version(spark, settings, "silver.events") == version


def test_a_gold_table_of_64_bit_sums_is_converted_to_exact_sums_with_its_values(spark, settings):
    """What a warehouse of the days before exact sums looks like: gold.product_daily with bigint units and revenue."""
    path = settings.table_path("gold.product_daily")
    old_columns = TABLES["gold.product_daily"].ddl.replace("decimal(38,0)", "bigint")
    spark.sql(f"CREATE TABLE delta.`{path}` ({old_columns}) USING delta PARTITIONED BY (date)")
    spark.sql(f"ALTER TABLE delta.`{path}` SET TBLPROPERTIES (delta.enableChangeDataFeed = true)")
    spark.sql(
        f"INSERT INTO delta.`{path}` VALUES ('m-1', DATE '2026-11-24', 's-1', 'EUR', 'Mug', 3, {2**63 - 1}, NULL, NULL)"
    )
    before = table_version(spark, settings, "gold.product_daily")

    ensure_tables(spark, settings, ["gold.product_daily"])
    converted = table_version(spark, settings, "gold.product_daily")
    ensure_tables(spark, settings, ["gold.product_daily"])  # already converted: no new commit

    gold = read_table(spark, settings, "gold.product_daily")
    assert gold.schema == spark.createDataFrame([], TABLES["gold.product_daily"].ddl).schema
    [row] = gold.collect()
    assert (row["units"], row["revenue_minor"]) == (3, 2**63 - 1)
    assert table_version(spark, settings, "gold.product_daily") == converted == before + 1
    # Publishing reads the conversion as the row deleted and written again, and writes it: its value is unchanged.
    changes = read_change_feed(spark, settings, "gold.product_daily", before + 1, converted)
    [latest] = latest_changes(changes, TABLES["gold.product_daily"].key).collect()
    assert (latest["_change_type"], latest["revenue_minor"]) == ("insert", 2**63 - 1)


def test_a_silver_table_with_a_column_of_another_type_stops_with_what_differs(spark, settings):
    path = settings.table_path("silver.quarantine")
    old_columns = TABLES["silver.quarantine"].ddl.replace("`reason` string", "`reason` int")
    spark.sql(f"CREATE TABLE delta.`{path}` ({old_columns}) USING delta PARTITIONED BY (ingest_date)")
    with pytest.raises(UsageError, match=r"silver.quarantine at .* reason int -> string"):
        ensure_tables(spark, settings, ["silver.quarantine"])
