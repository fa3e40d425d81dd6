"""One payload per quarantine reason of the contract (more where a reason has several ways in), ingested at
testkit.events.INGESTED_AT: the reference the validation and contract tests share."""

from __future__ import annotations

import json

from jobs.transforms.validation import MAX_NESTING
from testkit.events import event, order

# A valid version 1 event with an unknown field, as JSON text to change by hand.
EVENT_TEXT = json.dumps(event(x=1))

REJECTED = [
    ("malformed_json", '{"event_id": "e-1", '),
    ("malformed_json", "[1, 2]"),
    ("malformed_json", ""),
    # found by the fuzz campaign (tests/heavy/test_contract_fuzz.py): Spark's parser reads the first value and
    # ignores what follows it, reads a lone surrogate escape as '?', and overflows its stack on deep nesting
    ("malformed_json", EVENT_TEXT + " x"),
    ("malformed_json", EVENT_TEXT + ","),
    ("malformed_json", EVENT_TEXT + EVENT_TEXT),
    ("malformed_json", EVENT_TEXT + ' "}"'),
    ("malformed_json", EVENT_TEXT + "]"),
    ("malformed_json", EVENT_TEXT.replace('"e-1"', '"e-\\ud800"')),
    ("malformed_json", EVENT_TEXT.replace('"e-1"', '"e-\\udc00\\ud800"')),
    ("malformed_json", EVENT_TEXT.replace('"x": 1', '"x": ' + "[" * MAX_NESTING + "]" * MAX_NESTING)),
    ("malformed_json", '{"a":' * 1_000 + "1" + "}" * 1_000),  # the depth that overflowed the stack
    ("missing_field:schema_version", event(schema_version=...)),
    ("bad_type:schema_version", event(schema_version="1")),
    ("bad_type:schema_version", EVENT_TEXT.replace('"schema_version": 1', '"schema_version": 1.0')),
    ("unsupported_schema_version", event(schema_version=3)),
    ("unsupported_schema_version", event(schema_version=0)),
    ("missing_field:event_id", event(event_id=...)),
    ("missing_field:event_id", event(event_id=None)),
    ("missing_field:event_type", event(event_type=...)),
    ("missing_field:merchant_id", event(merchant_id=...)),
    ("missing_field:occurred_at", event(occurred_at=...)),
    ("missing_field:order_id", order(order_id=...)),
    ("missing_field:currency", order(currency=None)),
    ("missing_field:amount_minor", order(event_type="order_refunded", items=..., amount_minor=...)),
    ("bad_type:event_id", event(event_id=17)),
    ("bad_type:merchant_id", event(merchant_id=["m"])),
    ("bad_type:occurred_at", event(occurred_at=1732453500)),
    ("bad_type:customer_id", event(customer_id=5)),
    ("bad_type:amount_minor", order(amount_minor="25.00")),
    ("bad_type:amount_minor", order(amount_minor=25.5)),
    ("bad_type:items", order(items={"sku": "a"})),
    ("bad_type:items", order(items=[{"sku": 1, "name": "x", "quantity": 1, "unit_price_minor": 1}])),
    ("bad_type:url", event(url=7)),
    ("unknown_event_type", event(event_type="wishlist_add")),
    ("bad_value:event_id", event(event_id="")),
    ("bad_value:event_id", event(event_id="x" * 65)),
    ("bad_value:merchant_id", event(merchant_id="m" * 65)),
    # a line break or other control character, or a backslash, cannot be written as an InfluxDB tag
    ("bad_value:merchant_id", event(merchant_id="m\\")),
    ("bad_value:merchant_id", event(merchant_id="m\\1")),
    ("bad_value:merchant_id", event(merchant_id="m\n1")),
    ("bad_value:merchant_id", event(merchant_id="m1\n")),
    ("bad_value:merchant_id", event(merchant_id="\u0000")),
    ("bad_value:merchant_id", event(merchant_id="m\u007f")),
    ("bad_value:occurred_at", event(occurred_at="2026-11-24 13:05:00")),
    ("bad_value:occurred_at", event(occurred_at="2026-11-24T13:05:00")),
    ("bad_value:occurred_at", event(occurred_at="2026-02-30T10:00:00Z")),
    # beyond what Spark's timestamps and InfluxDB's times hold: offsets past 18 hours, leap seconds, before 1970
    ("bad_value:occurred_at", event(occurred_at="2026-11-24T13:05:00+18:01")),
    ("bad_value:occurred_at", event(occurred_at="2026-11-24T13:05:00-23:59")),
    ("bad_value:occurred_at", event(occurred_at="2026-11-24T13:59:60Z")),
    ("bad_value:occurred_at", event(occurred_at="1969-12-31T23:59:59Z")),
    ("bad_value:occurred_at", event(occurred_at="0001-01-01T00:00:00Z")),
    ("bad_value:occurred_at", event(occurred_at="2026-11-24T13:05:00Z\n")),
    ("bad_value:currency", order(currency="eur")),
    ("bad_value:currency", order(currency="EURO")),
    ("bad_value:currency", order(currency="EUR\n")),  # a regular expression's `$` matches before a final line break
    ("bad_value:amount_minor", order(amount_minor=0)),
    ("bad_value:amount_minor", order(amount_minor=10**15)),
    ("bad_value:amount_minor", order(amount_minor=10**20)),
    ("bad_type:amount_minor", json.dumps(order()).replace('"amount_minor": 2500', '"amount_minor": 2500.00')),
    ("bad_value:items", order(items=[{"sku": "a", "name": "x", "quantity": 0, "unit_price_minor": 1}])),
    ("bad_value:items", order(items=[{"sku": "a", "name": "x", "quantity": 1, "unit_price_minor": -1}])),
    ("bad_value:items", order(items=[{"sku": "a", "name": "x", "quantity": 1}])),
    # quantities under 10^9 and prices under 10^15 keep an item's revenue, and any sum of them, exact (EXACT_SUM)
    ("bad_value:items", order(items=[{"sku": "a", "name": "x", "quantity": 10**9, "unit_price_minor": 1}])),
    ("bad_value:items", order(items=[{"sku": "a", "name": "x", "quantity": 1, "unit_price_minor": 10**15}])),
    ("bad_value:items", order(items=[{"sku": "a", "name": "x", "quantity": 2**63, "unit_price_minor": 1}])),
    ("bad_value:items", event(items=[{"sku": "a", "name": "x", "quantity": 1, "unit_price_minor": 1}])),
    ("too_far_in_future", event(occurred_at="2026-11-24T16:00:00.001Z")),
    # schema version 2
    ("bad_type:channel", event(schema_version=2, channel=1)),
    ("bad_value:channel", event(schema_version=2, channel="tv")),
    ("bad_value:channel", event(schema_version=2, channel="Web")),
    ("bad_type:discount_minor", order(schema_version=2, discount_minor="5")),
    ("bad_type:tax_minor", order(schema_version=2, tax_minor=1.5)),
    ("bad_value:discount_minor", order(schema_version=2, discount_minor=-1)),
    ("bad_value:tax_minor", order(schema_version=2, tax_minor=10**15)),
    ("bad_value:discount_minor", event(schema_version=2, discount_minor=5)),
    ("bad_value:tax_minor", order(schema_version=2, event_type="order_refunded", items=..., tax_minor=5)),
    (
        "bad_value:items",
        event(schema_version=2, items=[{"sku": "a", "name": "x", "quantity": 1, "unit_price_minor": 1}]),
    ),
    ("too_far_in_future", event(schema_version=2, channel="app", occurred_at="2026-11-24T16:00:00.001Z")),
]
