"""Silver's copy check looks for an event's copies on its UTC date and the dates on either side only (DESIGN.md §4:
a resend carries the same occurred_at), so its cost grows with the batch, not with silver."""

from __future__ import annotations

from datetime import date

from jobs import silver
from jobs.storage.delta import ensure_tables, read_table
from jobs.storage.tables import SILVER_EVENTS
from testkit.events import bronze_records, event


def added(spark, settings, occurred_at: str) -> int:
    """Add one copy of event e-1, occurring at `occurred_at` (before its landing on 2026-11-24), the way silver adds
    a batch's events."""
    records = bronze_records(spark, [event(event_id="e-1", occurred_at=occurred_at)])
    accepted = silver.first_copies(silver.validated_records(settings, records))
    return silver.add_events(spark, settings, accepted)


def test_a_copy_is_found_on_its_date_and_the_dates_beside_it_and_nowhere_else(spark, settings):
    ensure_tables(spark, settings, [SILVER_EVENTS.name])
    assert added(spark, settings, "2026-11-20T23:59:59Z") == 1
    assert added(spark, settings, "2026-11-20T23:59:59Z") == 0  # a resend
    assert added(spark, settings, "2026-11-21T00:00:00Z") == 0  # the next date
    assert added(spark, settings, "2026-11-19T00:00:00Z") == 0  # the date before
    # Three dates later is not a resend, and silver is not searched there: the check reads 3 dates, not the table.
    assert added(spark, settings, "2026-11-23T12:00:00Z") == 1
    dates = sorted(row["event_date"].isoformat() for row in read_table(spark, settings, "silver.events").collect())
    assert dates == ["2026-11-20", "2026-11-23"]


def test_the_copy_match_names_only_the_batch_dates_and_their_neighbours():
    match = silver.copy_match([date(2026, 11, 24), date(2026, 11, 25)])
    assert match.startswith(
        "t.event_date IN (DATE '2026-11-23', DATE '2026-11-24', DATE '2026-11-25', DATE '2026-11-26') "
    )
    assert match.endswith("AND t.event_id = s.event_id")
