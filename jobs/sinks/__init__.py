"""Where gold is published: the time-series store (influx.py) and the search index (search.py).

Each sink turns gold rows into its own records in the JVM and writes them from Spark partitions, never by
collecting gold to the driver. `lakehouse publish` (jobs/publish.py) decides which rows; a sink only says how.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from pyspark.sql import DataFrame, SparkSession

from jobs.runtime.settings import Settings
from jobs.sinks.influx import InfluxSink
from jobs.sinks.search import SearchSink


class Target(Protocol):
    """How one gold table is kept in a sink."""

    @property
    def key(self) -> tuple[str, ...]:
        """The columns that identify a row, and so its record in the sink."""

    @property
    def time(self) -> str:
        """The column holding the row's slice start: hour_start or date."""


class Sink(Protocol):
    @property
    def name(self) -> str:
        """What --sinks and LAKEHOUSE_SINKS call it."""

    @property
    def targets(self) -> Mapping[str, Target]:
        """Gold table -> how its rows are kept."""

    def prepare(self, settings: Settings) -> None:
        """Make the sink ready to take the targets' rows (a database, index templates); idempotent."""

    def write(self, settings: Settings, table: str, rows: DataFrame) -> int:
        """Write (or overwrite) the records of `rows`; returns how many the sink acknowledged."""

    def delete(self, settings: Settings, table: str, gone: DataFrame) -> int:
        """Delete the records of the keys in `gone` (rows gold no longer has); returns how many."""

    def held_keys(self, spark: SparkSession, settings: Settings, table: str) -> DataFrame:
        """The key of every record the sink holds for `table`, typed as the table's key columns."""


SINKS: dict[str, Sink] = {sink.name: sink for sink in (InfluxSink(), SearchSink())}
