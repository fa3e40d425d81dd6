"""A Kinesis stream read as a Spark stream: a Python streaming data source over boto3, one partition per shard.

Offsets are kept per shard in the query's checkpoint: `{"shards": {shard_id: {"after": sequence number or null,
"done": bool}}}`. `after` is the last sequence number a batch covered (null: nothing read yet, start at the trim
horizon); `done` marks a shard that closed after a reshard and was read to its end. A child shard is read only after
its parents are done, so the records of one partition key stay in order across a reshard.

To fix a batch's end, the driver reads each shard forward from the last offset (at most `max_records_per_shard`) and
notes the last sequence number; each partition then reads its shard between the two sequence numbers again, so a
batch replayed after a crash holds exactly the same records. Region, endpoint and credentials come from the usual
AWS settings (AWS_REGION, AWS_ENDPOINT_URL_KINESIS, AWS_ACCESS_KEY_ID, ...), so an emulator is one variable away.
Throttling (ProvisionedThroughputExceeded) and other transient errors are retried by botocore's adaptive mode.
`source_position` is `<shard id>-<sequence number>`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.datasource import DataSource, DataSourceStreamReader, InputPartition

from jobs.runtime.streams import kinesis_client

SCHEMA = "data BINARY, shard_id STRING, sequence_number STRING"
GET_RECORDS_LIMIT = 10_000  # the most GetRecords returns in one call
DEFAULT_MAX_RECORDS_PER_SHARD = 200_000
MAX_EMPTY_PAGES_OF_CLOSED_SHARD = 25
READ_TO_THE_END = 2**62  # no record limit: a partition reads up to its end sequence number


def list_shards(client, stream: str) -> list[dict]:
    """Every shard of the stream, open or closed, oldest first."""
    shards, token = [], None
    while True:
        page = client.list_shards(NextToken=token) if token else client.list_shards(StreamName=stream)
        shards += page["Shards"]
        token = page.get("NextToken")
        if not token:
            return shards


def shard_iterator(client, stream: str, shard_id: str, after: str | None) -> str:
    if after is None:
        response = client.get_shard_iterator(StreamName=stream, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON")
    else:
        response = client.get_shard_iterator(
            StreamName=stream,
            ShardId=shard_id,
            ShardIteratorType="AFTER_SEQUENCE_NUMBER",
            StartingSequenceNumber=after,
        )
    return response["ShardIterator"]


@dataclass
class ShardPage:
    records: list[dict]
    closed_and_read: bool  # the shard is closed and nothing is left after these records
    caught_up: bool  # nothing newer is in the shard right now


def read_shard(
    client, stream: str, shard_id: str, after: str | None, limit: int, closed: bool = False
) -> Iterator[ShardPage]:
    """Pages of records after `after`, until the shard is caught up or `limit` records were returned. On a closed
    shard, empty pages are followed until Kinesis ends the iterator (at most MAX_EMPTY_PAGES_OF_CLOSED_SHARD), because
    only a null next iterator says that the shard was read to its end."""
    iterator = shard_iterator(client, stream, shard_id, after)
    returned = empty_pages = 0
    while iterator is not None and returned < limit:
        response = client.get_records(ShardIterator=iterator, Limit=min(GET_RECORDS_LIMIT, limit - returned))
        records = response["Records"]
        iterator = response.get("NextShardIterator")
        returned += len(records)
        empty_pages = 0 if records else empty_pages + 1
        caught_up = not records and response.get("MillisBehindLatest", 0) == 0
        yield ShardPage(records, closed_and_read=iterator is None, caught_up=caught_up)
        if caught_up and (not closed or empty_pages >= MAX_EMPTY_PAGES_OF_CLOSED_SHARD):
            return
        if closed and not records:
            time.sleep(0.2)  # GetRecords allows 5 calls a second per shard


@dataclass(frozen=True)
class ShardRange(InputPartition):
    """The records of one shard with sequence numbers in (after, last]."""

    stream: str
    shard_id: str
    after: str | None
    last: str


class KinesisStreamReader(DataSourceStreamReader):
    def __init__(self, stream: str, max_records_per_shard: int):
        self.stream = stream
        self.max_records_per_shard = max_records_per_shard
        self.position: dict | None = None  # where the next batch starts; learnt from Spark after a restart

    def initialOffset(self) -> dict:
        return {"shards": {}}

    def latestOffset(self) -> dict:
        start = self.position if self.position is not None else self.initialOffset()
        client = kinesis_client()
        shards = sorted(list_shards(client, self.stream), key=lambda shard: shard["ShardId"])  # parents first
        present = {shard["ShardId"] for shard in shards}
        end = {shard_id: dict(state) for shard_id, state in start["shards"].items()}

        def done(shard_id: str | None) -> bool:
            return end.get(shard_id, {}).get("done", False)

        for shard in shards:
            shard_id = shard["ShardId"]
            parents = {shard.get("ParentShardId"), shard.get("AdjacentParentShardId")} & present
            if done(shard_id) or not all(done(parent) for parent in parents):
                continue
            state = end.setdefault(shard_id, {"after": None, "done": False})
            closed = "EndingSequenceNumber" in shard["SequenceNumberRange"]
            pages = read_shard(client, self.stream, shard_id, state["after"], self.max_records_per_shard, closed)
            for page in pages:
                if page.records:
                    state["after"] = page.records[-1]["SequenceNumber"]
                state["done"] = page.closed_and_read
        self.position = {"shards": end}
        return self.position

    def partitions(self, start: dict, end: dict) -> list[ShardRange]:
        if self.position is None:
            self.position = end  # a restarted query plans its last logged batch first
        ranges = []
        for shard_id, state in end["shards"].items():
            after = start["shards"].get(shard_id, {"after": None})["after"]
            if state["after"] is not None and state["after"] != after:
                if after is not None and int(state["after"]) < int(after):
                    raise RuntimeError(f"Kinesis offsets went back on shard {shard_id}: {after} -> {state['after']}")
                ranges.append(ShardRange(self.stream, shard_id, after, state["after"]))
        return ranges

    def read(self, partition: InputPartition) -> Iterator[tuple]:
        assert isinstance(partition, ShardRange)
        client = kinesis_client()
        last = int(partition.last)
        for page in read_shard(client, partition.stream, partition.shard_id, partition.after, READ_TO_THE_END):
            for record in page.records:
                sequence = record["SequenceNumber"]
                if int(sequence) > last:
                    return
                yield (record["Data"], partition.shard_id, sequence)
                if int(sequence) == last:
                    return
            if page.caught_up or page.closed_and_read:
                raise RuntimeError(
                    f"Kinesis shard {partition.shard_id} ended before sequence number {partition.last}: "
                    "records were trimmed (retention) or the stream was recreated"
                )

    def commit(self, end: dict) -> None:
        if self.position is None:
            self.position = end


class KinesisDataSource(DataSource):
    """`spark.readStream.format("kinesis").option("stream", name).load()`; option `max_records_per_shard` bounds
    one micro-batch."""

    @classmethod
    def name(cls) -> str:
        return "kinesis"

    def schema(self) -> str:
        return SCHEMA

    def streamReader(self, schema) -> KinesisStreamReader:
        limit = int(self.options.get("max_records_per_shard", DEFAULT_MAX_RECORDS_PER_SHARD))
        return KinesisStreamReader(self.options["stream"], limit)


def records_of_kinesis(records: DataFrame) -> DataFrame:
    """Kinesis records -> payload, source, source_position; the data's bytes are kept as they are."""
    return records.select(
        F.col("data").cast("string").alias("payload"),
        F.lit("kinesis").alias("source"),
        F.concat_ws("-", "shard_id", "sequence_number").alias("source_position"),
    )


def read_kinesis_stream(spark: SparkSession, stream: str) -> DataFrame:
    spark.dataSource.register(KinesisDataSource)
    return spark.readStream.format("kinesis").option("stream", stream).load().transform(records_of_kinesis)
