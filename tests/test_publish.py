"""Publishing gold to a real InfluxDB: what merchants read equals gold, a late event changes exactly its slices,
republishing changes nothing, and an outage ends exact once the server is back."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from influxdb.line_protocol import make_lines

from jobs import gold, pipeline, publish, services
from jobs.generate import write_hour_files
from jobs.settings import Slice
from jobs.sinks import influx
from jobs.sinks.influx import MEASUREMENTS, with_line
from jobs.sources import FileSource
from jobs.synthetic import EventGenerator, GeneratorConfig
from jobs.tables import TABLES, read_table

CONFIG = GeneratorConfig(events=2000, hours=3, merchants=30, seed=5, start=datetime(2026, 11, 22, 22, tzinfo=UTC))


def test_line_protocol_built_in_spark_is_what_the_client_library_writes(spark):
    row = {
        "merchant_id": "m 1,=x",
        "hour_start": datetime(2026, 11, 24, 13),
        "date": date(2026, 11, 24),
        "currency": "EUR",
        "orders": 2,
        "gross_minor": 2001,
        "discount_minor": 0,
        "tax_minor": 333,
        "refunds": 1,
        "refunded_minor": 400,
        "net_minor": 1601,
        "items_sold": 4,
        "avg_order_minor": None,
    }
    measurement = MEASUREMENTS["gold.merchant_hourly_sales"]
    frame = spark.createDataFrame([row], TABLES["gold.merchant_hourly_sales"].columns)
    [line] = [r.line for r in frame.transform(with_line(measurement)).collect()]
    fields = {name: row[name] for name in measurement.integer_fields if row[name] is not None}
    point = {"measurement": measurement.name, "tags": {"merchant_id": row["merchant_id"], "currency": "EUR"}}
    seconds = int(datetime(2026, 11, 24, 13, tzinfo=UTC).timestamp())
    expected = make_lines({"points": [{**point, "fields": fields, "time": seconds}]}, precision="s").strip()
    assert line == expected
    assert line.startswith(r"merchant_hourly_sales,currency=EUR,merchant_id=m\ 1\,\=x discount_minor=0i,")


def influx_points(client, database: str) -> dict[str, dict[tuple, dict]]:
    """Every point of every measurement, by (tags..., time)."""
    result = {}
    for table, measurement in MEASUREMENTS.items():
        points = client.query(f'SELECT * FROM "{measurement.name}"', database=database).get_points()
        result[table] = {
            (*[p[tag] for tag in measurement.tags], p["time"]): {
                f: p.get(f) for f in (*measurement.integer_fields, *measurement.float_fields)
            }
            for p in points
        }
    return result


def gold_points(spark, settings) -> dict[str, dict[tuple, dict]]:
    """The same shape, from the gold tables."""
    result = {}
    for table, measurement in MEASUREMENTS.items():
        rows = read_table(spark, settings, table).collect()
        result[table] = {}
        for row in rows:
            moment = row[measurement.time]
            stamp = f"{moment:%Y-%m-%dT%H:%M:%SZ}" if isinstance(moment, datetime) else f"{moment}T00:00:00Z"
            fields = {f: row[f] for f in (*measurement.integer_fields, *measurement.float_fields)}
            result[table][(*[row[tag] for tag in measurement.tags], stamp)] = fields
    return result


@pytest.fixture
def published(spark, settings, tmp_path: Path, influxdb_service):
    """Settings that publish to the session's InfluxDB, into a database of this test's own."""
    database = f"test_{tmp_path.name.replace('-', '_')}"
    return replace(
        settings,
        sinks=("influxdb",),
        influxdb_url=influxdb_service,
        influxdb_database=database,
        publish_max_wait_seconds=20.0,
    )


@pytest.mark.integration
def test_run_publishes_gold_then_only_what_a_late_event_changed(spark, published, tmp_path):
    landing = tmp_path / "landing"
    write_hour_files(landing, CONFIG, EventGenerator(CONFIG).records_by_arrival_hour())
    source = FileSource(str(landing))
    client = influx.client(published.influxdb_url)

    reports = pipeline.run(spark, published, source)
    assert reports[-1].stage == "publish" and reports[-1].rows_in == len(MEASUREMENTS)
    first = influx_points(client, published.influxdb_database)
    assert first == gold_points(spark, published)
    assert all(first[table] for table in MEASUREMENTS)

    merchant = read_table(spark, published, "gold.merchant_hourly").first()["merchant_id"]
    late = {
        "event_id": "late-1",
        "event_type": "page_view",
        "merchant_id": merchant,
        "occurred_at": "2026-11-22T22:30:00Z",
        "schema_version": 1,
    }
    (landing / "zz-late.jsonl").write_text(json.dumps(late) + "\n")
    second = pipeline.run(spark, published, source)
    after = influx_points(client, published.influxdb_database)
    assert after == gold_points(spark, published)
    changed = {
        table: {key for key in after[table] if after[table][key] != first[table].get(key)} for table in MEASUREMENTS
    }
    assert changed == {
        "gold.merchant_hourly": {(merchant, "2026-11-22T22:00:00Z")},
        "gold.merchant_daily": {(merchant, "2026-11-22T00:00:00Z")},
        "gold.merchant_hourly_sales": set(),
        "gold.merchant_hourly_channel_sales": set(),
    }
    assert 0 < second[-1].rows_out < reports[-1].rows_out  # only the recomputed slices were sent

    again = publish.run(spark, published)
    assert (again.rows_in, again.rows_out) == (0, 0)
    assert influx_points(client, published.influxdb_database) == after

    # A fix removes a merchant's only event of an hour from silver; the hour is recomputed and its point must go.
    lone = read_table(spark, published, "gold.merchant_hourly").filter("events = 1").orderBy("merchant_id").first()
    assert lone is not None
    silver = published.table_path("silver.events")
    spark.sql(
        f"DELETE FROM delta.`{silver}` WHERE merchant_id = '{lone['merchant_id']}' "
        f"AND event_hour = TIMESTAMP '{lone['hour_start']:%Y-%m-%d %H:%M:%S}'"
    )
    gold.run(spark, published, Slice(lone["date"], lone["hour_start"].hour))
    fixed = publish.run(spark, published)
    assert fixed.details["points deleted"] >= 1
    final = influx_points(client, published.influxdb_database)
    assert (lone["merchant_id"], f"{lone['hour_start']:%Y-%m-%dT%H:%M:%SZ}") not in final["gold.merchant_hourly"]
    assert final == gold_points(spark, published)


@pytest.mark.integration
def test_an_outage_leaves_changes_pending_and_the_next_publish_ends_exact(
    spark, published, tmp_path, session_service_settings
):
    landing = tmp_path / "landing"
    write_hour_files(landing, CONFIG, EventGenerator(CONFIG).records_by_arrival_hour())
    short_wait = replace(published, publish_max_wait_seconds=2.0)
    pipeline.run(spark, replace(short_wait, sinks=()), FileSource(str(landing)))  # gold, not yet published

    services.down(["influxdb"], settings=session_service_settings, quiet=True)
    try:
        with pytest.raises(Exception, match=r"(?i)connect|refused"):
            publish.run(spark, short_wait)
        assert read_table(spark, short_wait, "ops.publish_progress").count() == 0  # nothing marked published

        # Down when the publish starts, back 1 s later: the retries with backoff carry it through.
        back = {"settings": session_service_settings, "quiet": True}
        restart = threading.Timer(1.0, services.up, args=(["influxdb"],), kwargs=back)
        restart.start()
        started = time.monotonic()
        report = publish.run(spark, published)
        restart.join()
    finally:
        services.up(["influxdb"], settings=session_service_settings, quiet=True)
    assert time.monotonic() - started < published.publish_max_wait_seconds + 60
    assert report.rows_in == len(MEASUREMENTS)
    client = influx.client(published.influxdb_url)
    assert influx_points(client, published.influxdb_database) == gold_points(spark, published)
