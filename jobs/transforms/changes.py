"""What a Delta change data feed says about each row: its latest change."""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

WRITTEN_CHANGES = ("insert", "update_postimage")


def latest_changes(changes: DataFrame, key: tuple[str, ...]) -> DataFrame:
    """Per key, the last change in a change data feed; within one commit a row's new image wins over its old one
    (a replaceWhere deletes a slice's rows and inserts them again in the same commit)."""
    written_first = F.when(F.col("_change_type").isin(*WRITTEN_CHANGES), 0).otherwise(1)
    order = Window.partitionBy(*key).orderBy(F.col("_commit_version").desc(), written_first)
    return changes.withColumn("_rank", F.row_number().over(order)).filter("_rank = 1").drop("_rank")
