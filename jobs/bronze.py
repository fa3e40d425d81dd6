"""Bronze: land every record of the source in bronze.events exactly as received (append-only, exactly once).

The stream's checkpoint (<checkpoints>/bronze) remembers what was already landed, so a rerun lands only what is new
and a killed run resumes without loss or duplicates. Spark-submit: `spark-submit jobs/bronze.py [flags]`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.entry import StageReport, run_entry, spark_session
from jobs.settings import JobArgumentParser, Settings, UsageError, add_settings_arguments, settings_from
from jobs.sources import FileSource, Source, parse_source
from jobs.sources.files import read_file_stream
from jobs.tables import ensure_tables, rows_written_since, table_version

TABLE = "bronze.events"


def with_ingest_columns(records: DataFrame) -> DataFrame:
    """Stamp each record with the time it was landed (one timestamp per micro-batch)."""
    return records.withColumn("ingested_at", F.current_timestamp()).withColumn("ingest_date", F.to_date("ingested_at"))


def checked_source(settings: Settings) -> Source:
    source = parse_source(settings.source)
    if isinstance(source, FileSource):
        if not Path(source.directory).is_dir():
            raise UsageError(f"source folder does not exist: {source.directory}")
        return source
    raise UsageError(f"source {settings.source!r}: only files:<dir> is supported so far")


def read_source(spark: SparkSession, source: Source) -> DataFrame:
    return read_file_stream(spark, source.directory)


def run(spark: SparkSession, settings: Settings, source: Source) -> StageReport:
    report = StageReport("bronze")
    ensure_tables(spark, settings, [TABLE])
    version_before = table_version(spark, settings, TABLE)
    query = (
        read_source(spark, source)
        .transform(with_ingest_columns)
        .writeStream.format("delta")
        .outputMode("append")
        .option("checkpointLocation", settings.checkpoint_path("bronze"))
        .trigger(availableNow=True)
        .start(settings.table_path(TABLE))
    )
    query.awaitTermination()
    landed = rows_written_since(spark, settings, TABLE, version_before)
    report.rows_in = report.rows_out = landed
    return report.finish()


def build_parser() -> JobArgumentParser:
    parser = JobArgumentParser(prog="lakehouse bronze", description=__doc__.splitlines()[0])
    add_settings_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def work() -> None:
        settings = settings_from(args)
        source = checked_source(settings)
        with spark_session(settings, "bronze") as spark:
            run(spark, settings, source).print()

    return run_entry("lakehouse bronze", work)


if __name__ == "__main__":
    sys.exit(main())
