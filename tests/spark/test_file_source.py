"""The files source reads files in splits and still numbers every line as it stands in its file."""

from __future__ import annotations

import json

import pytest
from pyspark.sql import functions as F

from jobs import bronze
from jobs.sources import FileSource
from jobs.storage.delta import read_table
from testkit.events import event


@pytest.fixture
def small_splits(spark):
    """Splits of 1 KiB, so that files of a few KiB are read in many splits, some of them packed together."""
    before = spark.conf.get("spark.sql.files.maxPartitionBytes")
    spark.conf.set("spark.sql.files.maxPartitionBytes", "1024")
    spark.conf.set("spark.sql.files.openCostInBytes", "16")
    yield
    spark.conf.set("spark.sql.files.maxPartitionBytes", before)
    spark.conf.unset("spark.sql.files.openCostInBytes")


def test_lines_of_files_read_in_splits_keep_their_line_numbers_and_bytes(spark, settings, tmp_path, small_splits):
    landing = tmp_path / "landing"
    landing.mkdir()
    files = {
        # Lines of every shape: copies of one event, empty lines, a '\r' kept as sent, a file without final newline.
        "a.jsonl": "".join(
            json.dumps(event(event_id=f"a-{n % 7}", session_id="s" * (n % 50))) + "\n" for n in range(90)
        ),
        "b.jsonl": "\n".join(["", json.dumps(event(event_id="b")) + "\r", "not json", "", "{}"]),
        "c.jsonl": json.dumps(event(event_id="c")) + "\n",
        "empty.jsonl": "",
    }
    for name, text in files.items():
        (landing / name).write_text(text)
    splits = spark.read.text(str(landing)).select("_metadata.file_path", "_metadata.file_block_start").distinct()
    assert splits.count() > 10

    landed = bronze.run(spark, settings, FileSource(str(landing)))

    expected = sorted(
        (f"{(landing / name).as_uri().replace('file:///', 'file:/')}:{number}", line)
        for name, text in files.items()
        for number, line in enumerate(text.removesuffix("\n").split("\n") if text else [], start=1)
    )
    rows = read_table(spark, settings, "bronze.events").select("source_position", "payload", "source").collect()
    assert sorted((row["source_position"], row["payload"]) for row in rows) == expected
    assert {row["source"] for row in rows} == {"files"}
    assert landed.rows_out == len(expected) == 90 + 5 + 1


def test_a_file_landed_in_splits_is_one_commit_that_a_rerun_does_not_repeat(spark, settings, tmp_path, small_splits):
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "a.jsonl").write_text("".join(json.dumps(event(event_id=f"a-{n}")) + "\n" for n in range(40)))
    bronze.run(spark, settings, FileSource(str(landing)))
    bronze.run(spark, settings, FileSource(str(landing)))

    table = read_table(spark, settings, "bronze.events")
    assert table.count() == 40
    assert table.select(F.countDistinct("ingested_at")).first()[0] == 1
