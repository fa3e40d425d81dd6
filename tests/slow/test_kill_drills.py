"""Kill drills: SIGKILL of the continuously running pipeline (driver and JVM) at random moments loses and doubles
nothing, from Kafka and from Kinesis."""

from __future__ import annotations

import os
import random
from collections import Counter
from dataclasses import replace

import pytest
from testkit.streams import assert_landed_exactly_once, some_records

from jobs.devtools.chaos import accepted_ids_via_files, drain, kill_after_progress
from jobs.devtools.produce import KafkaSink, KinesisSink, send_all
from jobs.services import kafka, kinesis
from jobs.sources import KafkaSource, KinesisSource
from jobs.storage.delta import read_table


@pytest.mark.kill
@pytest.mark.parametrize("kind", ["kafka", "kinesis"])
def test_sigkill_of_the_driver_loses_nothing_and_doubles_nothing(kind, spark, settings, tmp_path, request):
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    records = some_records(6000, seed=41)
    settings = replace(settings, master="local[2]")
    if kind == "kafka":
        bootstrap = request.getfixturevalue("kafka_service")
        kafka.create_topic("killed", 3, servers=bootstrap)
        sink, source_text = KafkaSink(KafkaSource(bootstrap, "killed")), f"kafka:{bootstrap}/killed"
    else:
        kinesis.create_stream("killed", 3, url=request.getfixturevalue("kinesis_service"))
        sink, source_text = KinesisSink(KinesisSource("killed")), "kinesis:killed"
    env = {**os.environ, "LAKEHOUSE_SHUFFLE_PARTITIONS": "2", "LAKEHOUSE_DRIVER_MEMORY": "1g"}

    kills = []
    third = -(-len(records) // 3)
    for first in range(0, len(records), third):  # a third of the records before each run: work to be killed in
        send_all(sink, [records[first : first + third]])
        kills.append(kill_after_progress(source_text, settings, rng, env))
    drain(source_text, settings, env)

    print(f"{kind}: killed {kills} (first table to commit, seconds after it; seed {seed})")
    expected = accepted_ids_via_files(spark, settings, records, tmp_path / "oracle")
    assert_landed_exactly_once(spark, settings, len(records), expected)
    landed = read_table(spark, settings, "bronze.events").select("payload").collect()
    assert Counter(row["payload"].encode() for row in landed) == Counter(records)
