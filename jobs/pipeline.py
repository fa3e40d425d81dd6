"""`lakehouse run`: bronze -> silver -> gold (-> publish, when sinks are set) for what is new, a line per stage.

With `--trigger '<n> seconds'` the three stages run continuously as three streaming queries, each following the
table before it (bronze the source, silver bronze, gold silver), so an event reaches gold within a few micro-batches
instead of waiting for the hourly run. Each query keeps its own checkpoint: a killed run resumes exactly where it was.
"""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

from pyspark.sql import SparkSession

from jobs import bronze, gold, publish, silver
from jobs.contract import registry
from jobs.entry import StageReport, run_entry, spark_session
from jobs.health import await_recording_bronze
from jobs.settings import (
    JobArgumentParser,
    Settings,
    Trigger,
    add_settings_arguments,
    add_trigger_argument,
    settings_from,
)
from jobs.sources import Source
from jobs.tables import TABLES, ensure_tables


def run(spark: SparkSession, settings: Settings, source: Source) -> list[StageReport]:
    reports = []
    for run_stage in (
        lambda: bronze.run(spark, settings, source),
        lambda: silver.run(spark, settings),
        lambda: gold.run(spark, settings),
        *([lambda: publish.run(spark, settings)] if settings.sinks else []),
    ):
        reports.append(run_stage())
        reports[-1].print()
    return reports


def run_continuously(spark: SparkSession, settings: Settings, source: Source, trigger: Trigger) -> None:
    """Run the three stages as streaming queries until one fails or the process is stopped."""
    # Every table first: once bronze commits, no CREATE TABLE is still under way for a crash to cut in half.
    ensure_tables(spark, settings, TABLES)
    queries = [
        bronze.start(spark, settings, source, trigger),
        silver.start(spark, settings, trigger),
        gold.start(spark, settings, trigger),
    ]
    print(f"running continuously, a micro-batch every {trigger.interval_seconds} s (Ctrl-C stops)", flush=True)
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    try:
        await_recording_bronze(spark, settings, queries[0], spark.streams.awaitAnyTermination, queries)
    except KeyboardInterrupt:
        print("stopping; a micro-batch cut short is redone from its checkpoint by the next run", flush=True)


def stop_on_sigterm(_signal: int, _frame: object) -> None:
    raise KeyboardInterrupt


def build_parser() -> JobArgumentParser:
    parser = JobArgumentParser(prog="lakehouse run", description=__doc__.splitlines()[0])
    add_settings_arguments(parser)
    add_trigger_argument(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def work() -> None:
        settings = settings_from(args)
        registry(Path(settings.schemas))  # a bad registry folder fails here, before Spark starts
        source = bronze.checked_source(settings)
        started = time.monotonic()
        with spark_session(settings, "pipeline") as spark:
            if args.trigger.continuous:
                run_continuously(spark, settings, source, args.trigger)
            else:
                run(spark, settings, source)
        print(f"pipeline done in {time.monotonic() - started:.1f} s (Spark start included)")

    return run_entry("lakehouse run", work)


if __name__ == "__main__":
    sys.exit(main())
