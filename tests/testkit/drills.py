"""The kill drill of the heavy tier, from Kafka (its warehouse on S3) and from Kinesis: the records are
sent, the continuous pipeline is SIGKILLed (driver and JVM) at a random moment, and a restart from its checkpoints
lands every record exactly once."""

from __future__ import annotations

import os
import random
from collections import Counter
from dataclasses import replace
from pathlib import Path

from pyspark.sql import SparkSession

from jobs import pipeline
from jobs.devtools.chaos import accepted_ids_via_files, kill_after_progress
from jobs.devtools.produce import KafkaSink, KinesisSink, send_all
from jobs.runtime.settings import Settings
from jobs.sources import parse_source
from jobs.storage.delta import read_table
from testkit.streams import assert_landed_exactly_once, some_records

KILLED_RUN_ENV = {
    "LAKEHOUSE_SHUFFLE_PARTITIONS": "1",
    "LAKEHOUSE_DRIVER_MEMORY": "1g",
    # The client compiler only: the killed JVM lives well under a minute (as the DAG run's tasks).
    "JDK_JAVA_OPTIONS": "-XX:TieredStopAtLevel=1",
}


def sigkill_drill(
    spark: SparkSession, settings: Settings, sink: KafkaSink | KinesisSink, source_text: str, oracle: Path
) -> None:
    seed = random.randrange(1_000_000)
    records = some_records(4000, seed=41)
    settings = replace(settings, master="local[2]")
    env = {**os.environ, **KILLED_RUN_ENV}

    send_all(sink, [records])  # all of them before the run: work to be killed in
    killed = kill_after_progress(source_text, settings, random.Random(seed), env)
    # The restart that drains what is left, from the killed run's checkpoints, in this process's Spark.
    pipeline.run(spark, settings, parse_source(source_text))

    print(f"{source_text}: killed {killed} (first table to commit, seconds after it; seed {seed})")
    expected = accepted_ids_via_files(spark, settings, records, oracle)
    assert_landed_exactly_once(spark, settings, len(records), expected)
    landed = read_table(spark, settings, "bronze.events").select("payload").collect()
    assert Counter(row["payload"].encode() for row in landed) == Counter(records)
