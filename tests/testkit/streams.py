"""Generated records for the stream tests, and the check that each record landed exactly once."""

from __future__ import annotations

from datetime import UTC, datetime

from pyspark.sql import SparkSession

from jobs.devtools.chaos import what_landed
from jobs.devtools.produce import generated_records
from jobs.runtime.settings import Settings


def some_records(events: int, seed: int) -> list[bytes]:
    """Generator events of this hour from 200 merchants, as the bytes a producer sends."""
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return generated_records(events, seed=seed, merchants=200, start=start)


def assert_landed_exactly_once(spark: SparkSession, settings: Settings, sent: int, expected_ids: set[str]) -> None:
    landing = what_landed(spark, settings)
    assert landing.lost_and_doubled(sent) == (0, 0)
    assert landing.bronze_rows == sent
    assert landing.silver_rows == len(expected_ids)
    assert landing.silver_ids == expected_ids
