"""Reading and writing the Delta tables of storage/tables.py: creation, idempotent writes, and following new rows."""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, Row, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming import StreamingQuery

from jobs.runtime.arguments import Trigger
from jobs.runtime.settings import Settings, UsageError, is_local
from jobs.runtime.waiting import wait_until
from jobs.storage.tables import TABLES, TableSpec

UNFINISHED_CREATION_SECONDS = 30
CHANGE_FEED = "delta.enableChangeDataFeed"
COMMIT_FILE = re.compile(r"\d{20}\.(json|checkpoint.*\.parquet)")


def ensure_tables(spark: SparkSession, settings: Settings, names: Iterable[str]) -> None:
    """Create the tables that do not exist yet and add the columns an older table lacks, so readers and writers
    always find the contract schema."""
    for name in names:
        spec = TABLES[name]
        path = settings.table_path(name)
        remove_unfinished_creation(path)
        spark.sql(
            f"CREATE TABLE IF NOT EXISTS delta.`{path}` ({spec.ddl}) USING delta PARTITIONED BY ({spec.partitioned_by})"
        )
        add_missing_columns(spark, path, spec)
        convert_column_types(spark, path, spec)
        if spec.change_feed:
            enable_change_feed(spark, path)


def add_missing_columns(spark: SparkSession, path: str, spec: TableSpec) -> None:
    """Additive schema evolution: one ALTER TABLE adds the spec's columns the table lacks (a metadata-only commit;
    no data file is rewritten)."""
    present = set(read_table_at(spark, path).columns)
    missing = [f"`{name}` {kind}" for name, kind in spec.columns if name not in present]
    if missing:
        spark.sql(f"ALTER TABLE delta.`{path}` ADD COLUMNS ({', '.join(missing)})")


def convert_column_types(spark: SparkSession, path: str, spec: TableSpec) -> None:
    """Give a gold table the column types of its spec (bigint sums became EXACT_SUM) by rewriting it in one commit.
    Gold is derived from silver and republished from its change feed, so a rewrite changes no value; any other
    table with a column of another type stops the job with what to do."""
    current = {field.name: field.dataType.simpleString() for field in read_table_at(spark, path).schema.fields}
    changed = [(name, kind) for name, kind in spec.columns if _spelling(current.get(name, kind)) != _spelling(kind)]
    if not changed:
        return
    described = ", ".join(f"{name} {current[name]} -> {kind}" for name, kind in changed)
    if spec.layer != "gold":
        raise UsageError(f"{spec.name} at {path} has columns of other types than its contract: {described}")
    print(f"{spec.name}: converting {described}", flush=True)
    columns = [
        F.col(name).cast(kind).alias(name) if name in dict(changed) else F.col(name) for name, kind in spec.columns
    ]
    extra = [F.col(name) for name in current if name not in spec.names]
    (
        read_table_at(spark, path)
        .select(*columns, *extra)
        .write.format("delta")
        .mode("overwrite")
        .option("overwriteSchema", "true")
        .partitionBy(spec.partitioned_by)
        .save(path)
    )


def _spelling(kind: str) -> str:
    """A Spark SQL type as DataType.simpleString() writes it: no spaces."""
    return re.sub(r"\s", "", kind)


def enable_change_feed(spark: SparkSession, path: str) -> None:
    """Turn on Delta's change data feed (a table property; changes are recorded from the next commit on). The check
    reads the table's properties only: DeltaTable.detail() would also size every data file of the table."""
    properties = {row["key"]: row["value"] for row in spark.sql(f"SHOW TBLPROPERTIES delta.`{path}`").collect()}
    if properties.get(CHANGE_FEED) != "true":
        spark.sql(f"ALTER TABLE delta.`{path}` SET TBLPROPERTIES ({CHANGE_FEED} = true)")


def remove_unfinished_creation(table_path: str) -> None:
    """Remove a `_delta_log` that holds no commit: what a process killed inside CREATE TABLE leaves on a local disk.
    Delta would take the folder for a table and then fail to read it; with it gone, CREATE TABLE starts afresh.
    Object stores have no folders, so there a cut-short creation leaves nothing behind."""
    log = Path(table_path, "_delta_log")
    if not is_local(table_path) or not log.is_dir() or has_commit(log):
        return
    # A young log may be a creation still under way in another process (bronze, silver and gold each create the
    # tables they use): it gets until the log is UNFINISHED_CREATION_SECONDS old to write its first commit. A
    # restart right after a kill waits that long, once.
    left = UNFINISHED_CREATION_SECONDS - (time.time() - log.stat().st_mtime)
    if left > 0 and wait_until(lambda: not log.is_dir() or has_commit(log), left, interval=0.5):
        return
    shutil.rmtree(log, ignore_errors=True)  # another process may have removed it first


def remove_unfinished_first_offsets(checkpoint: str) -> None:
    """Remove what a process killed while writing a stream's first offsets leaves on a local disk: hidden temporary
    files (`.0.<uuid>.tmp` and its `.crc`) in an `offsets` folder that holds no batch. Spark 4 refuses to start a
    query whose first batch finds that folder not empty (STATE_STORE_CHECKPOINT_LOCATION_NOT_EMPTY), so the stream
    would never start again. A batch's offsets are written under a temporary name and renamed when complete: the
    temporary files are never read."""
    offsets = Path(checkpoint, "offsets")
    if not is_local(checkpoint) or not offsets.is_dir():
        return
    entries = list(offsets.iterdir())
    if entries and all(entry.name.startswith(".") for entry in entries):
        for entry in entries:
            entry.unlink(missing_ok=True)


def has_commit(log: Path) -> bool:
    return any(COMMIT_FILE.fullmatch(entry.name) for entry in log.iterdir())


def single_row(frame: DataFrame) -> Row:
    """The one row of a frame that has exactly one: an aggregate, a MERGE's metrics, a table's latest commit."""
    [row] = frame.collect()
    return row


def read_table(spark: SparkSession, settings: Settings, name: str) -> DataFrame:
    return read_table_at(spark, settings.table_path(name))


def read_table_at(spark: SparkSession, path: str) -> DataFrame:
    return spark.read.format("delta").load(path)


def read_table_version(spark: SparkSession, settings: Settings, name: str, version: int) -> DataFrame:
    return spark.read.format("delta").option("versionAsOf", version).load(settings.table_path(name))


def sql_literal(value: date | datetime | str) -> str:
    if isinstance(value, datetime):
        return f"TIMESTAMP '{value:%Y-%m-%d %H:%M:%S}'"  # UTC: every session runs in UTC
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    return "'" + value.replace("'", "''") + "'"


def is_in(column: str, values: Iterable[date | datetime | str]) -> str:
    return f"{column} IN ({', '.join(sql_literal(v) for v in sorted(set(values)))})"


@dataclass(frozen=True)
class WriteOnce:
    """Delta's idempotent writes: a commit marked with (app_id, version) is skipped when the table already holds a
    commit of app_id at that version or a later one. A stream marks each micro-batch's writes with its own id and the
    batch's number, so a batch replayed after a crash does not write a table twice."""

    app_id: str
    version: int


def replace_where(
    settings: Settings, name: str, rows: DataFrame, predicate: str, once: WriteOnce | None = None
) -> None:
    """Atomically replace the rows matching `predicate` with `rows` (one Delta commit); with `once`, only if that
    write has not been committed yet."""
    partition = TABLES[name].partitioned_by
    # clusters each file by merchant (where there is one) for data skipping
    order = [partition, "merchant_id"] if "merchant_id" in rows.columns else [partition]
    writer = (
        rows.repartition(partition)
        .sortWithinPartitions(*order)
        .write.format("delta")
        .mode("overwrite")
        .option("replaceWhere", predicate)
    )
    if once is not None:
        writer = writer.option("txnAppId", once.app_id).option("txnVersion", once.version)
    writer.save(settings.table_path(name))


def insert_missing(spark: SparkSession, settings: Settings, name: str, rows: DataFrame, match: str) -> int:
    """Insert the rows that have no match in the table (an insert-only MERGE, so a rerun adds nothing).
    `match` is the merge condition over aliases `t` (table) and `s` (rows). Returns the number inserted."""
    target = DeltaTable.forPath(spark, settings.table_path(name)).alias("t")
    result = target.merge(rows.alias("s"), match).whenNotMatchedInsertAll().execute()
    return int(single_row(result)["num_inserted_rows"])


def replace_in_scope(
    spark: SparkSession, settings: Settings, name: str, rows: DataFrame, match: str, scope: str, replaces: str
) -> int:
    """Make the table's rows in `scope` those of `rows`, in one commit (a MERGE over aliases `t` and `s`): a row
    matching on `match` is replaced when it is in scope or when `replaces` holds, a row with no match is inserted,
    and a row in scope that `rows` no longer has is deleted. Rows out of scope are otherwise left as they are.
    Returns the table's rows now taken from `rows` (updated plus inserted)."""
    target = DeltaTable.forPath(spark, settings.table_path(name)).alias("t")
    metrics = (
        target.merge(rows.alias("s"), match)
        .whenMatchedUpdateAll(condition=f"({scope}) OR ({replaces})")
        .whenNotMatchedInsertAll()
        .whenNotMatchedBySourceDelete(condition=scope)
        .execute()
    )
    result = single_row(metrics)
    return int(result["num_updated_rows"]) + int(result["num_inserted_rows"])


def read_change_feed(spark: SparkSession, settings: Settings, name: str, first: int, last: int) -> DataFrame:
    """The table's change data feed from version `first` to `last`, both included."""
    return (
        spark.read.format("delta")
        .option("readChangeFeed", "true")
        .option("startingVersion", first)
        .option("endingVersion", last)
        .load(settings.table_path(name))
    )


def table_version(spark: SparkSession, settings: Settings, name: str) -> int:
    return int(single_row(DeltaTable.forPath(spark, settings.table_path(name)).history(1))["version"])


def rows_written_since(spark: SparkSession, settings: Settings, name: str, version: int) -> int:
    """Rows added by the commits after `version`, from Delta's own operation metrics."""
    history = DeltaTable.forPath(spark, settings.table_path(name)).history()
    commits = history.filter(history.version > version).select("operationMetrics").collect()
    return sum(int((row["operationMetrics"] or {}).get("numOutputRows", 0)) for row in commits)


@dataclass(frozen=True)
class MicroBatch:
    stream: str  # the stream query's id, kept in its checkpoint: the same across restarts, new for a new checkpoint
    number: int  # the batch's id: a batch replayed after a restart has the same number and rows

    @property
    def label(self) -> str:
        return f"micro-batch {self.number}"

    @property
    def write_once(self) -> WriteOnce:
        return WriteOnce(self.stream, self.number)


def stream_id(spark: SparkSession, checkpoint: str) -> str:
    """The id a stream query keeps in its checkpoint's `metadata` file (written when it first starts)."""
    return json.loads(single_row(spark.read.text(f"{checkpoint}/metadata"))["value"])["id"]


def follow_new_rows(
    spark: SparkSession,
    settings: Settings,
    name: str,
    query: str,
    handle: Callable[[DataFrame, MicroBatch], None],
    trigger: Trigger,
) -> StreamingQuery:
    """Start handing the rows appended to table `name` to `handle`, batch by batch. The checkpoint
    <checkpoints>/<query> remembers how far the query got; with an available-now trigger it stops when caught up.
    Commits that change or delete rows (a backfill's) are skipped: whoever rewrote rows also recomputed what depends
    on them, and a Delta stream would otherwise stop at them."""
    checkpoint = settings.checkpoint_path(query)
    remove_unfinished_first_offsets(checkpoint)
    ids: list[str] = []  # read once, at the first batch: the checkpoint has its metadata by then

    def handle_batch(rows: DataFrame, batch_id: int) -> None:
        if not ids:
            ids.append(stream_id(spark, checkpoint))
        handle(rows, MicroBatch(ids[0], batch_id))

    writer = (
        spark.readStream.format("delta")
        .option("skipChangeCommits", "true")
        .load(settings.table_path(name))
        .writeStream.queryName(query)
        .foreachBatch(handle_batch)
        .option("checkpointLocation", checkpoint)
    )
    return trigger.apply(writer).start()


def process_new_rows(
    spark: SparkSession, settings: Settings, name: str, query: str, handle: Callable[[DataFrame, MicroBatch], None]
) -> None:
    """Hand the rows appended to table `name` since the last run to `handle`, and return when caught up."""
    follow_new_rows(spark, settings, name, query, handle, Trigger()).awaitTermination()
