"""A file of over 2 GiB lands in bronze with the default settings (driver memory included), every line once under
its own line number. Read whole, such a file cannot even be held: it is past Java's largest array."""

from __future__ import annotations

import os
import subprocess
import sys

from pyspark.sql import functions as F

from jobs.devtools.generate import write_big_file
from jobs.storage.delta import read_table

GIB = 1 << 30


def test_a_file_over_2_gib_lands_in_bronze_with_the_default_memory(spark, settings, tmp_path):
    landing = tmp_path / "landing"
    lines = write_big_file(landing / "big.jsonl", 2 * GIB + 1)
    # A `lakehouse bronze` of its own, on the defaults: not the test session's Spark, whose settings are the tests'.
    env = {name: value for name, value in os.environ.items() if not name.startswith("LAKEHOUSE_")}
    command = [
        *(sys.executable, "-m", "jobs.cli", "bronze", "--source", f"files:{landing}"),
        *("--warehouse", settings.warehouse, "--checkpoints", settings.checkpoints),
    ]
    try:
        run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, check=False)
        assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]

        position = F.col("source_position")
        landed = read_table(spark, settings, "bronze.events").select(
            F.regexp_extract(position, r":([0-9]+)$", 1).cast("long").alias("line"),
            F.regexp_extract(position, r"^(.*):[0-9]+$", 1).alias("file"),
        )
        summary = landed.agg(
            F.count("*").alias("rows"),
            F.countDistinct("line").alias("lines"),
            F.min("line").alias("first"),
            F.max("line").alias("last"),
            F.countDistinct("file").alias("files"),
        ).first()
        assert summary is not None
        assert summary.asDict() == {"rows": lines, "lines": lines, "first": 1, "last": lines, "files": 1}
    finally:
        (landing / "big.jsonl").unlink()
