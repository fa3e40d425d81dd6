"""The pipeline's lag (jobs/lag.py): 0 while gold has the hour the newest bronze record arrived in, else the seconds
between the end of gold's newest hour and that record; an hour stamped ahead of the clock does not hide a stalled
gold, and a gold further behind than its recent partitions is still found."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jobs import lag
from jobs.storage.delta import ensure_tables
from jobs.storage.tables import BRONZE_EVENTS, MERCHANT_HOURLY
from testkit.events import event
from testkit.lakehouses import gold_hours, land

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def arrived(spark, settings, *moments: datetime) -> None:
    for moment in moments:
        land(spark, settings, [event(event_id=f"e-{moment:%H%M%S}")], ingested_at=moment)


def test_the_lag_is_the_time_bronze_has_had_records_past_gold_s_newest_hour(spark, settings):
    ensure_tables(spark, settings, [BRONZE_EVENTS.name, MERCHANT_HOURLY.name])
    empty = lag.measure(spark, settings, NOW)
    assert (empty.seconds, empty.line()) == (0.0, "lag: bronze and gold are empty")

    arrived(spark, settings, datetime(2026, 11, 23, 12, 40, tzinfo=UTC))
    waiting = lag.measure(spark, settings, NOW)
    assert (waiting.seconds, waiting.line()) == (None, "lag: gold has no hour yet")

    gold_hours(spark, settings, datetime(2026, 11, 23, 11, tzinfo=UTC), datetime(2026, 11, 23, 12, tzinfo=UTC))
    caught_up = lag.measure(spark, settings, NOW)
    assert (caught_up.gold_hour_end, caught_up.newest_bronze) == (datetime(2026, 11, 23, 13, tzinfo=UTC), None)
    assert caught_up.seconds == 0.0

    arrived(spark, settings, datetime(2026, 11, 23, 13, 10, tzinfo=UTC), datetime(2026, 11, 23, 14, 30, 15, tzinfo=UTC))
    behind = lag.measure(spark, settings, NOW)
    assert behind.seconds == 90 * 60 + 15
    assert behind.line() == (
        "lag: 5,415 s: gold's newest hour ends 2026-11-23 13:00 UTC,"
        " the newest bronze record arrived 2026-11-23 14:30:15"
    )


def test_an_hour_ahead_of_the_clock_is_ignored_and_an_old_gold_is_found(spark, settings):
    ensure_tables(spark, settings, [BRONZE_EVENTS.name, MERCHANT_HOURLY.name])
    old_hour = NOW - timedelta(days=lag.RECENT_DAYS + 2, hours=3)
    # A device clock a month ahead stamped an event, and gold has its hour: it is not gold's newest.
    gold_hours(spark, settings, old_hour, NOW + timedelta(days=30))
    arrived(spark, settings, NOW - timedelta(minutes=5))

    stalled = lag.measure(spark, settings, NOW)
    assert stalled.gold_hour_end == old_hour + timedelta(hours=1)
    assert stalled.seconds == (NOW - timedelta(minutes=5) - old_hour - timedelta(hours=1)).total_seconds()
