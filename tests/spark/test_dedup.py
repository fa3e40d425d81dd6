"""De-duplication: the first accepted copy of an event wins, in arrival order."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pyspark.sql import functions as F

from jobs.transforms.dedup import first_copy_per_event, position_sort_key
from jobs.transforms.validation import accepted_events, validate_events
from testkit.events import bronze_records, event


def accepted(spark, payloads, **kwargs):
    return accepted_events(validate_events(bronze_records(spark, payloads, **kwargs)))


@pytest.mark.parametrize(
    "positions",
    [
        ["file:/a.jsonl:9", "file:/a.jsonl:10", "file:/a.jsonl:100"],
        ["events-3-99", "events-3-100"],
        ["shardId-000000000001-99999999999999999999", "shardId-000000000001-100000000000000000000"],
    ],
)
def test_position_sort_key_orders_positions_of_one_source_numerically(spark, positions):
    df = spark.createDataFrame([(p,) for p in reversed(positions)], "p string")
    assert [row["p"] for row in df.orderBy(position_sort_key(F.col("p"))).collect()] == positions


def test_copies_in_one_batch_count_once(spark):
    events = accepted(spark, [event(event_id="a"), event(event_id="b"), event(event_id="a")])
    assert sorted(row["event_id"] for row in events.transform(first_copy_per_event).collect()) == ["a", "b"]


def test_conflicting_copy_first_arrival_wins_by_line(spark):
    payloads = [event(event_id=f"filler-{i}") for i in range(8)]
    payloads += [event(event_id="a", merchant_id="first"), event(event_id="a", merchant_id="second")]
    # the copies sit on lines 9 and 10: a text sort would put line 10 first
    rows = accepted(spark, payloads).transform(first_copy_per_event).filter("event_id = 'a'").collect()
    assert [row["merchant_id"] for row in rows] == ["first"]


def test_conflicting_copy_earlier_ingestion_wins(spark):
    early = accepted(spark, [event(event_id="a", merchant_id="early")], file="z.jsonl")
    late = accepted(
        spark, [event(event_id="a", merchant_id="late")], ingested_at=datetime(2026, 11, 25, tzinfo=UTC), file="a.jsonl"
    )
    rows = late.unionByName(early).transform(first_copy_per_event).collect()
    assert [row["merchant_id"] for row in rows] == ["early"]
