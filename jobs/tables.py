"""The Delta tables of DESIGN.md section 3: their schemas, where they live, and the idempotent ways to write them."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.streaming import StreamingQuery

from jobs.settings import Settings, Trigger

ITEMS = "ARRAY<STRUCT<sku: STRING, name: STRING, quantity: BIGINT, unit_price_minor: BIGINT>>"
ACTIVITY = """events BIGINT, page_views BIGINT, add_to_carts BIGINT, checkouts BIGINT, orders BIGINT,
    refunds BIGINT, sessions BIGINT, sessions_sketch BINARY, customers BIGINT, customers_sketch BINARY,
    conversion_rate DOUBLE, updated_at TIMESTAMP"""

UNFINISHED_CREATION_SECONDS = 120
CHANGE_FEED = "delta.enableChangeDataFeed"
COMMIT_FILE = re.compile(r"\d{20}\.(json|checkpoint.*\.parquet)")


@dataclass(frozen=True)
class TableSpec:
    """A table's columns (SQL DDL) and partition column. Columns are only ever added, at the end: ensure_tables
    adds them to a table created before them, whose older rows then read them as null."""

    columns: str
    partitioned_by: str
    change_feed: bool = False  # Delta's change data feed, which publishing reads to find what changed


TABLES = {
    "bronze.events": TableSpec(
        "payload STRING, source STRING, source_position STRING, ingested_at TIMESTAMP, ingest_date DATE",
        "ingest_date",
    ),
    "silver.events": TableSpec(
        f"""event_id STRING, event_type STRING, merchant_id STRING, occurred_at TIMESTAMP, schema_version INT,
        customer_id STRING, session_id STRING, order_id STRING, currency STRING, amount_minor BIGINT,
        items {ITEMS}, url STRING, extra STRING, event_hour TIMESTAMP, event_date DATE, ingested_at TIMESTAMP,
        channel STRING, discount_minor BIGINT, tax_minor BIGINT""",
        "event_date",
    ),
    "silver.quarantine": TableSpec(
        """payload STRING, reason STRING, source_position STRING, ingested_at TIMESTAMP, ingest_date DATE,
        replayed_at TIMESTAMP""",
        "ingest_date",
    ),
    "gold.merchant_hourly": TableSpec(
        f"merchant_id STRING, hour_start TIMESTAMP, date DATE, {ACTIVITY}", "date", change_feed=True
    ),
    "gold.merchant_hourly_sales": TableSpec(
        """merchant_id STRING, hour_start TIMESTAMP, date DATE, currency STRING, orders BIGINT, gross_minor BIGINT,
        refunds BIGINT, refunded_minor BIGINT, net_minor BIGINT, items_sold BIGINT, avg_order_minor BIGINT,
        discount_minor BIGINT, tax_minor BIGINT""",
        "date",
        change_feed=True,
    ),
    "gold.merchant_hourly_channel_sales": TableSpec(
        """merchant_id STRING, hour_start TIMESTAMP, date DATE, channel STRING, currency STRING, orders BIGINT,
        gross_minor BIGINT, discount_minor BIGINT, tax_minor BIGINT, refunds BIGINT, refunded_minor BIGINT,
        net_minor BIGINT""",
        "date",
        change_feed=True,
    ),
    "gold.merchant_daily": TableSpec(f"merchant_id STRING, date DATE, {ACTIVITY}", "date", change_feed=True),
    "gold.product_daily": TableSpec(
        """merchant_id STRING, date DATE, sku STRING, currency STRING, name STRING, units BIGINT,
        revenue_minor BIGINT""",
        "date",
        change_feed=True,
    ),
    "ops.batch_health": TableSpec(
        """stage STRING, batch STRING, started_at TIMESTAMP, seconds DOUBLE, rows_in BIGINT, rows_out BIGINT,
        quarantined MAP<STRING, BIGINT>, copies_dropped BIGINT, late_events BIGINT, lateness_max_seconds BIGINT,
        lateness_p95_seconds BIGINT, date DATE""",
        "date",
    ),
    "ops.publish_progress": TableSpec(
        """sink STRING, table STRING, version BIGINT, rows_written BIGINT, points_deleted BIGINT,
        published_at TIMESTAMP""",
        "sink",
    ),
}


def ensure_tables(spark: SparkSession, settings: Settings, names: Iterable[str]) -> None:
    """Create the tables that do not exist yet and add the columns an older table lacks, so readers and writers
    always find the contract schema."""
    for name in names:
        spec = TABLES[name]
        path = settings.table_path(name)
        remove_unfinished_creation(path)
        spark.sql(
            f"CREATE TABLE IF NOT EXISTS delta.`{path}` ({spec.columns}) "
            f"USING delta PARTITIONED BY ({spec.partitioned_by})"
        )
        add_missing_columns(spark, path, spec)
        if spec.change_feed:
            enable_change_feed(spark, path)


def add_missing_columns(spark: SparkSession, path: str, spec: TableSpec) -> None:
    """Additive schema evolution: one ALTER TABLE adds the spec's columns the table lacks (a metadata-only commit;
    no data file is rewritten)."""
    present = set(read_table_at(spark, path).columns)
    wanted = spark.createDataFrame([], spec.columns).schema
    missing = [f"`{column.name}` {column.dataType.simpleString()}" for column in wanted if column.name not in present]
    if missing:
        spark.sql(f"ALTER TABLE delta.`{path}` ADD COLUMNS ({', '.join(missing)})")


def enable_change_feed(spark: SparkSession, path: str) -> None:
    """Turn on Delta's change data feed (a table property; changes are recorded from the next commit on)."""
    properties = DeltaTable.forPath(spark, path).detail().first()["properties"]
    if properties.get(CHANGE_FEED) != "true":
        spark.sql(f"ALTER TABLE delta.`{path}` SET TBLPROPERTIES ({CHANGE_FEED} = true)")


def remove_unfinished_creation(table_path: str) -> None:
    """Remove a `_delta_log` that holds no commit: what a process killed inside CREATE TABLE leaves on a local disk.
    Delta would take the folder for a table and then fail to read it; with it gone, CREATE TABLE starts afresh.
    Object stores have no folders, so there a cut-short creation leaves nothing behind."""
    log = Path(table_path, "_delta_log")
    if "://" in table_path or not log.is_dir():
        return
    # A creation younger than that may still be under way in another process (bronze, silver and gold each create
    # the tables they use).
    if time.time() - log.stat().st_mtime < UNFINISHED_CREATION_SECONDS:
        return
    if not any(COMMIT_FILE.fullmatch(entry.name) for entry in log.iterdir()):
        shutil.rmtree(log)


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


def replace_where(settings: Settings, name: str, rows: DataFrame, predicate: str) -> None:
    """Atomically replace the rows matching `predicate` with `rows` (one Delta commit)."""
    partition = TABLES[name].partitioned_by
    # clusters each file by merchant (where there is one) for data skipping
    order = [partition, "merchant_id"] if "merchant_id" in rows.columns else [partition]
    (
        rows.repartition(partition)
        .sortWithinPartitions(*order)
        .write.format("delta")
        .mode("overwrite")
        .option("replaceWhere", predicate)
        .save(settings.table_path(name))
    )


def insert_missing(spark: SparkSession, settings: Settings, name: str, rows: DataFrame, match: str) -> int:
    """Insert the rows that have no match in the table (an insert-only MERGE, so a rerun adds nothing).
    `match` is the merge condition over aliases `t` (table) and `s` (rows). Returns the number inserted."""
    target = DeltaTable.forPath(spark, settings.table_path(name)).alias("t")
    result = target.merge(rows.alias("s"), match).whenNotMatchedInsertAll().execute()
    return int(result.first()["num_inserted_rows"])


def replace_in_scope(
    spark: SparkSession, settings: Settings, name: str, rows: DataFrame, match: str, scope: str, replaces: str
) -> int:
    """Make the table's rows in `scope` those of `rows`, in one commit (a MERGE over aliases `t` and `s`): a row
    matching on `match` is replaced when it is in scope or when `replaces` holds, a row with no match is inserted,
    and a row in scope that `rows` no longer has is deleted. Rows out of scope are otherwise left as they are.
    Returns the table's rows now taken from `rows` (updated plus inserted)."""
    target = DeltaTable.forPath(spark, settings.table_path(name)).alias("t")
    result = (
        target.merge(rows.alias("s"), match)
        .whenMatchedUpdateAll(condition=f"({scope}) OR ({replaces})")
        .whenNotMatchedInsertAll()
        .whenNotMatchedBySourceDelete(condition=scope)
        .execute()
        .first()
    )
    return int(result["num_updated_rows"]) + int(result["num_inserted_rows"])


def table_version(spark: SparkSession, settings: Settings, name: str) -> int:
    return DeltaTable.forPath(spark, settings.table_path(name)).history(1).first()["version"]


def rows_written_since(spark: SparkSession, settings: Settings, name: str, version: int) -> int:
    """Rows added by the commits after `version`, from Delta's own operation metrics."""
    history = DeltaTable.forPath(spark, settings.table_path(name)).history()
    commits = history.filter(history.version > version).select("operationMetrics").collect()
    return sum(int((row["operationMetrics"] or {}).get("numOutputRows", 0)) for row in commits)


def follow_new_rows(
    spark: SparkSession,
    settings: Settings,
    name: str,
    query: str,
    handle: Callable[[DataFrame, str], None],
    trigger: Trigger,
) -> StreamingQuery:
    """Start handing the rows appended to table `name` to `handle`, batch by batch, with a label naming the batch.
    The checkpoint <checkpoints>/<query> remembers how far the query got; with an available-now trigger it stops when
    caught up. Commits that change or delete rows (a backfill's) are skipped: whoever rewrote rows also recomputed
    what depends on them, and a Delta stream would otherwise stop at them."""
    return (
        spark.readStream.format("delta")
        .option("skipChangeCommits", "true")
        .load(settings.table_path(name))
        .writeStream.queryName(query)
        .foreachBatch(lambda batch, batch_id: handle(batch, f"micro-batch {batch_id}"))
        .option("checkpointLocation", settings.checkpoint_path(query))
        .trigger(**trigger.options())
        .start()
    )


def process_new_rows(
    spark: SparkSession, settings: Settings, name: str, query: str, handle: Callable[[DataFrame, str], None]
) -> None:
    """Hand the rows appended to table `name` since the last run to `handle`, and return when caught up."""
    follow_new_rows(spark, settings, name, query, handle, Trigger()).awaitTermination()
