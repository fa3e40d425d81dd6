"""De-duplication by event_id: the first accepted copy wins."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

POSITION_WIDTH = 64  # Kinesis sequence numbers have up to 56 digits


def position_sort_key(source_position: Column) -> Column:
    """A string that sorts source positions in arrival order: the trailing number (file line, Kafka offset,
    Kinesis sequence number) is left-padded so that `...:9` sorts before `...:10`."""
    pattern = r"^(.*?)(\d*)$"
    return F.concat(
        F.regexp_extract(source_position, pattern, 1),
        F.lpad(F.regexp_extract(source_position, pattern, 2), POSITION_WIDTH, "0"),
    )


def first_copy_per_event(events: DataFrame) -> DataFrame:
    """Keep, per event_id, the copy that arrived first (earliest ingested_at, then earliest source position)."""
    arrival = Window.partitionBy("event_id").orderBy(F.col("ingested_at"), position_sort_key(F.col("source_position")))
    return (
        events.withColumn("_copy_rank", F.row_number().over(arrival))
        .filter(F.col("_copy_rank") == 1)
        .drop("_copy_rank")
    )
