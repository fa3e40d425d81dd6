"""One Spark session for the whole test run (real Spark, real Delta), and helpers to build tiny inputs."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pyspark.sql import DataFrame, SparkSession

from jobs.settings import Settings, settings_from
from jobs.spark import build_session

INGESTED_AT = datetime(2026, 11, 24, 15, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def base_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("lakehouse")
    args = argparse.Namespace(
        warehouse=str(root / "warehouse"), checkpoints=str(root / "checkpoints"), source=None, master="local[2]"
    )
    return replace(settings_from(args, env={}), shuffle_partitions=2, driver_memory="2g")


@pytest.fixture(scope="session")
def spark(base_settings: Settings) -> SparkSession:
    session = build_session(base_settings, "tests")
    yield session
    session.stop()


@pytest.fixture
def settings(base_settings: Settings, tmp_path: Path) -> Settings:
    """Settings whose warehouse and checkpoints live in this test's own temporary folder."""
    return replace(base_settings, warehouse=str(tmp_path / "warehouse"), checkpoints=str(tmp_path / "checkpoints"))


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
    schema = "payload string, source string, source_position string, ingested_at timestamp, ingest_date date"
    return spark.createDataFrame(rows, schema)
