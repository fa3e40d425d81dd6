"""Figures of a batch for ops.batch_health that come from its rows."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

# percentile_approx's accuracy: with fewer late events than this in a batch, its p95 is the exact nearest rank.
PERCENTILE_ACCURACY = 10_000


def lateness(events: DataFrame) -> DataFrame:
    """One row: how many accepted events arrived after their event hour had ended (`late_events`), and by how much
    they arrived after they occurred, in whole seconds (`lateness_max_seconds`, `lateness_p95_seconds`; null when
    none was late)."""
    is_late = F.col("ingested_at") >= F.col("event_hour") + F.expr("INTERVAL 1 HOUR")
    seconds = F.floor(F.unix_micros("ingested_at") / 1_000_000 - F.unix_micros("occurred_at") / 1_000_000)
    late_seconds = F.when(is_late, seconds)
    return events.agg(
        F.count_if(is_late).alias("late_events"),
        F.max(late_seconds).cast("bigint").alias("lateness_max_seconds"),
        F.percentile_approx(late_seconds, 0.95, PERCENTILE_ACCURACY).cast("bigint").alias("lateness_p95_seconds"),
    )
