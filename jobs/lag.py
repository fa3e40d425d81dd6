"""`lakehouse lag`: how far gold trails bronze, the pipeline's own freshness metric.

The lag is how long after the end of gold's newest hour the newest bronze record arrived (0 when no record arrived
after it): in seconds, `GoldFreshnessSeconds`. Caught up, it is 0 (the record that just arrived is counted in the
hour under way); it grows by a second a second while records keep arriving and gold stands still. An hourly
deployment sits between 0 and the delay of its run; past an hour, merchants' numbers are later than the design's
promise, which is what the CloudWatch alarm of infra/terraform/modules/monitoring watches. Gold's hours later than
the newest record (an event stamped by a clock running ahead) do not count: they would hide a stalled gold.

It costs what arrived after gold's newest hour, never the table: bronze is read from that hour's date on, and Delta
skips every file whose records all arrived before it (its statistics of `ingested_at`).

With LAKEHOUSE_METRICS_NAMESPACE set it is sent to CloudWatch (boto3's region, endpoint and credentials:
AWS_REGION, AWS_ENDPOINT_URL_CLOUDWATCH, a role); it is printed either way. The hourly DAG's `report_lag` task runs
this command after gold, and `lakehouse run --trigger` reports it every minute.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from jobs.runtime.commands import command_parser
from jobs.runtime.exits import JOB_ERRORS, first_line, run_entry
from jobs.runtime.session import spark_session
from jobs.runtime.settings import Settings, settings_from
from jobs.storage.delta import ensure_tables, read_table, single_row
from jobs.storage.tables import BRONZE_EVENTS, MERCHANT_HOURLY

METRIC = "GoldFreshnessSeconds"
HOUR = timedelta(hours=1)
# Gold's newest hour is looked for in its last few days' partitions first, so that a current gold costs a few
# days of the table; only a gold further behind than that is read whole.
RECENT_DAYS = 3
# CloudWatch keeps a standard metric at one-minute resolution: more often is no finer.
CONTINUOUS_INTERVAL_SECONDS = 60
# A few quick attempts: the lag is measured again a minute later, and a stuck send must not hold up a job.
CLOUDWATCH_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=10)


class MetricNotSent(RuntimeError):
    """CloudWatch did not take the metric (down, refused, no credentials)."""


@dataclass(frozen=True)
class Lag:
    gold_hour_end: datetime | None  # the end of gold's newest hour; None: gold has none yet
    newest_bronze: datetime | None  # the newest record that arrived after it (any record, without a gold hour)

    @property
    def seconds(self) -> float | None:
        """The metric; None while gold has no hour but bronze has records (nothing to measure the lag from)."""
        if self.newest_bronze is None:
            return 0.0
        if self.gold_hour_end is None:
            return None
        return (self.newest_bronze - self.gold_hour_end).total_seconds()

    def line(self) -> str:
        if self.gold_hour_end is None:
            return "lag: bronze and gold are empty" if self.newest_bronze is None else "lag: gold has no hour yet"
        end = f"gold's newest hour ends {self.gold_hour_end:%Y-%m-%d %H:%M} UTC"
        if self.newest_bronze is None:
            return f"lag: 0 s: {end}, and no bronze record arrived after it"
        return f"lag: {self.seconds:,.0f} s: {end}, the newest bronze record arrived {self.newest_bronze:%H:%M:%S}"


def _epoch(column: str) -> F.Column:
    """A timestamp as epoch seconds: collected as a number, free of the Python process's time zone."""
    return F.col(column).cast("double")


def _moment(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def newest_gold_hour(spark: SparkSession, settings: Settings, now: datetime) -> datetime | None:
    """The start of gold.merchant_hourly's newest hour that began by `now`."""
    hourly = read_table(spark, settings, MERCHANT_HOURLY.name).filter(F.col("hour_start") <= F.lit(now))
    recent = hourly.filter(F.col("date") >= F.lit((now - timedelta(days=RECENT_DAYS)).date()))
    for hours in (recent, hourly):
        if (start := single_row(hours.agg(F.max(_epoch("hour_start"))))[0]) is not None:
            return _moment(start)
    return None


def newest_bronze_after(spark: SparkSession, settings: Settings, moment: datetime | None) -> datetime | None:
    """When the newest bronze record that arrived after `moment` (any record, for None) arrived."""
    bronze = read_table(spark, settings, BRONZE_EVENTS.name)
    if moment is not None:
        bronze = bronze.filter(F.col("ingest_date") >= F.lit(moment.date())).filter(F.col("ingested_at") > moment)
    return _moment(single_row(bronze.agg(F.max(_epoch("ingested_at"))))[0])


def measure(spark: SparkSession, settings: Settings, now: datetime | None = None) -> Lag:
    start = newest_gold_hour(spark, settings, now or datetime.now(UTC))
    if start is None:  # a new deployment's: bronze is read whole, for its newest record
        return Lag(None, newest_bronze_after(spark, settings, None))
    return Lag(start + HOUR, newest_bronze_after(spark, settings, start + HOUR))


def send(lag: Lag, namespace: str) -> None:
    """Put the lag to CloudWatch as `namespace`/GoldFreshnessSeconds (nothing for a gold without an hour: the
    alarm treats a missing value as a breach)."""
    if lag.seconds is None:
        return
    cloudwatch = boto3.client("cloudwatch", config=CLOUDWATCH_CONFIG)
    datum = {"MetricName": METRIC, "Value": lag.seconds, "Unit": "Seconds", "Timestamp": datetime.now(UTC)}
    try:
        cloudwatch.put_metric_data(Namespace=namespace, MetricData=[datum])
    except (BotoCoreError, ClientError) as error:
        raise MetricNotSent(f"CloudWatch did not take {namespace}/{METRIC}: {first_line(error)}") from error


def report(spark: SparkSession, settings: Settings) -> Lag:
    """Measure the lag, print its line, and send it when a namespace is configured."""
    lag = measure(spark, settings)
    print(lag.line(), flush=True)
    if settings.metrics_namespace:
        send(lag, settings.metrics_namespace)
    return lag


def report_continuously(
    spark: SparkSession,
    settings: Settings,
    stop: threading.Event,
    interval_seconds: float = CONTINUOUS_INTERVAL_SECONDS,
) -> None:
    """`report` every minute until `stop` is set (`lakehouse run --trigger`). A failure is printed once per outage
    and tried again at the next interval: the pipeline never waits for its metric."""
    failing = False
    while not stop.wait(interval_seconds):
        try:
            report(spark, settings)
        except JOB_ERRORS as error:
            if stop.is_set():  # Spark is being stopped under the measurement
                return
            if not failing:
                print(f"lag: not reported, tried again every minute: {first_line(error)}", flush=True)
            failing = True
            continue
        if failing:
            print("lag: reported again", flush=True)
        failing = False


def main(argv: list[str] | None = None) -> int:
    args = command_parser("lag", __doc__).parse_args(argv)

    def work() -> None:
        settings = settings_from(args)
        with spark_session(settings, "lag") as spark:
            ensure_tables(spark, settings, [BRONZE_EVENTS.name, MERCHANT_HOURLY.name])
            report(spark, settings)

    return run_entry("lakehouse lag", work)


if __name__ == "__main__":
    sys.exit(main())
