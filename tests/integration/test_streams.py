"""Bronze from real streams: bad Kafka records are quarantined and none stops the stream; Kinesis reads closed
parents before their children after a reshard."""

from __future__ import annotations

import time

from pyspark.sql import functions as F

from jobs import bronze, silver
from jobs.devtools.chaos import accepted_ids_via_files
from jobs.devtools.produce import KafkaSink, KinesisSink, send_all
from jobs.runtime.streams import kinesis_client
from jobs.services import kafka, kinesis
from jobs.sources import KafkaSource, KinesisSource
from jobs.storage.delta import read_table
from testkit.streams import assert_landed_exactly_once, some_records

BAD_RECORDS = [
    b"\xff\xfe{not utf-8}",
    b"",
    b"not json at all",
    b"{" + b"x" * (1024 * 1024 - 300),  # about 1 MiB: with its partition key, the most a Kinesis record may carry
]


def test_kafka_bad_records_are_quarantined_and_none_stops_the_stream(spark, settings, kafka_service, tmp_path):
    topic = "bad-records"
    kafka.create_topic(topic, 2, servers=kafka_service)
    records = some_records(300, seed=21)
    sink = KafkaSink(KafkaSource(kafka_service, topic))
    sink.producer.produce(topic, None, key=b"m-tombstone")  # a tombstone: a record without a value
    send_all(sink, [records, BAD_RECORDS])
    source = KafkaSource(kafka_service, topic)

    bronze.run(spark, settings, source)
    silver.run(spark, settings)

    landed = read_table(spark, settings, "bronze.events")
    assert landed.filter(F.col("source") == "kafka").count() == 1 + len(records) + len(BAD_RECORDS)
    tombstone = read_table(spark, settings, "silver.quarantine").filter(F.col("payload").isNull()).collect()
    assert [row["reason"] for row in tombstone] == ["malformed_json"]
    assert landed.filter(~F.col("source_position").rlike(r"^bad-records-[01]-\d+$")).count() == 0
    quarantine = read_table(spark, settings, "silver.quarantine")
    bad = quarantine.filter(F.length("payload") > 1_000_000).union(
        quarantine.filter(F.col("payload").isin("", "not json at all") | ~F.is_valid_utf8("payload"))
    )
    assert {row["reason"] for row in bad.collect()} == {"malformed_json"}
    assert bad.count() == len(BAD_RECORDS)
    assert_landed_exactly_once(
        spark,
        settings,
        1 + len(records) + len(BAD_RECORDS),
        accepted_ids_via_files(spark, settings, records, tmp_path / "oracle"),
    )


def split_in_two(client, stream: str, shard: dict) -> None:
    low, high = (int(shard["HashKeyRange"][bound]) for bound in ("StartingHashKey", "EndingHashKey"))
    client.split_shard(StreamName=stream, ShardToSplit=shard["ShardId"], NewStartingHashKey=str((low + high) // 2))
    while client.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamStatus"] != "ACTIVE":
        time.sleep(0.05)


def test_kinesis_reads_closed_parents_then_their_children_after_a_reshard(spark, settings, kinesis_service, tmp_path):
    stream = "reshard"
    kinesis.create_stream(stream, 2, url=kinesis_service)
    client = kinesis_client()
    empty_parent, parent = sorted(client.list_shards(StreamName=stream)["Shards"], key=lambda s: s["ShardId"])[::-1]
    split_in_two(client, stream, empty_parent)  # closed before it got a single record
    first, second = some_records(400, seed=31), some_records(400, seed=32)
    send_all(KinesisSink(KinesisSource(stream)), [first, BAD_RECORDS])
    time.sleep(2)  # the other parent closes well after its last record
    split_in_two(client, stream, parent)
    send_all(KinesisSink(KinesisSource(stream)), [second])

    bronze.run(spark, settings, KinesisSource(stream))  # each closed parent to its end, then its children
    assert bronze.run(spark, settings, KinesisSource(stream)).rows_out == 0  # nothing new: nothing landed
    silver.run(spark, settings)

    landed_shards = {
        row["shard"]
        for row in read_table(spark, settings, "bronze.events")
        .select(F.substring_index("source_position", "-", 2).alias("shard"))
        .distinct()
        .collect()
    }
    all_shards = {shard["ShardId"] for shard in client.list_shards(StreamName=stream)["Shards"]}
    assert landed_shards == all_shards - {empty_parent["ShardId"]}
    sent = len(first) + len(BAD_RECORDS) + len(second)
    expected = accepted_ids_via_files(spark, settings, first + second, tmp_path / "oracle")
    assert_landed_exactly_once(spark, settings, sent, expected)
