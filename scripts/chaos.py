"""Chaos drill: SIGKILL the continuously running pipeline many times while events arrive, then count what was lost
and what was doubled.

    make chaos                                          (Kafka, 20 kills)
    .venv/bin/python scripts/chaos.py --stream kinesis --kills 5

Records are sent in slices, one slice before each restart, so kills land while data is arriving, being landed in
bronze and being processed by silver and gold. A script that prints figures, not a test.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from jobs import services
from jobs.devtools.chaos import accepted_ids_via_files, drain, kill_after_progress, what_landed
from jobs.devtools.produce import KafkaSink, KinesisSink, generated_records, send_all
from jobs.runtime.session import build_session
from jobs.runtime.settings import settings_from
from jobs.services import kafka, kinesis
from jobs.sources import KafkaSource, KinesisSource

NAME = "chaos"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stream", choices=["kafka", "kinesis"], default="kafka")
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--events", type=int, default=40_000)
    parser.add_argument("--seed", type=int, default=None, help="seed of the kill moments (default: random)")
    parser.add_argument("--dir", default="bench/chaos")
    args = parser.parse_args()

    seed = random.randrange(1_000_000) if args.seed is None else args.seed
    root = Path(args.dir).resolve()
    shutil.rmtree(root, ignore_errors=True)
    locations = {"warehouse": str(root / "warehouse"), "checkpoints": str(root / "checkpoints")}
    settings = settings_from(argparse.Namespace(**locations, source=None, master="local[2]"))
    services.up([args.stream], fresh=True)
    env = {**os.environ, **services.exports([args.stream])}
    os.environ.update(env)  # boto3 in this process and in Spark's Python workers finds the emulator
    if args.stream == "kafka":
        kafka.create_topic(NAME, partitions=4)
        bootstrap = kafka.bootstrap_servers()
        sink: KafkaSink | KinesisSink = KafkaSink(KafkaSource(bootstrap, NAME))
        source = f"kafka:{bootstrap}/{NAME}"
    else:
        kinesis.create_stream(NAME, shards=4)
        sink, source = KinesisSink(KinesisSource(NAME)), f"kinesis:{NAME}"

    start_hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    records = generated_records(args.events, seed=9, merchants=2_000, start=start_hour)
    slice_size = -(-len(records) // args.kills)
    rng = random.Random(seed)
    started = time.monotonic()
    for number, first in enumerate(range(0, len(records), slice_size), start=1):
        send_all(sink, [records[first : first + slice_size]])
        table, delay = kill_after_progress(source, settings, rng, env)
        print(f"kill {number:2d}/{args.kills}: {delay:3.1f} s after the run's first commit (to {table})", flush=True)
    drain(source, settings, env)
    print(f"{args.kills} kills and the draining run took {time.monotonic() - started:.0f} s (kill seed {seed})")

    spark = build_session(replace(settings, shuffle_partitions=2), "chaos-count")
    landing = what_landed(spark, settings)
    expected = accepted_ids_via_files(spark, settings, records, root / "oracle")
    spark.stop()
    lost, doubled = landing.lost_and_doubled(len(records))
    print(f"bronze: sent {len(records):,}, landed {landing.bronze_rows:,}: lost {lost}, doubled {doubled}")
    print(
        f"silver: expected {len(expected):,} events, holds {landing.silver_rows:,} rows of "
        f"{len(landing.silver_ids):,} ids: lost {len(expected - landing.silver_ids)}, "
        f"doubled {landing.silver_rows - len(landing.silver_ids)}, unexpected {len(landing.silver_ids - expected)}"
    )


if __name__ == "__main__":
    main()
