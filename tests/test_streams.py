"""Bronze from real streams: a KRaft Kafka broker and kinesalite, started by the services mechanism.

The oracle for silver is the files source, tested on its own against plain Python: the same records sent through a
stream must give the same silver events.
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from jobs import bronze, silver
from jobs.chaos import accepted_ids_via_files, drain, kill_repeatedly, what_landed
from jobs.produce import KafkaSink, KinesisSink, generated_records, send_all
from jobs.services import kafka, kinesis
from jobs.sources import KafkaSource, KinesisSource
from jobs.sources.kinesis import kinesis_client
from jobs.tables import read_table

pytestmark = pytest.mark.integration

BIN = Path(__file__).resolve().parent.parent / ".venv" / "bin"
BAD_RECORDS = [
    b"\xff\xfe{not utf-8}",
    b"",
    b"not json at all",
    b"{" + b"x" * (1024 * 1024 - 300),  # about 1 MiB: with its partition key, the most a Kinesis record may carry
]


def some_records(events: int, seed: int) -> list[bytes]:
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return generated_records(events, seed=seed, merchants=200, start=start)


def silver_ids_through_files(spark, settings, records: list[bytes], tmp_path: Path) -> set[str]:
    return accepted_ids_via_files(spark, settings, records, tmp_path / "oracle")


def assert_landed_exactly_once(spark, settings, sent: int, expected_ids: set[str]) -> None:
    landing = what_landed(spark, settings)
    assert landing.lost_and_doubled(sent) == (0, 0)
    assert landing.bronze_rows == sent
    assert landing.silver_rows == len(expected_ids)
    assert landing.silver_ids == expected_ids


def kafka_topic(bootstrap: str, name: str, partitions: int) -> str:
    kafka.create_topic(name, partitions, servers=bootstrap)
    return name


def kinesis_stream(endpoint: str, name: str, shards: int) -> str:
    kinesis.create_stream(name, shards, url=endpoint)
    return name


def test_kafka_bad_records_are_quarantined_and_none_stops_the_stream(spark, settings, kafka_service, tmp_path):
    topic = kafka_topic(kafka_service, "bad-records", 2)
    records = some_records(300, seed=21)
    send_all(KafkaSink(KafkaSource(kafka_service, topic)), [records, BAD_RECORDS])
    source = KafkaSource(kafka_service, topic)

    bronze.run(spark, settings, source)
    silver.run(spark, settings)

    landed = read_table(spark, settings, "bronze.events")
    assert landed.filter(F.col("source") == "kafka").count() == len(records) + len(BAD_RECORDS)
    assert landed.filter(~F.col("source_position").rlike(r"^bad-records-[01]-\d+$")).count() == 0
    quarantine = read_table(spark, settings, "silver.quarantine")
    bad = quarantine.filter(F.length("payload") > 1_000_000).union(
        quarantine.filter(F.col("payload").isin("", "not json at all") | ~F.is_valid_utf8("payload"))
    )
    assert {row["reason"] for row in bad.collect()} == {"malformed_json"}
    assert bad.count() == len(BAD_RECORDS)
    assert_landed_exactly_once(
        spark, settings, len(records) + len(BAD_RECORDS), silver_ids_through_files(spark, settings, records, tmp_path)
    )


def test_kinesis_reads_closed_parents_then_their_children_after_a_reshard(spark, settings, kinesis_service, tmp_path):
    stream = kinesis_stream(kinesis_service, "reshard", 2)
    first, second = some_records(400, seed=31), some_records(400, seed=32)
    send_all(KinesisSink(KinesisSource(stream)), [first, BAD_RECORDS])
    client = kinesis_client()
    parent = client.list_shards(StreamName=stream)["Shards"][0]
    middle = (int(parent["HashKeyRange"]["StartingHashKey"]) + int(parent["HashKeyRange"]["EndingHashKey"])) // 2
    client.split_shard(StreamName=stream, ShardToSplit=parent["ShardId"], NewStartingHashKey=str(middle))
    while client.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamStatus"] != "ACTIVE":
        time.sleep(0.05)
    send_all(KinesisSink(KinesisSource(stream)), [second])

    bronze.run(spark, settings, KinesisSource(stream))  # the closed parent to its end, then its children
    assert bronze.run(spark, settings, KinesisSource(stream)).rows_out == 0  # nothing new: nothing landed
    silver.run(spark, settings)

    landed_shards = {
        row["shard"]
        for row in read_table(spark, settings, "bronze.events")
        .select(F.substring_index("source_position", "-", 2).alias("shard"))
        .distinct()
        .collect()
    }
    assert landed_shards == {shard["ShardId"] for shard in client.list_shards(StreamName=stream)["Shards"]}
    sent = len(first) + len(BAD_RECORDS) + len(second)
    expected = silver_ids_through_files(spark, settings, first + second, tmp_path)
    assert_landed_exactly_once(spark, settings, sent, expected)


@pytest.mark.parametrize("kind", ["kafka", "kinesis"])
def test_sigkill_of_the_driver_loses_nothing_and_doubles_nothing(kind, spark, settings, tmp_path, request):
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    records = some_records(6000, seed=41)
    settings = replace(settings, master="local[2]")
    if kind == "kafka":
        bootstrap = request.getfixturevalue("kafka_service")
        source = KafkaSource(bootstrap, kafka_topic(bootstrap, "killed", 3))
        sink, source_text = KafkaSink(source), f"kafka:{bootstrap}/killed"
    else:
        endpoint = request.getfixturevalue("kinesis_service")
        source = KinesisSource(kinesis_stream(endpoint, "killed", 3))
        sink, source_text = KinesisSink(source), "kinesis:killed"
    # Small slices sent over time, so the kills land while records are still arriving and being processed.
    slices = [records[i : i + 500] for i in range(0, len(records), 500)]
    send_all(sink, slices[:4])
    env = {**os.environ, "LAKEHOUSE_SHUFFLE_PARTITIONS": "2", "LAKEHOUSE_DRIVER_MEMORY": "1g"}
    moments = kill_repeatedly(source_text, settings, kills=2, rng=rng, env=env)
    send_all(sink, slices[4:])
    moments += kill_repeatedly(source_text, settings, kills=1, rng=rng, env=env)
    drain(source_text, settings, env)

    expected = silver_ids_through_files(spark, settings, records, tmp_path)
    print(f"{kind}: killed at {moments} s after start (seed {seed})")
    assert_landed_exactly_once(spark, settings, len(records), expected)
