"""Benchmark: land one big JSON Lines file in bronze with the default settings (driver memory included), then check
that every line landed once under its own line number. Prints the seconds, records/s, MB/s and the JVM's peak memory.

    make bench-big-file                                   (one 2 GiB file)
    .venv/bin/python scripts/big_file.py --gib 0.5
    .venv/bin/python scripts/big_file.py --landing demo/landing    (bronze over an existing folder instead)

The big file is synthetic events repeated (copies do not matter to bronze), written once under bench/ and reused.
A script that prints measured figures, not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from pyspark.sql import functions as F

from jobs import bronze
from jobs.devtools.generate import write_big_file
from jobs.runtime.session import build_session, jvm_peak_rss_mib
from jobs.runtime.settings import settings_from
from jobs.sources import FileSource
from jobs.storage.delta import read_table

GIB = 1 << 30


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=2.0, help="size of the big file (default 2)")
    parser.add_argument("--landing", help="land this folder instead of a big file")
    parser.add_argument("--dir", default="bench")
    args = parser.parse_args()

    root = Path(args.dir).resolve()
    landing = Path(args.landing).resolve() if args.landing else root / f"big-file-{args.gib:g}gib"
    if not landing.is_dir():
        started = time.monotonic()
        write_big_file(landing / "big.jsonl", int(args.gib * GIB))
        print(f"wrote {landing / 'big.jsonl'} in {time.monotonic() - started:.1f} s")
    files = sorted(path for path in landing.iterdir() if not path.name.startswith((".", "_")))
    size = sum(path.stat().st_size for path in files)
    lines = sum(path.read_bytes().count(b"\n") for path in files)  # every file here ends with a newline
    shutil.rmtree(root / "big-file-warehouse", ignore_errors=True)
    shutil.rmtree(root / "big-file-checkpoints", ignore_errors=True)

    namespace = argparse.Namespace(
        warehouse=str(root / "big-file-warehouse"),
        checkpoints=str(root / "big-file-checkpoints"),
        source=None,
        master=None,
    )
    settings = settings_from(namespace)
    spark = build_session(settings, "bench-big-file")
    print(
        f"{len(files)} file(s), {size / 1e6:,.0f} MB, {lines:,} lines in {landing}; Spark master {settings.master}, "
        f"driver memory {settings.driver_memory}"
    )
    report = bronze.run(spark, settings, FileSource(str(landing)))
    print(
        f"bronze {report.seconds:7.1f} s  {lines / report.seconds:>10,.0f} records/s  "
        f"{size / 1e6 / report.seconds:6.1f} MB/s  ({report.line()})"
    )
    started = time.monotonic()
    position = F.col("source_position")
    positions = read_table(spark, settings, "bronze.events").select(
        F.regexp_extract(position, r"^(.*):[0-9]+$", 1).alias("file"),
        F.regexp_extract(position, r":([0-9]+)$", 1).cast("long").alias("line"),
    )
    check = positions.groupBy("file").agg(
        F.count("*").alias("rows"), F.countDistinct("line").alias("lines"), F.min("line"), F.max("line")
    )
    landed = {row["file"]: row for row in check.collect()}
    whole = all(row["rows"] == row["lines"] == row["max(line)"] and row["min(line)"] == 1 for row in landed.values())
    print(
        f"check  {time.monotonic() - started:7.1f} s  {sum(row['rows'] for row in landed.values()):,} rows landed of "
        f"{lines:,} lines; every file's lines numbered 1..n once: {'yes' if whole else 'NO'}"
    )
    print(f"peak memory: Spark JVM {jvm_peak_rss_mib(spark):,.0f} MiB (driver memory {settings.driver_memory})")
    spark.stop()


if __name__ == "__main__":
    main()
