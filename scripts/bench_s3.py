"""Benchmark: the same events through bronze -> silver -> gold with warehouse and checkpoints on the local disk, then
on S3 (the local S3 server, s3proxy, through Hadoop's S3A), in one Spark session: seconds per stage, the ratio, and
the S3 requests each stage made, per operation, as the server counted them (s3proxy's metrics). A small run on the
local disk first warms the JVM, so that neither measured run pays for it.

    make bench-s3                       (500,000 events)
    .venv/bin/python scripts/bench_s3.py --events 2000000

A script that prints measured figures, not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from pyspark.sql import SparkSession

from bench import landing_of  # scripts/bench.py: the landing folders are shared
from jobs import bronze, gold, services, silver
from jobs.runtime.session import build_session
from jobs.runtime.settings import ServiceSettings, Settings, settings_from
from jobs.services.base import free_port
from jobs.services.s3 import BUCKET, S3Service
from jobs.sources import FileSource

STAGES = ("bronze", "silver", "gold")


def run_pipeline(
    spark: SparkSession, settings: Settings, landing: Path, requests: Callable[[], Counter[str]] | None
) -> dict[str, tuple[float, Counter[str]]]:
    """Seconds and S3 requests of each stage."""
    runs: dict[str, Callable] = {
        "bronze": lambda: bronze.run(spark, settings, FileSource(str(landing))),
        "silver": lambda: silver.run(spark, settings),
        "gold": lambda: gold.run(spark, settings),
    }
    measured = {}
    for stage in STAGES:
        before = requests() if requests else Counter()
        started = time.monotonic()
        runs[stage]()
        seconds = time.monotonic() - started
        measured[stage] = (seconds, (requests() - before) if requests else Counter())
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--hours", type=int, default=24)
    parser.add_argument("--dir", default="bench")
    args = parser.parse_args()

    root = Path(args.dir).resolve()
    landing = landing_of(root, args.events, args.hours)
    warm_up = landing_of(root, 20_000, 2)
    records = sum(1 for path in landing.glob("*.jsonl") for _ in path.open("rb"))
    for folder in ("s3-bench-local", "s3-bench-warm-up", "s3-bench-run"):
        shutil.rmtree(root / folder, ignore_errors=True)

    # A server of its own, on a free port, with its data under bench/: never the one `make services-up` started.
    own = ServiceSettings(run_dir=root / "s3-bench-run", port_overrides={"s3": free_port(span=2)})  # metrics: + 1
    services.up(["s3"], settings=own, quiet=True)
    [server] = services.select(["s3"], own)
    assert isinstance(server, S3Service)
    os.environ.update(server.exports())
    try:
        base = settings_from(argparse.Namespace(warehouse=None, checkpoints=None, source=None, master=None))
        local = replace(
            base, warehouse=str(root / "s3-bench-local/warehouse"), checkpoints=str(root / "s3-bench-local/checkpoints")
        )
        on_s3 = replace(
            base, warehouse=f"s3a://{BUCKET}/bench/warehouse", checkpoints=f"s3a://{BUCKET}/bench/checkpoints"
        )
        spark = build_session(base, "bench-s3")
        print(f"{records:,} records in {landing}; Spark master {base.master}, S3 at {server.url} (s3proxy)")
        warm = replace(
            base,
            warehouse=str(root / "s3-bench-warm-up/warehouse"),
            checkpoints=str(root / "s3-bench-warm-up/checkpoints"),
        )
        run_pipeline(spark, warm, warm_up, None)
        on_disk = run_pipeline(spark, local, landing, None)
        s3 = run_pipeline(spark, on_s3, landing, server.request_counts)
        stored = sum(path.stat().st_size for path in (server.data_dir / BUCKET).rglob("*") if path.is_file())

        print(f"\n{'stage':<8}{'local s':>9}{'S3 s':>9}{'S3/local':>10}{'S3 requests':>13}  by kind")
        for stage in STAGES:
            local_seconds, _ = on_disk[stage]
            s3_seconds, requests = s3[stage]
            kinds = ", ".join(f"{name} {count:,}" for name, count in requests.most_common())
            ratio = s3_seconds / local_seconds
            print(f"{stage:<8}{local_seconds:9.1f}{s3_seconds:9.1f}{ratio:10.2f}{requests.total():13,}  {kinds}")
        local_total = sum(seconds for seconds, _ in on_disk.values())
        s3_total = sum(seconds for seconds, _ in s3.values())
        print(
            f"{'total':<8}{local_total:9.1f}{s3_total:9.1f}{s3_total / local_total:10.2f}"
            f"{sum(requests.total() for _, requests in s3.values()):13,}"
        )
        print(
            f"\n{records / local_total:,.0f} records/s on the local disk, {records / s3_total:,.0f} on S3; "
            f"{stored / 2**20:,.0f} MiB stored in the bucket"
        )
        spark.stop()
    finally:
        services.down(["s3"], settings=own, quiet=True)


if __name__ == "__main__":
    main()
