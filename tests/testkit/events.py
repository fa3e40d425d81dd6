"""Tiny inputs: valid events that a test changes one field at a time, and bronze rows made from them."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from pyspark.sql import DataFrame, SparkSession

from jobs.storage.tables import BRONZE_EVENTS

INGESTED_AT = datetime(2026, 11, 24, 15, 0, 0, tzinfo=UTC)


def event(**fields: object) -> dict:
    """A valid page_view unless fields say otherwise; a field set to ... is removed."""
    base = {
        "event_id": "e-1",
        "event_type": "page_view",
        "merchant_id": "m-1",
        "occurred_at": "2026-11-24T13:05:00.123Z",
        "schema_version": 1,
        "customer_id": "c-1",
        "session_id": "s-1",
    }
    base.update(fields)
    return {key: value for key, value in base.items() if value is not ...}


def order(**fields: object) -> dict:
    """A valid order_placed unless fields say otherwise."""
    defaults = {
        "event_type": "order_placed",
        "order_id": "o-1",
        "currency": "EUR",
        "amount_minor": 2500,
        "items": [{"sku": "sku-1", "name": "Mug", "quantity": 2, "unit_price_minor": 1250}],
    }
    return event(**{**defaults, **fields})


def bronze_records(
    spark: SparkSession, payloads: list[str | dict], ingested_at: datetime = INGESTED_AT, file: str = "f.jsonl"
) -> DataFrame:
    """Bronze rows for these payloads (dicts are serialised), positioned as lines 1.. of one file."""
    rows = [
        (
            payload if isinstance(payload, str) else json.dumps(payload),
            "files",
            f"file:/landing/{file}:{line}",
            ingested_at,
            ingested_at.date(),
        )
        for line, payload in enumerate(payloads, start=1)
    ]
    return spark.createDataFrame(rows, BRONZE_EVENTS.ddl)
