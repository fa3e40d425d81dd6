"""Fixtures of every tier: one Spark session for the whole run (real Spark, real Delta, no service), settings with a
warehouse of the test's own, and the local services, each started on first use and stopped at the end.

The tiers are folders, and each test is marked with its folder's name: `pytest -m "not slow"` leaves out the slow
tier, `make test-fast` runs tests/unit and tests/spark only.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from jobs import cli, publish, services
from jobs.runtime import session
from jobs.runtime.session import build_session
from jobs.runtime.settings import ServiceSettings, Settings, service_settings, settings_from
from jobs.services import influxdb
from jobs.services.base import Service, free_port
from jobs.services.influxdb import InfluxService
from jobs.services.kinesis import KinesisService
from jobs.services.s3 import IDENTITY as S3_IDENTITY
from jobs.services.s3 import S3Service
from jobs.services.trino import TrinoService
from testkit import lakehouses, portals

TIERS = ("unit", "spark", "integration", "slow", "heavy")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        tier = Path(item.path).parent.name
        if tier in TIERS:
            item.add_marker(tier)


@pytest.fixture(scope="session")
def base_settings(tmp_path_factory: pytest.TempPathFactory, session_service_settings: ServiceSettings) -> Settings:
    """Local warehouse and checkpoints, and the S3 settings of the session's S3 server (`s3_service`): the one Spark
    session reads s3a:// paths with them once a test starts the server."""
    root = tmp_path_factory.mktemp("lakehouse")
    args = argparse.Namespace(
        warehouse=str(root / "warehouse"), checkpoints=str(root / "checkpoints"), source=None, master="local[2]"
    )
    s3 = S3Service.configured(session_service_settings)
    s3.secret(S3_IDENTITY)  # made now, so that the settings can read it; the server is started with it
    return replace(settings_from(args, env=s3.exports()), shuffle_partitions=1, driver_memory="2g")


@pytest.fixture(scope="session")
def spark(base_settings: Settings, session_service_settings: ServiceSettings) -> Iterator[SparkSession]:
    """The session's Spark. It starts no service, but points boto3 at where this session's Kinesis will listen if a
    test starts it: Spark's Python workers (where the Kinesis source runs) inherit the JVM's environment, which is
    fixed when the JVM starts. Like Delta's own test sessions, it reads each table's log in one partition: the test
    tables are tiny, and a partition costs a task per stage."""
    with pytest.MonkeyPatch.context() as patch:
        for variable, value in KinesisService.configured(session_service_settings).exports().items():
            patch.setenv(variable, value)
        session = build_session(base_settings, "tests")
        session.conf.set("spark.databricks.delta.snapshotPartitions", "1")
        yield session
        session.stop()


@pytest.fixture(scope="session")
def small_lakehouse(
    spark: SparkSession, base_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> lakehouses.Lakehouse:
    """One pipeline run over testkit.lakehouses.SMALL_CONFIG's events, shared by the tests that read it; a test that
    changes it works on `lakehouses.copy_of` it."""
    return lakehouses.build(spark, base_settings, tmp_path_factory.mktemp("small-lakehouse"), lakehouses.SMALL_CONFIG)


@pytest.fixture(scope="session")
def s3_lakehouse(
    spark: SparkSession, base_settings: Settings, s3_service: S3Service, tmp_path_factory: pytest.TempPathFactory
) -> lakehouses.Lakehouse:
    """The small lakehouse's events run through the same pipeline with warehouse and checkpoints on the session's S3
    server (s3a://lakehouse/small/); only the landing folder is local."""
    root = tmp_path_factory.mktemp("s3-lakehouse")
    return lakehouses.build(spark, base_settings, root, lakehouses.SMALL_CONFIG, s3_prefix="small")


@pytest.fixture
def mains_use_this_session(spark: SparkSession, monkeypatch: pytest.MonkeyPatch) -> None:
    """A command's main() called in this process runs on the session's Spark, which it must not stop: its
    `spark_session` yields the test session instead of building one (a new JVM start costs a minute here)."""

    @contextmanager
    def this_session(_settings: Settings, _app_name: str) -> Iterator[SparkSession]:
        yield spark

    for module, _ in cli.COMMANDS.values():  # the CLI imports a command's module when it runs: import them now
        importlib.import_module(module)
    builds_a_session = session.spark_session
    for name, module in list(sys.modules.items()):
        if name.startswith("jobs.") and getattr(module, "spark_session", None) is builds_a_session:
            monkeypatch.setattr(module, "spark_session", this_session)


@pytest.fixture
def settings(base_settings: Settings, tmp_path: Path) -> Settings:
    """Settings whose warehouse and checkpoints live in this test's own temporary folder."""
    return replace(base_settings, warehouse=str(tmp_path / "warehouse"), checkpoints=str(tmp_path / "checkpoints"))


# --- local services ----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def session_service_settings(tmp_path_factory: pytest.TempPathFactory) -> ServiceSettings:
    """Where this test session runs its services: a run dir of its own under pytest's temporary folder, free ports.

    Not the developer's .run/ and default ports, so that a test session never stops, wipes or fills services a
    developer started with `make services-up`, nor those of another pytest session running at the same time on this
    shared machine. The price is one start per session that uses them: Kafka about 3 s, kinesalite under 1 s,
    OpenSearch about 6 s, Trino about 10 s.
    """
    ports = {
        "kafka": free_port(span=2),
        "kinesis": free_port(),
        "influxdb": free_port(span=2),
        "opensearch": free_port(span=2),
        "trino": free_port(span=2),
        "s3": free_port(span=2),  # its metrics take the next port
    }
    java_home = service_settings().trino_java_home
    return ServiceSettings(run_dir=tmp_path_factory.mktemp("run"), port_overrides=ports, trino_java_home=java_home)


@contextmanager
def _running(name: str, settings: ServiceSettings) -> Iterator[Service]:
    """Start the service if it is not up, point clients at it through its exported variables, and stop it at the end
    only if it was started here."""
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
def kinesis_service(session_service_settings: ServiceSettings) -> Iterator[str]:
    """Kinesalite for the session; yields its endpoint URL (boto3 clients find it through the environment too)."""
    with _running("kinesis", session_service_settings) as service:
        yield service.url


@pytest.fixture(scope="session")
def influxdb_service(session_service_settings: ServiceSettings) -> Iterator[InfluxService]:
    """InfluxDB 1.6 for the session, authentication on; yields the service (its URL and the pipeline's login are
    also in LAKEHOUSE_INFLUXDB_URL, _USER and _PASSWORD_FILE; `create_database` adds a database as its admin)."""
    with _running("influxdb", session_service_settings) as service:
        assert isinstance(service, InfluxService)
        yield service


@pytest.fixture(scope="session")
def opensearch_service(session_service_settings: ServiceSettings) -> Iterator[str]:
    """One OpenSearch 2.19 node for the session; yields its URL (also in LAKEHOUSE_OPENSEARCH_URL)."""
    with _running("opensearch", session_service_settings) as service:
        yield service.url


@pytest.fixture(scope="session")
def trino_service(session_service_settings: ServiceSettings) -> Iterator[TrinoService]:
    """One Trino 476 server for the session, logins and access rules on; yields the service. Its URL, certificate
    and the analyst's login are also in LAKEHOUSE_TRINO_URL, _CA_FILE, _USER and _PASSWORD_FILE (notebooks read
    them)."""
    with _running("trino", session_service_settings) as service:
        assert isinstance(service, TrinoService)
        yield service


@pytest.fixture(scope="session")
def s3_service(session_service_settings: ServiceSettings) -> Iterator[S3Service]:
    """s3proxy for the session, with its bucket `lakehouse`; yields the service. Its endpoint and identity are also
    in LAKEHOUSE_S3_ENDPOINT, _USER and _PASSWORD_FILE, and in `base_settings`."""
    with _running("s3", session_service_settings) as service:
        assert isinstance(service, S3Service)
        yield service


def publishing_to(settings: Settings, name: str, influxdb_service: InfluxService, opensearch_url: str) -> Settings:
    """`settings` publishing to the session's InfluxDB and OpenSearch, into a database and indices called `name`, as
    the pipeline's InfluxDB user."""
    influxdb_service.create_database(name)
    return replace(
        settings,
        sinks=("influxdb", "opensearch"),
        influxdb_url=influxdb_service.url,
        influxdb_login=influxdb_service.login(influxdb.PIPELINE),
        influxdb_database=name,
        opensearch_url=opensearch_url,
        opensearch_prefix=name.lower(),
        publish_max_wait_seconds=20.0,
    )


@pytest.fixture
def published(settings: Settings, tmp_path: Path, influxdb_service: InfluxService, opensearch_service: str) -> Settings:
    """Settings that publish to the session's InfluxDB and OpenSearch, into a database and indices of this test's
    own, as the pipeline's InfluxDB user."""
    return publishing_to(settings, f"test_{tmp_path.name.replace('-', '_')}", influxdb_service, opensearch_service)


# --- the portal ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def published_lakehouse(
    spark: SparkSession,
    small_lakehouse: lakehouses.Lakehouse,
    base_settings: Settings,
    influxdb_service: InfluxService,
    opensearch_service: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Settings:
    """The small lakehouse's gold, published once to the session's stores (database and indices `portal`): what the
    portal's tests read. Nothing may change it."""
    root = tmp_path_factory.mktemp("published-lakehouse")
    settings = lakehouses.copy_of(small_lakehouse, root, onto=base_settings)
    settings = publishing_to(settings, "portal", influxdb_service, opensearch_service)
    publish.run(spark, settings)
    return settings


@pytest.fixture(scope="session")
def portal(
    spark: SparkSession,
    published_lakehouse: Settings,
    influxdb_service: InfluxService,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[portals.Portal]:
    """`lakehouse serve portal` over the published lakehouse, logged in to InfluxDB as `reader` (who may only read),
    with read keys for two merchants that both sold in two currencies or more."""
    root = tmp_path_factory.mktemp("portal")
    first, second = portals.two_merchants(spark, published_lakehouse)
    with portals.portal_server(published_lakehouse, influxdb_service, root, first, second) as server:
        yield server
