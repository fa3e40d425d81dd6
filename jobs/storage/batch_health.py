"""ops.batch_health: one row per batch and stage, what monitoring and alarms read.

Rows in and out, rejects by reason, copies dropped, late events and their lateness, and the batch's duration. A row
is appended when a batch has been written, so a batch redone after a crash appears as the redo saw it: twice if the
crash came after its row, and with nothing written (its events counted as copies) if the crash came between its data
and its row. Bronze's rows come from its stream's commits and progress reports, recorded every
HEALTH_INTERVAL_SECONDS and when the query stops; a killed run's last unrecorded bronze batches are not recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

from delta.tables import DeltaTable
from py4j.protocol import Py4JError
from pyspark.errors import PySparkException
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming import StreamingQuery

from jobs.runtime.settings import Settings
from jobs.storage.tables import BATCH_HEALTH, BRONZE_EVENTS

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
    frame = spark.createDataFrame(rows, BATCH_HEALTH.ddl)
    frame.write.format("delta").mode("append").save(settings.table_path(BATCH_HEALTH.name))


def bronze_batches(
    spark: SparkSession, settings: Settings, query: StreamingQuery, after: int = -1
) -> dict[int, BatchHealth]:
    """The batches a bronze stream query has landed since batch `after`, by batch id: rows from the Delta commit each
    batch made, which its user metadata names (a source's own input count may count files, not records), duration
    from the query's progress."""
    seconds = {p.batchId: p.durationMs.get("triggerExecution", 0) / 1000.0 for p in query.recentProgress}
    history = DeltaTable.forPath(spark, settings.table_path(BRONZE_EVENTS.name)).history(len(seconds) + 1)
    commits = history.select(
        "timestamp",
        "operationMetrics",
        F.get_json_object("userMetadata", "$.queryId").alias("query_id"),
        F.get_json_object("userMetadata", "$.batchId").cast("long").alias("batch_id"),
    )
    batches = {}
    for commit in commits.filter(F.col("query_id") == query.id).collect():
        batch = commit["batch_id"]
        if batch > after and batch in seconds:  # in this run: a restarted query keeps its id and its old commits
            landed = int(commit["operationMetrics"].get("numOutputRows", 0))
            # collect() gives the commit time as a naive local time: astimezone reads it so.
            started = commit["timestamp"].astimezone(UTC) - timedelta(seconds=seconds[batch])
            batches[batch] = BatchHealth("bronze", f"micro-batch {batch}", started, seconds[batch], landed, landed)
    return dict(sorted(batches.items()))


def record_bronze_progress(spark: SparkSession, settings: Settings, query: StreamingQuery, after: int = -1) -> int:
    """Record the bronze batches landed since batch `after`; returns the newest batch id now recorded. A failure to
    record is printed, not raised: monitoring trouble must not stop the data."""
    try:
        batches = bronze_batches(spark, settings, query, after)
        record(spark, settings, list(batches.values()))
    except (PySparkException, Py4JError, OSError) as error:
        print(f"batch health not recorded: {type(error).__name__}: {str(error).strip().splitlines()[0]}", flush=True)
        return after
    return max([after, *batches])


def await_recording_bronze(
    spark: SparkSession,
    settings: Settings,
    bronze: StreamingQuery,
    wait: Callable[[int], bool | None],
    queries: list[StreamingQuery],
) -> None:
    """Wait with `wait(timeout)` until it reports a query's end, recording bronze's batches every
    HEALTH_INTERVAL_SECONDS; then stop `queries` and record bronze's last batches, also when interrupted."""
    recorded = -1
    try:
        while not wait(HEALTH_INTERVAL_SECONDS):
            recorded = record_bronze_progress(spark, settings, bronze, recorded)
    finally:
        for query in queries:
            query.stop()
        record_bronze_progress(spark, settings, bronze, recorded)
