"""A Kafka topic read as a stream by Spark's own Kafka source (jars resolved by Maven, see pom.xml).

Spark keeps the offsets of every partition in the query's checkpoint and commits them only with the micro-batch that
wrote their records, so a killed run resumes where the last committed batch ended: nothing lost, nothing twice.
`source_position` is `<topic>-<partition>-<offset>`.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F


def records_of_messages(messages: DataFrame) -> DataFrame:
    """Kafka source rows -> payload, source, source_position. The value's bytes are kept as they are, valid UTF-8 or
    not (silver rejects what is not); a null value (a tombstone) becomes a null payload."""
    return messages.select(
        F.col("value").cast("string").alias("payload"),
        F.lit("kafka").alias("source"),
        F.concat_ws("-", "topic", F.col("partition").cast("string"), F.col("offset").cast("string")).alias(
            "source_position"
        ),
    )


def read_kafka_stream(spark: SparkSession, bootstrap_servers: str, topic: str) -> DataFrame:
    messages = (
        spark.readStream.format("kafka")
        .option("kafka.bootstrap.servers", bootstrap_servers)
        .option("subscribe", topic)
        .option("startingOffsets", "earliest")
        .load()
    )
    return messages.transform(records_of_messages)
