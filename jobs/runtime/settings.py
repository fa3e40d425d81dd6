"""One Settings object from command-line flags, then LAKEHOUSE_* environment variables, then laptop defaults.

This is the only module that reads the environment.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

REPO_ROOT = Path(__file__).resolve().parents[2]

DEFAULTS = {
    "warehouse": "./warehouse",
    "checkpoints": "./checkpoints",
    "source": "files:./landing",
    "master": "local[*]",
    "shuffle_partitions": "8",
    "driver_memory": "4g",
    "jars": str(REPO_ROOT / ".jars"),
    "schemas": str(REPO_ROOT / "schemas" / "events"),
    "sinks": "",
    "influxdb_url": "http://127.0.0.1:18086",
    "influxdb_database": "merchant_insights",
    "opensearch_url": "http://127.0.0.1:19200",
    "opensearch_prefix": "merchant-insights",
    "publish_max_wait_seconds": "60",
    "conversion_basis": "sessions",
    "trino_url": "https://127.0.0.1:18081",
    "keys": "./keys.sqlite",
    "ingest_rate": "10000",
    "s3_endpoint": "",  # none: AWS's own endpoints
    "s3_region": "us-east-1",
    "metrics_namespace": "",  # none: `lakehouse lag` and the continuous run print their lag, send nothing
}
# LAKEHOUSE_MASTER or LAKEHOUSE_JARS set to this leaves the master or the jars to spark-submit's own --master and
# --jars: on a cluster (EMR Serverless) the service starts the driver with them, and the session must keep them.
FROM_SPARK_SUBMIT = "spark-submit"
SINK_NAMES = ("influxdb", "opensearch")  # jobs/sinks implements each
CONVERSION_BASES = ("sessions", "customers")  # what gold's conversion_rate divides orders by


class UsageError(Exception):
    """A bad argument or setting: reported in one line, exit status 2."""


class Secret:
    """A password: `reveal()` hands it to a client; printed, logged or in a repr it is '***'. Every secret read is
    also cut out of the one-line errors that commands print (`redact`, jobs/runtime/exits.py)."""

    __slots__ = ("_value",)
    _known: ClassVar[set[str]] = set()

    def __init__(self, value: str = "") -> None:
        self._value = value
        if value:
            Secret._known.add(value)

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return "Secret('***')" if self._value else "Secret('')"

    __str__ = __repr__

    def __reduce__(self) -> tuple:  # into Spark's Python workers: registered there too
        return (Secret, (self._value,))


def redact(text: str) -> str:
    """`text` with every secret read in this process replaced by ***."""
    for value in sorted(Secret._known, key=len, reverse=True):
        text = text.replace(value, "***")
    return text


@dataclass(frozen=True)
class Login:
    """A user and password for a server; no user means the server is used without authentication."""

    user: str = ""
    password: Secret = field(default_factory=Secret)

    def __bool__(self) -> bool:
        return bool(self.user)


@dataclass(frozen=True)
class Settings:
    warehouse: str
    checkpoints: str
    source: str
    master: str
    shuffle_partitions: int
    driver_memory: str
    jars: str
    schemas: str  # the schema registry folder: one v<N>.json per supported event schema version
    sinks: tuple[str, ...] = ()  # where `run` and `publish` publish gold (none: gold stays in the lakehouse)
    influxdb_url: str = DEFAULTS["influxdb_url"]
    influxdb_database: str = DEFAULTS["influxdb_database"]
    opensearch_url: str = DEFAULTS["opensearch_url"]
    opensearch_prefix: str = DEFAULTS["opensearch_prefix"]  # index aliases are <prefix>-<table>, e.g. -product-daily
    publish_max_wait_seconds: float = 60.0  # a sink's retries with backoff give up after this long
    conversion_basis: str = "sessions"  # a metric definition: a change takes effect for what gold recomputes
    trino_url: str = DEFAULTS["trino_url"]  # where `lakehouse sql` and `trino-register` find Trino
    # Who this process is to each server: LAKEHOUSE_<SERVER>_USER and LAKEHOUSE_<SERVER>_PASSWORD, or
    # LAKEHOUSE_<SERVER>_PASSWORD_FILE naming a file that holds it (what `lakehouse services env` points at).
    influxdb_login: Login = Login()
    opensearch_login: Login = Login()
    trino_login: Login = Login()
    trino_ca_file: str = ""  # the CA (PEM) that signed an https Trino's certificate; empty: the system's CAs
    # Where s3a:// locations are: an S3 server of our own (e.g. http://127.0.0.1:19000) or, empty, AWS. The login's
    # user is the access key id and its password the secret key (LAKEHOUSE_S3_USER, LAKEHOUSE_S3_PASSWORD[_FILE]);
    # without one, Spark, Trino and pyarrow use the default AWS credential chain (a role on AWS).
    s3_endpoint: str = ""
    s3_region: str = DEFAULTS["s3_region"]
    s3_login: Login = Login()
    # The CloudWatch namespace the pipeline's own lag goes to (jobs/lag.py); empty: printed only. The endpoint and
    # credentials are boto3's own settings (AWS_REGION, AWS_ENDPOINT_URL_CLOUDWATCH, a role), as for Kinesis.
    metrics_namespace: str = ""

    def table_path(self, table: str) -> str:
        """`silver.events` -> `<warehouse>/silver/events`."""
        layer, name = table.split(".")
        return f"{self.warehouse}/{layer}/{name}"

    def checkpoint_path(self, query: str) -> str:
        return f"{self.checkpoints}/{query}"


def is_local(location: str) -> bool:
    """A path on this machine's disk, not a URI such as s3a://bucket/prefix."""
    return "://" not in location


def _absolute(location: str) -> str:
    """Local paths become absolute; URIs such as s3a://bucket/prefix are kept as given."""
    return str(Path(location).expanduser().resolve()) if is_local(location) else location


def _warehouse_location(name: str, location: str) -> str:
    """A local path, or S3 through Hadoop's S3A (jobs/runtime/session.py): what every job and the Python side reach."""
    if not is_local(location) and not location.startswith("s3a://"):
        raise UsageError(f"LAKEHOUSE_{name.upper()} must be a local path or s3a://<bucket>/<prefix>, got {location!r}")
    return _absolute(location).rstrip("/")


def add_settings_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("configuration (flag, else LAKEHOUSE_<NAME>, else default)")
    group.add_argument("--warehouse", help=f"root of the Delta tables (default {DEFAULTS['warehouse']})")
    group.add_argument("--checkpoints", help=f"root of stream checkpoints (default {DEFAULTS['checkpoints']})")
    group.add_argument("--source", help="files:<dir> | kafka:<servers>/<topic> | kinesis:<stream>")
    group.add_argument("--master", help=f"Spark master (default {DEFAULTS['master']})")
    group.add_argument(
        "--sinks", help="comma-separated sinks gold is published to: influxdb, opensearch (default none)"
    )
    group.add_argument(
        "--schemas", help="schema registry folder, one v<N>.json per event version (default schemas/events)"
    )


def settings_from(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env

    def pick(name: str) -> str:
        flag = getattr(args, name, None)
        if flag is not None:
            return flag
        return env.get(f"LAKEHOUSE_{name.upper()}", DEFAULTS[name])

    sinks = tuple(name for name in pick("sinks").split(",") if name)
    unknown = [name for name in sinks if name not in SINK_NAMES]
    if unknown:
        raise UsageError(f"unknown sink {unknown[0]!r} in LAKEHOUSE_SINKS/--sinks (one of: {', '.join(SINK_NAMES)})")
    max_wait = pick("publish_max_wait_seconds")
    if not max_wait.replace(".", "", 1).isdigit():
        raise UsageError(f"LAKEHOUSE_PUBLISH_MAX_WAIT_SECONDS must be a number of seconds, got {max_wait!r}")
    partitions = pick("shuffle_partitions")
    if not partitions.isdigit() or int(partitions) < 1:
        raise UsageError(f"LAKEHOUSE_SHUFFLE_PARTITIONS must be a positive integer, got {partitions!r}")
    s3_endpoint = pick("s3_endpoint")
    s3_login = login_from(env, "s3")
    if s3_login and not s3_login.password:
        raise UsageError("LAKEHOUSE_S3_USER is set but neither LAKEHOUSE_S3_PASSWORD nor LAKEHOUSE_S3_PASSWORD_FILE is")
    if s3_endpoint and not re.fullmatch(r"https?://[^/?#\s]+/?", s3_endpoint):
        raise UsageError(f"LAKEHOUSE_S3_ENDPOINT must be http(s)://<host>:<port>, got {s3_endpoint!r}")
    metrics_namespace = pick("metrics_namespace")
    # CloudWatch's rule for namespaces; AWS/ is reserved for AWS's own services.
    if metrics_namespace and (
        not re.fullmatch(r"[0-9A-Za-z.\-_/#: ]{1,255}", metrics_namespace)
        or not metrics_namespace.strip()
        or metrics_namespace.startswith("AWS/")
    ):
        raise UsageError(
            "LAKEHOUSE_METRICS_NAMESPACE must be a CloudWatch namespace (letters, digits, spaces and . - _ / # :,"
            f" not AWS/...), got {metrics_namespace!r}"
        )
    conversion_basis = pick("conversion_basis")
    if conversion_basis not in CONVERSION_BASES:
        raise UsageError(
            f"LAKEHOUSE_CONVERSION_BASIS must be one of {', '.join(CONVERSION_BASES)}, got {conversion_basis!r}"
        )
    return Settings(
        warehouse=_warehouse_location("warehouse", pick("warehouse")),
        checkpoints=_warehouse_location("checkpoints", pick("checkpoints")),
        source=pick("source"),
        master=pick("master"),
        shuffle_partitions=int(partitions),
        driver_memory=pick("driver_memory"),
        jars=jars if (jars := pick("jars")) == FROM_SPARK_SUBMIT else _absolute(jars),
        schemas=_absolute(pick("schemas")),
        sinks=sinks,
        influxdb_url=pick("influxdb_url"),
        influxdb_database=pick("influxdb_database"),
        opensearch_url=pick("opensearch_url"),
        opensearch_prefix=pick("opensearch_prefix"),
        publish_max_wait_seconds=float(max_wait),
        conversion_basis=conversion_basis,
        trino_url=pick("trino_url"),
        influxdb_login=login_from(env, "influxdb"),
        opensearch_login=login_from(env, "opensearch"),
        trino_login=login_from(env, "trino"),
        trino_ca_file=env.get("LAKEHOUSE_TRINO_CA_FILE", ""),
        s3_endpoint=s3_endpoint.rstrip("/"),
        s3_region=pick("s3_region"),
        s3_login=s3_login,
        metrics_namespace=metrics_namespace,
    )


@dataclass(frozen=True)
class ServingSettings:
    """What `lakehouse serve` and `lakehouse keys` read: no Spark, no warehouse."""

    keys: str  # the key store, a SQLite file
    source: str  # the stream the ingestion API writes to, as bronze reads it
    ingest_rate: float  # events a second each merchant may send, on average over a burst of two seconds
    # What the portal reads: the stores `lakehouse publish` writes to, as a user that may only read them
    influxdb_url: str = DEFAULTS["influxdb_url"]
    influxdb_database: str = DEFAULTS["influxdb_database"]
    influxdb_login: Login = Login()
    opensearch_url: str = DEFAULTS["opensearch_url"]
    opensearch_prefix: str = DEFAULTS["opensearch_prefix"]
    opensearch_login: Login = Login()


def serving_settings_from(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> ServingSettings:
    """--keys and --source flags, else LAKEHOUSE_KEYS, LAKEHOUSE_SOURCE, LAKEHOUSE_INGEST_RATE and the stores'
    LAKEHOUSE_INFLUXDB_* and LAKEHOUSE_OPENSEARCH_* variables, else defaults."""
    env = os.environ if env is None else env

    def pick(name: str) -> str:
        flag = getattr(args, name, None)
        return flag if flag is not None else env.get(f"LAKEHOUSE_{name.upper()}", DEFAULTS[name])

    rate = pick("ingest_rate")
    if not rate.replace(".", "", 1).isdigit() or float(rate) <= 0:
        raise UsageError(f"LAKEHOUSE_INGEST_RATE must be a positive number of events a second, got {rate!r}")
    return ServingSettings(
        keys=_absolute(pick("keys")),
        source=pick("source"),
        ingest_rate=float(rate),
        influxdb_url=pick("influxdb_url"),
        influxdb_database=pick("influxdb_database"),
        influxdb_login=login_from(env, "influxdb"),
        opensearch_url=pick("opensearch_url"),
        opensearch_prefix=pick("opensearch_prefix"),
        opensearch_login=login_from(env, "opensearch"),
    )


def login_from(env: Mapping[str, str], server: str) -> Login:
    """LAKEHOUSE_<SERVER>_USER with LAKEHOUSE_<SERVER>_PASSWORD or the file LAKEHOUSE_<SERVER>_PASSWORD_FILE names.
    Only from the environment: a flag's value would show in the process list."""
    prefix = f"LAKEHOUSE_{server.upper()}"
    user, password, password_file = (env.get(f"{prefix}_{name}", "") for name in ("USER", "PASSWORD", "PASSWORD_FILE"))
    if password and password_file:
        raise UsageError(f"set {prefix}_PASSWORD or {prefix}_PASSWORD_FILE, not both")
    if password_file:
        try:
            password = Path(password_file).read_text().strip()
        except OSError as error:
            raise UsageError(f"{prefix}_PASSWORD_FILE: cannot read {password_file}: {error.strerror}") from None
    if password and not user:
        raise UsageError(f"{prefix}_PASSWORD is set but {prefix}_USER is not")
    return Login(user, Secret(password))


def debug_enabled(env: Mapping[str, str] | None = None) -> bool:
    """LAKEHOUSE_DEBUG=1 makes failures print their traceback."""
    env = os.environ if env is None else env
    return env.get("LAKEHOUSE_DEBUG", "") not in ("", "0")


# --- local services ----------------------------------------------------------------------------------------

# What `lakehouse services fetch` downloads (Kafka's jars, kinesalite's node modules): git-ignored, kept across runs.
SERVICES_HOME = REPO_ROOT / ".services"
_PORT_VARIABLE = re.compile(r"LAKEHOUSE_([A-Z0-9]+)_PORT")
TRINO_JAVA_HOME = Path("/usr/lib/jvm/temurin-25-jdk-amd64")  # Trino 476 needs Java 24+; the machine's java is 17


@dataclass(frozen=True)
class ServiceSettings:
    """Where local services keep their data, logs and pid files, and the loopback ports that differ from defaults."""

    run_dir: Path
    port_overrides: Mapping[str, int] = field(default_factory=dict)
    trino_java_home: Path = TRINO_JAVA_HOME

    def port(self, service: str, default: int) -> int:
        return self.port_overrides.get(service, default)


def _port(variable: str, text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise UsageError(f"{variable} must be a port number from 1 to 65535, got {text!r}")
    return int(text)


def service_settings(env: Mapping[str, str] | None = None) -> ServiceSettings:
    """LAKEHOUSE_RUN_DIR (default <repo>/.run) and any LAKEHOUSE_<SERVICE>_PORT, e.g. LAKEHOUSE_KAFKA_PORT."""
    env = os.environ if env is None else env
    run_dir = Path(env.get("LAKEHOUSE_RUN_DIR") or REPO_ROOT / ".run").expanduser().resolve()
    ports = {
        match.group(1).lower(): _port(variable, value)
        for variable, value in env.items()
        if (match := _PORT_VARIABLE.fullmatch(variable))
    }
    java_home = Path(env.get("LAKEHOUSE_TRINO_JAVA_HOME") or TRINO_JAVA_HOME)
    return ServiceSettings(run_dir, ports, java_home)
