"""The lateness figures of a batch: late events, and how late, for ops.batch_health."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jobs.transforms.lateness import lateness


def test_lateness_counts_events_after_their_hour_and_takes_max_and_nearest_rank_p95(spark):
    hour = datetime(2026, 11, 24, 13, tzinfo=UTC)
    on_time = [(hour + timedelta(minutes=10), hour + timedelta(minutes=59))]  # arrived within its hour
    late = [(hour + timedelta(minutes=30), hour + timedelta(minutes=30, hours=n)) for n in range(1, 21)]
    rows = [(occurred, hour, ingested) for occurred, ingested in on_time + late]
    events = spark.createDataFrame(rows, "occurred_at timestamp, event_hour timestamp, ingested_at timestamp")

    figures = events.transform(lateness).first().asDict()

    assert figures == {"late_events": 20, "lateness_max_seconds": 20 * 3600, "lateness_p95_seconds": 19 * 3600}


def test_no_late_event_gives_zero_and_nulls(spark):
    hour = datetime(2026, 11, 24, 13, tzinfo=UTC)
    events = spark.createDataFrame(
        [(hour, hour, hour)], "occurred_at timestamp, event_hour timestamp, ingested_at timestamp"
    )
    assert events.transform(lateness).first().asDict() == {
        "late_events": 0,
        "lateness_max_seconds": None,
        "lateness_p95_seconds": None,
    }
