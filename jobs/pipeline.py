"""`lakehouse run`: bronze -> silver -> gold for everything that is new, one progress line per stage."""

from __future__ import annotations

import sys
import time

from pyspark.sql import SparkSession

from jobs import bronze, gold, silver
from jobs.entry import StageReport, run_entry, spark_session
from jobs.settings import JobArgumentParser, Settings, add_settings_arguments, settings_from
from jobs.sources import Source


def run(spark: SparkSession, settings: Settings, source: Source) -> list[StageReport]:
    reports = []
    for run_stage in (
        lambda: bronze.run(spark, settings, source),
        lambda: silver.run(spark, settings),
        lambda: gold.run(spark, settings),
    ):
        reports.append(run_stage())
        reports[-1].print()
    return reports


def build_parser() -> JobArgumentParser:
    parser = JobArgumentParser(prog="lakehouse run", description=__doc__.splitlines()[0])
    add_settings_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def work() -> None:
        settings = settings_from(args)
        source = bronze.checked_source(settings)
        started = time.monotonic()
        with spark_session(settings, "pipeline") as spark:
            run(spark, settings, source)
        print(f"pipeline done in {time.monotonic() - started:.1f} s (Spark start included)")

    return run_entry("lakehouse run", work)


if __name__ == "__main__":
    sys.exit(main())
