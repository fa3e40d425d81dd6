"""`lakehouse lag`: how far gold trails bronze, the pipeline's own freshness metric.

The lag is how long after the end of gold's newest hour the newest bronze record arrived (0 when no record arrived
after it): in seconds, `GoldFreshnessSeconds`. Caught up, it is 0 (the record that just arrived is counted in the
hour under way); it grows by a second a second while records keep arriving and gold stands still. An hourly
deployment sits between 0 and the delay of its run; past an hour, merchants' numbers are later than the design's
promise, which is what the CloudWatch alarm of infra/terraform/modules/monitoring watches. Gold's hours that begin
after the clock (an event stamped by a device clock running ahead) do not count: they would hide a stalled gold.
Its blind spot is the hour itself: a gold that stalls at 10:05 reads 0 until 11:00, so the alarm at 3,600 s fires
about two hours after the last record gold counted.

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
    # When the newest record that arrived after that end did; None: none did. Without a gold hour, when any record
    # arrived: only whether bronze has one matters then.
    newest_bronze: datetime | None

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
        arrived = f"{self.newest_bronze:%Y-%m-%d %H:%M:%S}"
        return f"lag: {self.seconds:,.0f} s: {end}, the newest bronze record arrived {arrived}"


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


def newest_bronze_after(spark: SparkSession, settings: Settings, moment: datetime) -> datetime | None:
    """When the newest bronze record that arrived after `moment` arrived."""
    bronze = read_table(spark, settings, BRONZE_EVENTS.name)
    after = bronze.filter(F.col("ingest_date") >= F.lit(moment.date())).filter(F.col("ingested_at") > moment)
    return _moment(single_row(after.agg(F.max(_epoch("ingested_at"))))[0])


def any_bronze_record(spark: SparkSession, settings: Settings) -> datetime | None:
    """When some bronze record arrived, None for an empty bronze: one record read, not the table."""
    found = read_table(spark, settings, BRONZE_EVENTS.name).select(_epoch("ingested_at")).limit(1).collect()
    return _moment(found[0][0]) if found else None


def measure(spark: SparkSession, settings: Settings, now: datetime | None = None) -> Lag:
    start = newest_gold_hour(spark, settings, now or datetime.now(UTC))
    if start is None:
        return Lag(None, any_bronze_record(spark, settings))
    return Lag(start + HOUR, newest_bronze_after(spark, settings, start + HOUR))


def send(lag: Lag, namespace: str) -> None:
    """Put the lag to CloudWatch as `namespace`/GoldFreshnessSeconds (nothing for a gold without an hour: the
    alarm treats a missing value as a breach)."""
    if lag.seconds is None:
        return
    datum = {"MetricName": METRIC, "Value": lag.seconds, "Unit": "Seconds", "Timestamp": datetime.now(UTC)}
    try:
        # A session of its own: boto3's default one is not safe to share with the continuous run's other threads.
        # Made inside the try: a missing region (NoRegionError) is CloudWatch not taking the metric too.
        cloudwatch = boto3.session.Session().client("cloudwatch", config=CLOUDWATCH_CONFIG)
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
