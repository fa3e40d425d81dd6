"""ops.batch_health: one row per batch and stage, what monitoring and alarms read.

Rows in and out, rejects by reason, copies dropped, late events and their lateness, and the batch's duration. A row
is appended when a batch has been written; a batch redone after a crash that came after its row was written appears
twice, as it ran twice. Bronze's rows come from its stream's progress reports.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

from delta.tables import DeltaTable
from pyspark.sql import SparkSession
from pyspark.sql.streaming import StreamingQuery

from jobs.settings import Settings
from jobs.tables import TABLES

TABLE = "ops.batch_health"
HEALTH_INTERVAL_SECONDS = 30  # how often a continuous run records its bronze batches


@dataclass
class BatchHealth:
    stage: str
    batch: str
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    seconds: float = 0.0
    rows_in: int = 0
    rows_out: int | None = None
    quarantined: dict[str, int] | None = None  # by reason
    copies_dropped: int | None = None
    late_events: int | None = None
    lateness_max_seconds: int | None = None
    lateness_p95_seconds: int | None = None

    def finish(self) -> BatchHealth:
        self.seconds = round((datetime.now(UTC) - self.started_at).total_seconds(), 3)
        return self


def record(spark: SparkSession, settings: Settings, batches: list[BatchHealth]) -> None:
    if not batches:
        return
    rows = [{**asdict(batch), "date": batch.started_at.date()} for batch in batches]
    frame = spark.createDataFrame(rows, TABLES[TABLE].columns)
    frame.write.format("delta").mode("append").save(settings.table_path(TABLE))


def bronze_batches(
    spark: SparkSession, settings: Settings, query: StreamingQuery, after: int = -1
) -> list[BatchHealth]:
    """The batches a bronze stream query has landed since batch `after`: rows from the Delta commit each batch made
    (a source's own input count may count files, not records), duration from the query's progress reports."""
    seconds = {p.batchId: p.durationMs.get("triggerExecution", 0) / 1000.0 for p in query.recentProgress}
    history = DeltaTable.forPath(spark, settings.table_path("bronze.events")).history(len(seconds) + 1)
    batches = []
    for commit in history.filter(history.operationParameters["queryId"] == query.id).collect():
        batch = int(commit["operationParameters"]["epochId"])
        if batch > after and batch in seconds:  # in this run: a restarted query keeps its id and its old commits
            landed = int(commit["operationMetrics"].get("numOutputRows", 0))
            started = commit["timestamp"].replace(tzinfo=UTC) - timedelta(seconds=seconds[batch])
            batches.append(BatchHealth("bronze", f"micro-batch {batch}", started, seconds[batch], landed, landed))
    return sorted(batches, key=lambda health: health.started_at)


def record_bronze_progress(spark: SparkSession, settings: Settings, query: StreamingQuery, after: int) -> int:
    """Record the bronze batches landed since batch `after`; returns the newest batch id now recorded."""
    batches = bronze_batches(spark, settings, query, after)
    record(spark, settings, batches)
    return max([after, *(int(health.batch.split()[-1]) for health in batches)])
