"""One Spark session for the whole test run (real Spark, real Delta), local Kafka and Kinesis started on demand,
and helpers to build tiny inputs."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from pyspark.sql import DataFrame, SparkSession

from jobs import services
from jobs.contract import load_schema, supported_versions
from jobs.services.base import Service, free_port
from jobs.settings import ServiceSettings, Settings, service_settings, settings_from
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
def spark(base_settings: Settings, kinesis_service: str) -> SparkSession:
    # Kinesis first: Spark's Python workers (where the Kinesis source runs) inherit the JVM's environment, fixed
    # when the JVM starts, and must find the emulator through boto3's AWS_* variables.
    session = build_session(base_settings, "tests")
    yield session
    session.stop()


@pytest.fixture
def settings(base_settings: Settings, tmp_path: Path) -> Settings:
    """Settings whose warehouse and checkpoints live in this test's own temporary folder."""
    return replace(base_settings, warehouse=str(tmp_path / "warehouse"), checkpoints=str(tmp_path / "checkpoints"))


class SchemaRegistry:
    """The registry's JSON Schemas, checked with the jsonschema library: the reference that Spark validation is
    compared with. An event is checked against the version it names (version 1's schema, which rejects it, for any
    other)."""

    def __init__(self) -> None:
        self.validators = {}
        for version in supported_versions():
            schema = load_schema(version)
            Draft202012Validator.check_schema(schema)
            self.validators[version] = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)

    def iter_errors(self, instance: object):
        version = instance.get("schema_version") if isinstance(instance, dict) else None
        return self.validators.get(version if type(version) is int else 1, self.validators[1]).iter_errors(instance)

    def is_valid(self, instance: object) -> bool:
        return next(iter(self.iter_errors(instance)), None) is None


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


# --- local services ----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def session_service_settings(tmp_path_factory: pytest.TempPathFactory) -> ServiceSettings:
    """Where this test session runs its services: a run dir of its own under pytest's temporary folder, free ports.

    Not the developer's .run/ and default ports, so that a test session never stops, wipes or fills services a
    developer started with `make services-up`, nor those of another pytest session running at the same time on this
    shared machine. The price is one start per session that uses them: Kafka about 3 s, kinesalite under 1 s,
    OpenSearch about 6 s.
    """
    ports = {
        "kafka": free_port(span=2),
        "kinesis": free_port(),
        "influxdb": free_port(span=2),
        "opensearch": free_port(span=2),
        "trino": free_port(),
    }
    java_home = service_settings().trino_java_home
    return ServiceSettings(run_dir=tmp_path_factory.mktemp("run"), port_overrides=ports, trino_java_home=java_home)


@contextmanager
def _running(name: str, settings: ServiceSettings) -> Iterator[Service]:
    """Start the service if it is not up, point clients at it through its exported variables (boto3 reads
    AWS_ENDPOINT_URL_KINESIS, also in Spark's Python workers), and stop it at the end only if it was started here."""
    [state] = services.up([name], settings=settings, quiet=True)
    [service] = services.select([name], settings)
    with pytest.MonkeyPatch.context() as patch:
        for variable, value in service.exports().items():
            patch.setenv(variable, value)
        yield service
    if state.started:
        services.down([name], settings=settings, quiet=True)


@pytest.fixture(scope="session")
def kafka_service(session_service_settings: ServiceSettings) -> Iterator[str]:
    """A real KRaft broker for the session; yields its bootstrap servers, `127.0.0.1:<port>`."""
    with _running("kafka", session_service_settings) as service:
        yield service.address


@pytest.fixture(scope="session")
def influxdb_service(session_service_settings: ServiceSettings) -> Iterator[str]:
    """InfluxDB 1.6 for the session; yields its URL (also in LAKEHOUSE_INFLUXDB_URL)."""
    with _running("influxdb", session_service_settings) as service:
        yield service.url


@pytest.fixture(scope="session")
def opensearch_service(session_service_settings: ServiceSettings) -> Iterator[str]:
    """One OpenSearch 2.19 node for the session; yields its URL (also in LAKEHOUSE_OPENSEARCH_URL)."""
    with _running("opensearch", session_service_settings) as service:
        yield service.url


@pytest.fixture(scope="session")
def trino_service(session_service_settings: ServiceSettings) -> Iterator[str]:
    """One Trino 476 server for the session; yields its URL (also in LAKEHOUSE_TRINO_URL, which notebooks read)."""
    with _running("trino", session_service_settings) as service:
        yield service.url


@pytest.fixture(scope="session")
def kinesis_service(session_service_settings: ServiceSettings) -> Iterator[str]:
    """Kinesalite for the session; yields its endpoint URL (boto3 clients find it through the environment too)."""
    with _running("kinesis", session_service_settings) as service:
        yield service.endpoint_url
