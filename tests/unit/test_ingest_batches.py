"""What the ingestion API takes from a request body: each event's bytes exactly as sent, and a defined refusal for
anything else, whatever the bytes."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.serving.batches import MAX_EVENTS, events_of, media_type
from jobs.serving.ingest import RateLimiter
from jobs.serving.web import Refused
from testkit import fuzz

ARRAY, LINES = "application/json", "application/x-ndjson"


def test_each_event_keeps_its_bytes_as_sent_in_an_array_and_in_lines():
    spelled = [
        b'{"merchant_id":"m-1","event_id":"a"}',
        b'{ "event_id" : "b",\t"merchant_id": "m\\u002d1", "amount": 1.50e0, "big": 123456789012345678901234567890 }',
        '{"merchant_id":"m-1","name":"caf\u00e9 \U0001f600"}'.encode(),
    ]
    array = b" [\n" + b" ,\r\n".join(spelled) + b"\n] \n"
    assert [(event.payload, event.merchant_id) for event in events_of(array, ARRAY)] == [(s, "m-1") for s in spelled]
    lines = b"\n".join(spelled[:2]) + b"\r\n\n" + spelled[2] + b"\n"
    assert [event.payload for event in events_of(lines, LINES)] == spelled


@pytest.mark.parametrize(
    ("body", "kind", "status", "reason"),
    [
        (b'{"merchant_id":"m"}', ARRAY, 400, "not a JSON array"),
        (b"[1]", ARRAY, 400, "event 1 is not an object with a merchant_id"),
        (b'[{"merchant_id":"m"}, {"merchant_id":7}]', ARRAY, 400, "event 2 is not an object with a merchant_id"),
        (b'[{"merchant_id":"m","merchant_id":"other"}]', ARRAY, 400, "merchant_id twice"),
        (b'[{"merchant_id":"m","merch\\u0061nt_id":"other"}]', ARRAY, 400, "merchant_id twice"),
        (b'[{"merchant_id":"m"},]', ARRAY, 400, "not a JSON array"),
        (b'{"merchant_id":"m"}\n{"merchant_id":"m"', LINES, 400, "event 2 is not valid JSON"),
        (b'[{"merchant_id":"m"}] [{"merchant_id":"m"}]', ARRAY, 400, "not a JSON array"),
        (b"[" * 200_000, ARRAY, 400, "nested too deeply"),
        (b'{"merchant_id":"m","x":' + b"[" * 200_000 + b"\n", LINES, 400, "nested too deeply"),
        (b'\xff[{"merchant_id":"m"}]', ARRAY, 400, "not UTF-8"),
        (b'{"merchant_id":"m"} {"merchant_id":"m"}\n', LINES, 400, "event 1 is not valid JSON"),
        (b"[" + b",".join([b'{"merchant_id":"m"}'] * (MAX_EVENTS + 1)) + b"]", ARRAY, 413, "more than 500"),
        (b'{"merchant_id":"m"}\n' * (MAX_EVENTS + 1), LINES, 413, "more than 500"),
        (b'[{"merchant_id":"' + b"x" * (1024 * 1024) + b'"}]', ARRAY, 413, "larger than"),
        (b'[{"merchant_id":"m","x":"' + b"x" * 1_000_000 + b'"}]', ARRAY, 413, "event 1 is larger than 1,000,000"),
    ],
)
def test_a_body_the_edge_cannot_route_is_refused_with_its_status(body, kind, status, reason):
    with pytest.raises(Refused) as refused:
        events_of(body, kind)
    assert refused.value.status == status
    assert reason in refused.value.reason


def test_two_merchant_ids_are_refused_however_deep_the_rest_nests():
    for depth in (10, 990, 995, 2000):
        body = b'{"merchant_id":"B","merchant_id":"A","x":' + b"[" * depth + b"]" * depth + b"}\n"
        with pytest.raises(Refused) as refused:
            events_of(body, LINES)
        assert refused.value.status == 400


def test_a_merchant_id_inside_another_field_is_not_a_second_one():
    body = b'[{"merchant_id":"m","extra":{"merchant_id":"other"}}]'
    assert [event.merchant_id for event in events_of(body, ARRAY)] == ["m"]


def test_five_hundred_events_are_taken():
    assert len(events_of(b"[" + b",".join([b'{"merchant_id":"m"}'] * MAX_EVENTS) + b"]", ARRAY)) == MAX_EVENTS


@pytest.mark.parametrize(
    ("header", "kind"),
    [("application/json", ARRAY), ("Application/JSON; charset=UTF-8", ARRAY), ("application/x-ndjson", LINES)],
)
def test_media_types_taken(header, kind):
    assert media_type(header) == kind


@pytest.mark.parametrize("header", [None, "", "text/plain", "application/json; charset=latin-1", "application/xml"])
def test_other_media_types_are_refused_with_415(header):
    with pytest.raises(Refused) as refused:
        media_type(header)
    assert refused.value.status == 415


def _routable(record: bytes) -> bool:
    """One JSON object with a merchant_id string, read as the edge reads it (numbers not converted)."""
    try:
        value = json.loads(record, parse_int=lambda _: 0, parse_float=lambda _: 0.0, parse_constant=lambda _: 0.0)
    except (ValueError, RecursionError):
        return False
    return isinstance(value, dict) and isinstance(value.get("merchant_id"), str)


@settings(max_examples=150, deadline=None)
@given(st.lists(fuzz.records(), max_size=8), st.sampled_from([ARRAY, LINES]))
def test_any_bytes_either_give_their_events_as_sent_or_a_defined_refusal(records, kind):
    body = b"[" + b",".join(records) + b"]" if kind == ARRAY else b"\n".join(records)
    try:
        events = events_of(body, kind)
    except Refused as refused:
        assert refused.status in (400, 413)
        return
    for event in events:
        assert event.payload in body
        assert _routable(event.payload)
        # Isolation: what silver reads (or it quarantines the record) names the merchant the edge routed by.
        try:
            strict = fuzz.parse_strictly(event.payload)
        except ValueError:
            continue
        assert isinstance(strict, dict) and strict["merchant_id"] == event.merchant_id
    if kind == ARRAY and all(_routable(record) for record in records):
        assert [event.payload for event in events] == [record.strip(b" \t\n\r") for record in records]


def test_the_rate_limit_allows_bursts_of_two_seconds_then_the_rate():
    limiter = RateLimiter(rate=1000)
    assert limiter.take("m", 500, now=0.0) == 0
    assert limiter.take("m", 500, now=0.0) == 0
    assert limiter.take("m", 500, now=0.0) == 0
    assert limiter.take("m", 500, now=0.0) == 0
    assert limiter.take("m", 500, now=0.0) == pytest.approx(0.5)  # the bucket of 2,000 is empty
    assert limiter.take("other", 500, now=0.0) == 0  # each merchant has its own
    assert limiter.take("m", 500, now=0.5) == 0
