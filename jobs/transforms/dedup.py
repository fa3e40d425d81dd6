"""De-duplication by event_id: the first accepted copy wins."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F


def position_sort_key(source_position: Column) -> Column:
    """Sorts source positions in arrival order for positions that share a prefix (one file, one Kafka partition,
    one Kinesis shard): a shorter trailing number is a smaller one, so `...:9` comes before `...:10`."""
    return F.struct(F.length(source_position), source_position)


def first_copy_per_event(events: DataFrame) -> DataFrame:
    """Keep, per event_id, the copy that arrived first (earliest ingested_at, then earliest source position)."""
    arrival = Window.partitionBy("event_id").orderBy(F.col("ingested_at"), position_sort_key(F.col("source_position")))
    return (
        events.withColumn("_copy_rank", F.row_number().over(arrival))
        .filter(F.col("_copy_rank") == 1)
        .drop("_copy_rank")
    )
