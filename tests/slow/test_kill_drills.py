"""Kill drills: SIGKILL of the continuously running pipeline (driver and JVM) at a random moment loses and doubles
nothing once it restarts from its checkpoints: from Kafka with the warehouse and checkpoints on S3 (the local S3
server), and from Kinesis on the local disk. One kill per source here (a cold JVM
costs about a minute on these two cores); `make chaos` runs twenty."""

from __future__ import annotations

import os
import random
from collections import Counter
from dataclasses import replace

import pytest

from jobs import pipeline
from jobs.devtools.chaos import accepted_ids_via_files, kill_after_progress
from jobs.devtools.produce import KafkaSink, KinesisSink, send_all
from jobs.services import kafka, kinesis
from jobs.sources import KafkaSource, KinesisSource, parse_source
from jobs.storage.delta import read_table
from testkit.lakehouses import on_s3
from testkit.streams import assert_landed_exactly_once, some_records


@pytest.mark.kill
@pytest.mark.parametrize("kind", ["kafka-on-s3", "kinesis"])
def test_sigkill_of_the_driver_loses_nothing_and_doubles_nothing(kind, spark, settings, tmp_path, request):
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    records = some_records(4000, seed=41)
    settings = replace(settings, master="local[2]")
    if kind == "kafka-on-s3":
        request.getfixturevalue("s3_service")  # its endpoint and identity reach the killed run through the environment
        settings = on_s3(settings, f"killed-{seed}")
        bootstrap = request.getfixturevalue("kafka_service")
        kafka.create_topic("killed", 3, servers=bootstrap)
        sink, source_text = KafkaSink(KafkaSource(bootstrap, "killed")), f"kafka:{bootstrap}/killed"
    else:
        kinesis.create_stream("killed", 3, url=request.getfixturevalue("kinesis_service"))
        sink, source_text = KinesisSink(KinesisSource("killed")), "kinesis:killed"
    env = {
        **os.environ,
        "LAKEHOUSE_SHUFFLE_PARTITIONS": "1",
        "LAKEHOUSE_DRIVER_MEMORY": "1g",
        # The client compiler only: the killed JVM lives well under a minute (as the DAG run's tasks).
        "JDK_JAVA_OPTIONS": "-XX:TieredStopAtLevel=1",
    }

    send_all(sink, [records])  # all of them before the run: work to be killed in
    killed = kill_after_progress(source_text, settings, rng, env)
    # The restart that drains what is left, from the killed run's checkpoints, in this process's Spark.
    pipeline.run(spark, settings, parse_source(source_text))

    print(f"{kind}: killed {killed} (first table to commit, seconds after it; seed {seed})")
    expected = accepted_ids_via_files(spark, settings, records, tmp_path / "oracle")
    assert_landed_exactly_once(spark, settings, len(records), expected)
    landed = read_table(spark, settings, "bronze.events").select("payload").collect()
    assert Counter(row["payload"].encode() for row in landed) == Counter(records)
