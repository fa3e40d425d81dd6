"""Table creation survives a crash in the middle of it."""

from __future__ import annotations

import os
import time
from pathlib import Path

from jobs.tables import UNFINISHED_CREATION_SECONDS, ensure_tables, read_table, remove_unfinished_creation


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

    remove_unfinished_creation(settings.table_path("gold.merchant_hourly"))

    assert log.is_dir()
