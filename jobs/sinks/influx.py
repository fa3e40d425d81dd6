"""Gold rows as InfluxDB points: line protocol built in the JVM, written from Spark partitions in batches.

One measurement per gold table, named after it; tags are the row's key (merchant_id, and currency or channel where
the table has them), fields its metrics (its integer and double columns), time the slice start (seconds). A point
written again with the same measurement, tags and time replaces the old one, so republishing is safe. Line protocol
on `/write` is what InfluxDB 1.x, 2.x and 3.x and AWS Timestream for InfluxDB all accept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.runtime.settings import Login, Settings
from jobs.sinks.delivery import Server, batches, deliver, sink_integer
from jobs.storage.published import MEASUREMENTS, Measurement

BATCH_POINTS = 5_000
DELETIONS_PER_REQUEST = 20  # statements, each of up to SELECTORS_PER_DELETE points
SELECTORS_PER_DELETE = 500
# A gold table's slice is often one file, so one task: its lines are spread over this many writers (both cores
# here; more measured no faster, the server being the other bottleneck).
WRITERS = 2
NO_LOGIN = Login()


def escape_tag(value: Column) -> Column:
    r"""Line protocol tag values escape commas, equals signs and spaces with a backslash. No escaping gets a
    backslash itself back out of every InfluxDB: 1.6 (the one tested here) stores `\` as two characters, 2.x's
    documentation reads it as one, and none takes a backslash at the end of a value; nor can a line break be
    written. The contract refuses both in the values that become tags."""
    return F.regexp_replace(value, r"([,= ])", r"\\$1")


def epoch_seconds(moment: Column) -> Column:
    return F.unix_timestamp(moment.cast("timestamp"))


def influxql_string(value: Column) -> Column:
    """An InfluxQL string literal: a backslash before each backslash and single quote."""
    return F.concat(F.lit("'"), F.regexp_replace(value, r"([\\'])", r"\\$1"), F.lit("'"))


def point_selector(measurement: Measurement) -> Column:
    """The InfluxQL condition that selects the row's series: its tags (a null one is a tag the point does not have,
    which InfluxQL matches as '')."""
    tags = [
        F.concat(F.lit(f'"{tag}" = '), F.coalesce(influxql_string(F.col(tag)), F.lit("''"))) for tag in measurement.tags
    ]
    return F.concat(F.lit("("), F.concat_ws(" AND ", *tags), F.lit(")"))


def deletion_statements(measurement: str, points: Iterable[tuple[int, str]]) -> list[str]:
    """DELETE statements for (epoch second, series selector) points: one per second and up to SELECTORS_PER_DELETE
    series, their selectors joined by OR. InfluxDB's cost is per statement (each walks the shards), so one
    statement per point made a first publish with thousands of null metrics time out."""
    by_second: dict[int, list[str]] = {}
    for second, selector in points:
        by_second.setdefault(second, []).append(selector)
    return [
        f'DELETE FROM "{measurement}" WHERE ({" OR ".join(chunk)}) AND time >= {second}s AND time < {second + 1}s'
        for second, selectors in sorted(by_second.items())
        for chunk in batches(selectors, SELECTORS_PER_DELETE)
    ]


def with_line(measurement: Measurement) -> Callable[[DataFrame], DataFrame]:
    """Gold rows -> `line`, the row as a line-protocol point, its `second`, and `delete_where`, the selector of its
    series when a field is null (its point is deleted first). Tags and fields in key order, as the client library
    writes them; a null field is left out (InfluxDB has no null), and a point written again keeps the fields it is
    not given: without the deletion, a metric that became null would keep its old value."""

    def transform(rows: DataFrame) -> DataFrame:
        tags = [F.concat(F.lit(f"{tag}="), escape_tag(F.col(tag))) for tag in sorted(measurement.tags)]
        values = {name: sink_integer(F.col(name)) for name in measurement.integer_fields}
        values |= {name: F.col(name) for name in measurement.float_fields}
        fields = {
            name: F.concat(
                F.lit(f"{name}="), value.cast("string"), F.lit("i" if name in measurement.integer_fields else "")
            )
            for name, value in values.items()
        }
        field_set = F.concat_ws(",", *[fields[name] for name in sorted(fields)])
        series = F.concat_ws(",", F.lit(measurement.name), *tags)
        second = epoch_seconds(F.col(measurement.time))
        line = F.concat_ws(" ", series, field_set, second.cast("string"))
        any_null = F.lit(False)
        for value in values.values():
            any_null = any_null | value.isNull()
        return rows.select(
            line.alias("line"),
            second.alias("second"),
            F.when(any_null, point_selector(measurement)).alias("delete_where"),
        )

    return transform


def client(url: str, login: Login = NO_LOGIN, timeout: float = 30.0) -> Any:
    """An `influxdb` (v1 API) client for the server at `url`, logged in as `login` if given."""
    from urllib.parse import urlsplit

    from influxdb import InfluxDBClient

    parts = urlsplit(url)
    # retries=1: one attempt per call; `deliver` decides when to try again. JSON answers: the client asks for
    # msgpack by default, which it cannot read from a chunked query.
    return InfluxDBClient(
        host=parts.hostname,
        port=parts.port,
        username=login.user or None,
        password=login.password.reveal() or None,
        ssl=parts.scheme == "https",
        verify_ssl=parts.scheme == "https",
        timeout=timeout,
        retries=1,
        headers={"Accept": "application/json"},
    )


def _transient(error: BaseException) -> bool:
    """Connection errors and server errors."""
    from influxdb.exceptions import InfluxDBServerError
    from requests.exceptions import RequestException

    return isinstance(error, (RequestException, InfluxDBServerError, OSError))


def _describe(error: BaseException) -> str | None:
    from influxdb.exceptions import InfluxDBClientError, InfluxDBServerError
    from requests.exceptions import RequestException

    return str(error) if isinstance(error, (InfluxDBClientError, InfluxDBServerError, RequestException)) else None


def server(url: str) -> Server:
    return Server(f"InfluxDB at {url}", _transient, _describe)


def write_lines(url: str, login: Login, database: str, lines: Iterable[str], max_wait_seconds: float) -> int:
    """Write line-protocol points in batches of BATCH_POINTS; returns how many. Runs in a Spark task."""
    influx = client(url, login)
    written = 0
    for batch in batches(lines, BATCH_POINTS):
        deliver(
            server(url),
            partial(influx.write_points, batch, database=database, protocol="line", time_precision="s"),
            max_wait_seconds,
        )
        written += len(batch)
    return written


def delete_in_batches(
    url: str, login: Login, database: str, measurement: str, points: Iterable[tuple[int, str]], max_wait_seconds: float
) -> None:
    """Delete (epoch second, series selector) points, BATCH_POINTS at a time. Runs in a Spark task."""
    influx = client(url, login)
    for batch in batches(points, BATCH_POINTS):
        delete_points(influx, url, database, deletion_statements(measurement, batch), max_wait_seconds)


def delete_points(influx: Any, url: str, database: str, deletions: list[str], max_wait_seconds: float) -> None:
    """Run DELETE statements through the `influx` client of `url`, many to a request (InfluxQL takes statements
    separated by semicolons)."""
    for batch in batches(deletions, DELETIONS_PER_REQUEST):
        query = "; ".join(batch)
        deliver(server(url), partial(influx.query, query, database=database, method="POST"), max_wait_seconds)


class InfluxSink:
    """The `influxdb` sink of `lakehouse publish`."""

    name = "influxdb"
    targets = MEASUREMENTS

    def prepare(self, settings: Settings) -> None:
        """Check that the database is there and the login may use it. Creating databases is an administrator's
        job (`InfluxService.create_database` locally), not the pipeline's: its user may only read and write."""
        influx = client(settings.influxdb_url, settings.influxdb_login)
        deliver(
            server(settings.influxdb_url),
            lambda: influx.query("SHOW MEASUREMENTS LIMIT 1", database=settings.influxdb_database),
            settings.publish_max_wait_seconds,
        )

    def write(self, settings: Settings, table: str, rows: DataFrame) -> int:
        url, database, wait = settings.influxdb_url, settings.influxdb_database, settings.publish_max_wait_seconds
        login, measurement = settings.influxdb_login, MEASUREMENTS[table]
        points = rows.transform(with_line(measurement)).persist()
        try:
            # Every deletion before any write, in a job of its own: InfluxDB 1.x can lose points written to a shard
            # while a DELETE runs on it (influxdata/influxdb#8822), which two writers sharing the work did here.
            # In time order within each writer, so that its deletions fall in few seconds: few statements.
            doomed = points.filter(F.col("delete_where").isNotNull()).select("second", "delete_where")
            doomed.repartition(WRITERS).sortWithinPartitions("second").rdd.foreachPartition(
                lambda part: delete_in_batches(
                    url, login, database, measurement.name, ((row.second, row.delete_where) for row in part), wait
                )
            )
            lines = points.select("line").repartition(WRITERS).rdd
            return lines.mapPartitions(
                lambda part: [write_lines(url, login, database, (row.line for row in part), wait)]
            ).sum()
        finally:
            points.unpersist()

    def held_keys(self, spark: SparkSession, settings: Settings, table: str) -> DataFrame:
        """The key of every point the measurement holds (a full read, through the driver: only a publish without
        a change feed needs it). A tag a point does not have reads as null, as the row's null value was written."""
        measurement = MEASUREMENTS[table]
        influx = client(settings.influxdb_url, settings.influxdb_login)
        query = f'SELECT * FROM "{measurement.name}" GROUP BY *'

        def keys() -> list[tuple]:
            chunks = influx.query(query, database=settings.influxdb_database, epoch="s", chunked=True)
            return [
                (*[(tags or {}).get(tag) for tag in measurement.tags], point["time"])
                for chunk in chunks
                for (_, tags), points in chunk.items()
                for point in points
            ]

        schema = ", ".join([*(f"`{tag}` string" for tag in measurement.tags), "_seconds bigint"])
        held = spark.createDataFrame(
            deliver(server(settings.influxdb_url), keys, settings.publish_max_wait_seconds), schema
        )
        moment = F.timestamp_seconds("_seconds")
        return held.select(
            *measurement.tags,
            (moment if measurement.time == "hour_start" else moment.cast("date")).alias(measurement.time),
        )

    def delete(self, settings: Settings, table: str, gone: DataFrame) -> int:
        measurement = MEASUREMENTS[table]
        selected = gone.select(epoch_seconds(F.col(measurement.time)).alias("second"), point_selector(measurement))
        points = [(row[0], row[1]) for row in selected.collect()]  # a few per recompute
        url = settings.influxdb_url
        influx = client(url, settings.influxdb_login)
        statements = deletion_statements(measurement.name, points)
        delete_points(influx, url, settings.influxdb_database, statements, settings.publish_max_wait_seconds)
        return len(points)
