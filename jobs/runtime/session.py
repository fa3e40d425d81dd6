"""The one Spark session factory: Delta on, UTC, jars from the Maven-resolved cache, quiet logs."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pyspark.sql import SparkSession

from jobs.runtime.settings import FROM_SPARK_SUBMIT, Settings, UsageError

# jobs/transforms/jvm/, compiled by `make setup` into the jar folder
VALIDATOR_JAR = "insights-validator.jar"
LOG_CONFIG = Path(__file__).resolve().parents[1] / "conf" / "log4j2.properties"


def jar_paths(jar_dir: str) -> list[str]:
    jars = sorted(str(path) for path in Path(jar_dir).glob("*.jar"))
    names = {Path(jar).name for jar in jars}
    if not any(name.startswith("delta-spark_") for name in names):
        raise UsageError(f"Delta jars not found in {jar_dir}: run `make setup` (it resolves them with Maven)")
    if VALIDATOR_JAR not in names:
        raise UsageError(f"{VALIDATOR_JAR} not found in {jar_dir}: run `make setup` (it compiles the event validator)")
    return jars


def session_config(settings: Settings) -> dict[str, str]:
    """Every Spark setting the session is built with: Delta, UTC, the jars and master of the settings (unless they
    are spark-submit's), S3A."""
    config = {
        "spark.driver.memory": settings.driver_memory,
        "spark.driver.extraJavaOptions": f"-Dlog4j.configurationFile={LOG_CONFIG.as_uri()}",
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": str(settings.shuffle_partitions),
        # Python workers (the Kinesis source runs in them) use this interpreter, the one with the project installed.
        "spark.pyspark.python": sys.executable,
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        # A laptop-sized Delta log: fewer partitions to read each snapshot.
        "spark.databricks.delta.snapshotPartitions": "4",
        "spark.sql.streaming.stopActiveRunOnRestart": "true",
        # An insert-only MERGE into one event_date would otherwise be written by a single task.
        "spark.databricks.delta.merge.repartitionBeforeWrite.enabled": "false",
    }
    if settings.master != FROM_SPARK_SUBMIT:
        config["spark.master"] = settings.master
    if settings.jars != FROM_SPARK_SUBMIT:
        config["spark.jars"] = ",".join(jar_paths(settings.jars))
    if settings.master.startswith("local"):
        # A local driver listens on loopback only.
        config |= {"spark.driver.bindAddress": "127.0.0.1", "spark.driver.host": "127.0.0.1"}
    config |= {f"spark.hadoop.fs.s3a.{key}": value for key, value in s3a_options(settings).items()}
    return config


def build_session(settings: Settings, app_name: str) -> SparkSession:
    builder = SparkSession.builder.appName(app_name)
    for key, value in session_config(settings).items():
        builder = builder.config(key, value)
    # The planner of Python data sources (the Kinesis source's offsets) ignores spark.pyspark.python and starts
    # $PYSPARK_PYTHON, read from the JVM's environment: it must be set before the JVM starts.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("WARN")
    return session


def s3a_options(settings: Settings) -> dict[str, str]:
    """Hadoop S3A's options for s3a:// tables and checkpoints: the settings' endpoint and keys, else AWS's endpoints
    and its default credential chain. Delta's log store for s3a is S3SingleDriverLogStore, whatever is set here:
    only one Spark driver may write a table at a time (the DAG's runs never overlap; see docs/s3.md)."""
    options = {"endpoint.region": settings.s3_region}
    if settings.s3_endpoint:
        options |= {
            "endpoint": settings.s3_endpoint,
            "path.style.access": "true",  # a server of our own has no bucket.host names
            "connection.ssl.enabled": str(settings.s3_endpoint.startswith("https://")).lower(),
        }
    if settings.s3_login:
        options |= {
            "aws.credentials.provider": "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
            "access.key": settings.s3_login.user,
            "secret.key": settings.s3_login.password.reveal(),
        }
    return options


@contextmanager
def spark_session(settings: Settings, app_name: str) -> Iterator[SparkSession]:
    spark = build_session(settings, app_name)
    try:
        yield spark
    finally:
        spark.stop()


def jvm_peak_rss_mib(spark: SparkSession) -> float:
    """The peak resident memory of the session's JVM so far (its VmHWM), in MiB: what the benchmarks report."""
    pid = spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()  # type: ignore[union-attr]
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")
