"""Gold rows as InfluxDB points: line protocol built in the JVM, written from Spark partitions in batches.

One measurement per gold table, named after it; tags are the row's key (merchant_id, and currency or channel where
the table has them), fields its metrics, time the slice start (seconds). A point written again with the same
measurement, tags and time replaces the old one, so republishing is safe. Line protocol on `/write` is what
InfluxDB 1.x, 2.x and 3.x and AWS Timestream for InfluxDB all accept.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import StructType
from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_exponential

from jobs.settings import Settings
from jobs.sinks.batching import batches

BATCH_POINTS = 5_000
# A gold table's slice is often one file, so one task: its lines are spread over this many writers (both cores
# here; more measured no faster, the server being the other bottleneck).
WRITERS = 2


@dataclass(frozen=True)
class Measurement:
    name: str
    tags: tuple[str, ...]
    time: str  # the column holding the slice start: an hour_start timestamp or a date
    integer_fields: tuple[str, ...]
    float_fields: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[str, ...]:
        return (*self.tags, self.time)


_ACTIVITY = ("events", "page_views", "add_to_carts", "checkouts", "orders", "refunds", "sessions", "customers")
_SALES = ("orders", "gross_minor", "discount_minor", "tax_minor", "refunds", "refunded_minor", "net_minor")
MEASUREMENTS = {
    "gold.merchant_hourly": Measurement(
        "merchant_hourly", ("merchant_id",), "hour_start", _ACTIVITY, ("conversion_rate",)
    ),
    "gold.merchant_daily": Measurement("merchant_daily", ("merchant_id",), "date", _ACTIVITY, ("conversion_rate",)),
    "gold.merchant_hourly_sales": Measurement(
        "merchant_hourly_sales", ("merchant_id", "currency"), "hour_start", (*_SALES, "items_sold", "avg_order_minor")
    ),
    "gold.merchant_hourly_channel_sales": Measurement(
        "merchant_hourly_channel_sales", ("merchant_id", "channel", "currency"), "hour_start", _SALES
    ),
}


def escape_tag(value: Column) -> Column:
    """Line protocol tag keys and values escape commas, equals signs and spaces with a backslash."""
    return F.regexp_replace(value, r"([,= ])", r"\\$1")


def epoch_seconds(moment: Column) -> Column:
    return F.unix_timestamp(moment.cast("timestamp"))


def with_line(measurement: Measurement):
    """Gold rows -> one column `line`: the row as a line-protocol point. Tags and fields in key order, as the
    client library writes them; a null field is left out (InfluxDB has no null)."""

    def transform(rows: DataFrame) -> DataFrame:
        tags = [F.concat(F.lit(f"{tag}="), escape_tag(F.col(tag))) for tag in sorted(measurement.tags)]
        fields = {
            name: F.concat(F.lit(f"{name}="), F.col(name).cast("string"), F.lit("i"))
            for name in measurement.integer_fields
        }
        fields |= {name: F.concat(F.lit(f"{name}="), F.col(name).cast("string")) for name in measurement.float_fields}
        field_set = F.concat_ws(",", *[fields[name] for name in sorted(fields)])
        series = F.concat_ws(",", F.lit(measurement.name), *tags)
        line = F.concat_ws(" ", series, field_set, epoch_seconds(F.col(measurement.time)).cast("string"))
        return rows.select(line.alias("line"))

    return transform


def client(url: str, timeout: float = 30.0):
    """An `influxdb` (v1 API) client for the server at `url`."""
    from urllib.parse import urlsplit

    from influxdb import InfluxDBClient

    parts = urlsplit(url)
    # retries=1: one attempt per call; the backoff below decides when to try again.
    return InfluxDBClient(host=parts.hostname, port=parts.port, timeout=timeout, retries=1)


def retrying(max_wait_seconds: float) -> Retrying:
    """Connection errors and server errors are retried with exponential backoff (0.5 s doubling to 8 s) until
    `max_wait_seconds` have passed; then the last error is raised."""
    from influxdb.exceptions import InfluxDBServerError
    from requests.exceptions import RequestException

    return Retrying(
        retry=retry_if_exception_type((RequestException, InfluxDBServerError, OSError)),
        wait=wait_exponential(multiplier=0.5, max=8),
        stop=stop_after_delay(max_wait_seconds),
        reraise=True,
    )


@contextmanager
def failures_named(url: str) -> Iterator[None]:
    """The client's errors (after their retries) as one RuntimeError line naming the server: a job reports that
    line, in the driver and from a Spark task alike."""
    from influxdb.exceptions import InfluxDBClientError, InfluxDBServerError
    from requests.exceptions import RequestException

    try:
        yield
    except (InfluxDBClientError, InfluxDBServerError, RequestException) as error:
        raise RuntimeError(f"InfluxDB at {url}: {error}") from error


def write_lines(url: str, database: str, lines: Iterable[str], max_wait_seconds: float) -> int:
    """Write line-protocol points in batches of BATCH_POINTS; returns how many. Runs in a Spark task."""
    influx = client(url)
    written = 0
    for batch in batches(lines, BATCH_POINTS):
        with failures_named(url):
            for attempt in retrying(max_wait_seconds):
                with attempt:
                    influx.write_points(batch, database=database, protocol="line", time_precision="s")
        written += len(batch)
    return written


def create_database(url: str, database: str, max_wait_seconds: float) -> None:
    """CREATE DATABASE is idempotent in InfluxDB 1.x."""
    influx = client(url)
    with failures_named(url):
        for attempt in retrying(max_wait_seconds):
            with attempt:
                influx.create_database(database)


def delete_points(url: str, database: str, measurement: Measurement, keys: list[dict], max_wait_seconds: float) -> None:
    """Delete the points of rows gold no longer has (a few per recompute at most: collected keys)."""
    influx = client(url)
    for key in keys:
        tags = " AND ".join(f""""{tag}" = '{_quote(str(key[tag]))}'""" for tag in measurement.tags)
        second = key["epoch_seconds"]
        query = f'DELETE FROM "{measurement.name}" WHERE {tags} AND time >= {second}s AND time < {second + 1}s'
        with failures_named(url):
            for attempt in retrying(max_wait_seconds):
                with attempt:
                    influx.query(query, database=database, method="POST")


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


class InfluxSink:
    """The `influxdb` sink of `lakehouse publish`."""

    name = "influxdb"
    targets = MEASUREMENTS

    def prepare(self, settings: Settings, schemas: dict[str, StructType]) -> None:
        create_database(settings.influxdb_url, settings.influxdb_database, settings.publish_max_wait_seconds)

    def write(self, settings: Settings, table: str, rows: DataFrame) -> int:
        url, database, wait = settings.influxdb_url, settings.influxdb_database, settings.publish_max_wait_seconds
        lines = rows.transform(with_line(MEASUREMENTS[table])).repartition(WRITERS)
        return lines.rdd.mapPartitions(
            lambda part: [write_lines(url, database, (row.line for row in part), wait)]
        ).sum()

    def delete(self, settings: Settings, table: str, gone: DataFrame) -> int:
        measurement = MEASUREMENTS[table]
        seconds = epoch_seconds(F.col(measurement.time)).alias("epoch_seconds")
        keys = [row.asDict() for row in gone.select(*measurement.tags, seconds).collect()]  # a few per recompute
        delete_points(
            settings.influxdb_url, settings.influxdb_database, measurement, keys, settings.publish_max_wait_seconds
        )
        return len(keys)
