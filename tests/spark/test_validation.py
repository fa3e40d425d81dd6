"""Silver validation: every quarantine reason of the contract, typed fields, extra fields, UTC bucketing."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from jobs.transforms.validation import MAX_NESTING, accepted_events, quarantined_records, validate_events
from testkit.events import bronze_records, event, order
from testkit.rejections import REJECTED


def test_every_rejection_gets_its_reason(spark):
    payloads = [payload for _, payload in REJECTED]
    # Only the reasons: a rejected year 0001 has no Python datetime.
    validated = validate_events(bronze_records(spark, payloads)).select("source_position", "reason").collect()
    by_line = {int(row["source_position"].rsplit(":", 1)[1]): row["reason"] for row in validated}
    got = [by_line[line] for line in range(1, len(REJECTED) + 1)]
    assert got == [reason for reason, _ in REJECTED]


def nested_lists(levels: int) -> list:
    nested: list = []
    for _ in range(levels - 1):
        nested = [nested]
    return nested


def test_valid_events_are_accepted(spark):
    payloads = [
        event(),
        event(customer_id=None, session_id=None, url=None),
        order(),
        order(event_type="order_refunded", items=...),
        order(items=...),
        event(occurred_at="2026-11-24T16:00:00Z"),  # exactly one hour after ingestion is still allowed
        event(occurred_at="1970-01-01T00:00:00+18:00"),  # the earliest time the contract takes
        event(event_id="e-\U0001f600"),  # json.dumps writes it as a surrogate pair of escapes
        event(x=nested_lists(MAX_NESTING - 1)),  # with the event's own object, as deep as the contract takes
        event(occurred_at="2026-11-24t13:05:00.123456789+05:30"),
        event(event_type="checkout_started", currency="USD"),
    ]
    assert all(
        reason is None
        for reason in [row["reason"] for row in validate_events(bronze_records(spark, payloads)).collect()]
    )


def test_accepted_event_is_typed_and_bucketed_by_utc_hour(spark):
    # 00:30 at +05:30 is 19:00 UTC the day before: the event belongs to that UTC hour and date.
    payload = order(occurred_at="2026-11-24T00:30:00.250+05:30", amount_minor=123456789012)
    row = accepted_events(validate_events(bronze_records(spark, [payload]))).first()
    assert row["occurred_at"] == datetime(2026, 11, 23, 19, 0, 0, 250000)
    assert row["event_hour"] == datetime(2026, 11, 23, 19, 0)
    assert row["event_date"] == date(2026, 11, 23)
    assert row["amount_minor"] == 123456789012
    assert row["schema_version"] == 1
    assert [item.asDict() for item in row["items"]] == [
        {"sku": "sku-1", "name": "Mug", "quantity": 2, "unit_price_minor": 1250}
    ]
    assert row["extra"] is None


def test_version_2_fields_are_typed_and_a_version_1_event_keeps_them_in_extra(spark):
    payloads = [
        order(event_id="v2", schema_version=2, channel="pos", discount_minor=250, tax_minor=416),
        event(event_id="v2-bare", schema_version=2),
        # Version 1 does not define these names: the event is valid, and they are kept, not read as version 2's.
        event(event_id="v1", channel="tv", discount_minor="lots"),
    ]
    rows = {row["event_id"]: row for row in accepted_events(validate_events(bronze_records(spark, payloads))).collect()}
    assert set(rows) == {"v2", "v2-bare", "v1"}
    assert (rows["v2"]["schema_version"], rows["v2"]["channel"]) == (2, "pos")
    assert (rows["v2"]["discount_minor"], rows["v2"]["tax_minor"], rows["v2"]["extra"]) == (250, 416, None)
    assert [rows["v2-bare"][f] for f in ("channel", "discount_minor", "tax_minor", "extra")] == [None] * 4
    assert [rows["v1"][f] for f in ("channel", "discount_minor", "tax_minor")] == [None] * 3
    assert json.loads(rows["v1"]["extra"]) == {"channel": "tv", "discount_minor": "lots"}


def test_negative_offset_crosses_midnight_forward(spark):
    row = accepted_events(
        validate_events(bronze_records(spark, [event(occurred_at="2026-11-23T20:15:00-08:00")]))
    ).first()
    assert (row["event_hour"], row["event_date"]) == (datetime(2026, 11, 24, 4, 0), date(2026, 11, 24))


def test_very_old_event_is_accepted_in_its_own_hour(spark):
    row = accepted_events(validate_events(bronze_records(spark, [event(occurred_at="2019-03-01T08:59:59Z")]))).first()
    assert (row["event_hour"], row["event_date"]) == (datetime(2019, 3, 1, 8, 0), date(2019, 3, 1))


def test_unknown_fields_are_kept_in_extra(spark):
    # Numbers as they were written, even past what a double holds.
    payload = json.dumps(event(app_version="3.2.1", flags={"beta": True}))[:-1] + ', "score": 1.50, "big": 1e400}'
    row = accepted_events(validate_events(bronze_records(spark, [payload]))).first()
    assert json.loads(row["extra"], parse_float=str) == {
        "app_version": "3.2.1",
        "flags": {"beta": True},
        "score": "1.50",
        "big": "1E+400",
    }


def test_quarantine_keeps_the_payload_exactly(spark):
    payload = '{"event_id": "e-1",   "broken"'
    row = quarantined_records(validate_events(bronze_records(spark, [payload]))).first()
    assert row["payload"] == payload
    assert row["reason"] == "malformed_json"
    assert row["source_position"] == "file:/landing/f.jsonl:1"
    assert row["ingest_date"] == date(2026, 11, 24)


@pytest.mark.parametrize(
    ("occurred_at", "reason"), [("2026-11-24T11:00:00Z", None), ("2026-11-24T11:00:00.5Z", "too_far_in_future")]
)
def test_future_limit_is_one_hour_after_ingestion(spark, occurred_at, reason):
    ingested = datetime(2026, 11, 24, 10, tzinfo=UTC)
    records = bronze_records(spark, [event(occurred_at=occurred_at)], ingested_at=ingested)
    assert validate_events(records).first()["reason"] == reason
