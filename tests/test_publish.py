"""Publishing gold to a real InfluxDB and a real OpenSearch: what merchants read equals gold, a late event changes
exactly its slices, republishing changes nothing, and an outage ends exact once the server is back."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from influxdb.line_protocol import make_lines
from opensearchpy import helpers

from jobs import gold, pipeline, publish, services
from jobs import product_search as product_search_cli
from jobs.chaos import pipeline_command
from jobs.generate import write_hour_files
from jobs.settings import Slice
from jobs.sinks import SINKS, influx, search
from jobs.sinks.influx import MEASUREMENTS, with_line
from jobs.sinks.search import INDICES, product_search, with_action
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


def test_search_documents_built_in_spark_have_key_ids_monthly_indices_and_explicit_mappings(spark):
    row = {
        "merchant_id": "m-1",
        "date": date(2026, 11, 24),
        "sku": "sku|7",
        "currency": "EUR",
        "name": "Blue Mug",
        "units": 3,
        "revenue_minor": None,
    }
    frame = spark.createDataFrame([row], TABLES["gold.product_daily"].columns)
    index = INDICES["gold.product_daily"]
    [action] = [r.asDict() for r in frame.transform(with_action(index, "t")).collect()]
    assert action["_index"] == "t-product-daily-2026.11"
    assert action["_id"] == "m-1|2026-11-24|EUR|sku|7"
    assert json.loads(action["_source"]) == {**{k: v for k, v in row.items() if v is not None}, "date": "2026-11-24"}

    template = search.index_template(index, "t", frame.schema)
    assert template["index_patterns"] == ["t-product-daily-*"] and template["template"]["aliases"] == {
        "t-product-daily": {}
    }
    properties = template["template"]["mappings"]["properties"]
    assert properties["name"]["type"] == "text" and properties["name"]["fields"]["keyword"]["type"] == "keyword"
    assert {name: spec["type"] for name, spec in properties.items() if name != "name"} == {
        "merchant_id": "keyword",
        "date": "date",
        "sku": "keyword",
        "currency": "keyword",
        "units": "long",
        "revenue_minor": "long",
    }
    daily = spark.createDataFrame([], TABLES["gold.merchant_daily"].columns)
    daily_properties = search.mappings(INDICES["gold.merchant_daily"], daily.schema)["properties"]
    assert "sessions_sketch" not in daily_properties and daily_properties["updated_at"] == {"type": "date"}


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


def search_documents(client, prefix: str) -> dict[str, dict[str, dict]]:
    """Every document behind each table's alias, by id, as it reads back (dates and times as datetime)."""
    client.cluster.health(index=f"{prefix}-*", wait_for_status="yellow")  # new indices' shards
    client.indices.refresh(index=f"{prefix}-*")
    result = {}
    for table, index in INDICES.items():
        if not client.indices.exists_alias(name=index.alias(prefix)):  # nothing published yet
            result[table] = {}
            continue
        hits = helpers.scan(client, index=index.alias(prefix), query={"query": {"match_all": {}}})
        result[table] = {hit["_id"]: _read_times(hit["_source"]) for hit in hits}
    return result


def _read_times(document: dict) -> dict:
    values = dict(document)
    values["date"] = date.fromisoformat(values["date"])
    if "updated_at" in values:
        values["updated_at"] = datetime.fromisoformat(values["updated_at"]).timestamp()
    return values


def first_difference(actual: dict[str, dict], expected: dict[str, dict]) -> str:
    """'' when equal, else the first table and key that differ: a readable failure for thousands of records."""
    for table in sorted(set(actual) | set(expected)):
        mine, theirs = actual.get(table, {}), expected.get(table, {})
        for key in sorted(set(mine) | set(theirs), key=str):
            if mine.get(key) != theirs.get(key):
                return f"{table} {key}: sink {mine.get(key)} != gold {theirs.get(key)}"
    return ""


def gold_documents(spark, settings) -> dict[str, dict[str, dict]]:
    """The same shape, from the gold tables: id = key values joined by '|', all but binary and null columns."""
    result = {}
    for table, index in INDICES.items():
        result[table] = {}
        for row in read_table(spark, settings, table).collect():
            values = {k: v for k, v in row.asDict().items() if v is not None and not isinstance(v, (bytes, bytearray))}
            if "updated_at" in values:
                values["updated_at"] = values["updated_at"].timestamp()
            result[table]["|".join(str(row[k]) for k in index.key)] = values
    return result


@pytest.fixture
def published(spark, settings, tmp_path: Path, influxdb_service, opensearch_service):
    """Settings that publish to the session's InfluxDB and OpenSearch, into a database and indices of this test's
    own."""
    name = f"test_{tmp_path.name.replace('-', '_')}"
    return replace(
        settings,
        sinks=("influxdb", "opensearch"),
        influxdb_url=influxdb_service,
        influxdb_database=name,
        opensearch_url=opensearch_service,
        opensearch_prefix=name.lower(),
        publish_max_wait_seconds=20.0,
    )


@pytest.mark.integration
def test_run_publishes_gold_then_only_what_a_late_event_changed(spark, published, tmp_path):
    landing = tmp_path / "landing"
    write_hour_files(landing, CONFIG, EventGenerator(CONFIG).records_by_arrival_hour())
    source = FileSource(str(landing))
    client = influx.client(published.influxdb_url)
    searcher = search.client(published.opensearch_url)

    reports = pipeline.run(spark, published, source)
    assert reports[-1].stage == "publish" and reports[-1].rows_in == len(MEASUREMENTS) + len(INDICES)
    first = influx_points(client, published.influxdb_database)
    assert first == gold_points(spark, published)
    assert all(first[table] for table in MEASUREMENTS)
    first_documents = search_documents(searcher, published.opensearch_prefix)
    assert first_difference(first_documents, gold_documents(spark, published)) == ""
    assert all(first_documents[table] for table in INDICES)

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
    documents = search_documents(searcher, published.opensearch_prefix)
    assert documents == gold_documents(spark, published)
    changed_documents = {
        table: {key for key in documents[table] if documents[table][key] != first_documents[table].get(key)}
        for table in INDICES
    }
    assert changed_documents == {"gold.product_daily": set(), "gold.merchant_daily": {f"{merchant}|2026-11-22"}}
    assert 0 < second[-1].rows_out < reports[-1].rows_out  # only the recomputed slices were sent
    # Gold recomputed the late event's date, so exactly that date's documents were sent again.
    late_date = [read_table(spark, published, table).filter("date = DATE '2026-11-22'").count() for table in INDICES]
    assert second[-1].details["opensearch written"] == sum(late_date) < reports[-1].details["opensearch written"]

    again = publish.run(spark, published)
    assert (again.rows_in, again.rows_out) == (0, 0)
    assert influx_points(client, published.influxdb_database) == after
    assert search_documents(searcher, published.opensearch_prefix) == documents

    # On demand: one day republished sends every row of that day to both sinks again, and changes nothing.
    day = Slice(date(2026, 11, 23), None)
    republished = publish.run(spark, published, day)
    tables = [*MEASUREMENTS, *INDICES]
    day_rows = sum(read_table(spark, published, table).filter("date = DATE '2026-11-23'").count() for table in tables)
    assert republished.rows_out == day_rows > 0
    assert influx_points(client, published.influxdb_database) == after
    assert search_documents(searcher, published.opensearch_prefix) == documents

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
    assert fixed.details["influxdb deleted"] >= 1
    final = influx_points(client, published.influxdb_database)
    assert (lone["merchant_id"], f"{lone['hour_start']:%Y-%m-%dT%H:%M:%SZ}") not in final["gold.merchant_hourly"]
    assert final == gold_points(spark, published)

    # A whole merchant-day removed from silver: its daily row and product rows go, and so do their documents.
    day = read_table(spark, published, "gold.merchant_daily").filter("date = DATE '2026-11-23'")
    gone = day.join(read_table(spark, published, "gold.product_daily"), ["merchant_id", "date"]).orderBy("events")
    gone_merchant = gone.first()["merchant_id"]
    spark.sql(f"DELETE FROM delta.`{silver}` WHERE merchant_id = '{gone_merchant}' AND event_date = '2026-11-23'")
    gold.run(spark, published, Slice(date(2026, 11, 23), None))
    removed = publish.run(spark, published)
    assert removed.details["opensearch deleted"] >= 2  # the daily document and at least one product's
    documents = search_documents(searcher, published.opensearch_prefix)
    assert f"{gone_merchant}|2026-11-23" not in documents["gold.merchant_daily"]
    assert documents == gold_documents(spark, published)
    assert influx_points(client, published.influxdb_database) == gold_points(spark, published)


@pytest.mark.integration
def test_a_product_name_search_returns_that_merchants_products_only(spark, published, tmp_path, monkeypatch, capsys):
    landing = tmp_path / "landing"
    write_hour_files(landing, CONFIG, EventGenerator(CONFIG).records_by_arrival_hour())
    pipeline.run(spark, replace(published, sinks=("opensearch",)), FileSource(str(landing)))
    searcher = search.client(published.opensearch_url)
    searcher.indices.refresh(index=f"{published.opensearch_prefix}-*")

    products = read_table(spark, published, "gold.product_daily").collect()
    word = "mug"
    sellers = sorted({row.merchant_id for row in products if word in row.name.lower().split()})
    assert len(sellers) >= 2  # other merchants sell products with that word too
    merchant = sellers[0]
    alias = INDICES["gold.product_daily"].alias(published.opensearch_prefix)
    hits = searcher.search(index=alias, body=product_search(merchant, word.upper(), size=1000))["hits"]["hits"]
    found = {hit["_id"] for hit in hits}
    expected = {
        f"{row.merchant_id}|{row.date}|{row.currency}|{row.sku}"
        for row in products
        if row.merchant_id == merchant and word in row.name.lower().split()
    }
    assert found == expected and expected
    assert {hit["_source"]["merchant_id"] for hit in hits} == {merchant}

    # The same search from the shell, `lakehouse search`, for one merchant.
    matching = [row for row in products if row.merchant_id == "m000001" and "mug" in row.name.split()]
    assert matching

    monkeypatch.setenv("LAKEHOUSE_OPENSEARCH_PREFIX", published.opensearch_prefix)
    capsys.readouterr()  # the pipeline's stage lines
    assert product_search_cli.main(["--merchant", "m000001", "mug", "--size", "500"]) == 0
    first, header, *rows = capsys.readouterr().out.splitlines()
    assert first.startswith(f"m000001: {len(matching):,} product-days match 'mug'")
    assert header.split() == ["date", "sku", "currency", "units", "revenue_minor", "name"]
    assert sorted(row.split()[:5] for row in rows) == sorted(
        [str(r.date), r.sku, r.currency, str(r.units), str(r.revenue_minor)] for r in matching
    )

    monkeypatch.setenv("LAKEHOUSE_OPENSEARCH_PREFIX", "never-published")
    assert product_search_cli.main(["--merchant", "m000001", "mug"]) == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "no index never-published-product-daily yet" in line


@pytest.mark.integration
@pytest.mark.parametrize("down", ["influxdb", "opensearch"])
def test_a_server_stopped_mid_publish_leaves_the_rest_pending_and_the_next_publish_ends_exact(
    spark, published, tmp_path, session_service_settings, monkeypatch, down
):
    landing = tmp_path / "landing"
    write_hour_files(landing, CONFIG, EventGenerator(CONFIG).records_by_arrival_hour())
    short_wait = replace(published, publish_max_wait_seconds=2.0)
    pipeline.run(spark, replace(short_wait, sinks=()), FileSource(str(landing)))  # gold, not yet published
    sink = SINKS[down]
    tables = list(sink.targets)

    # The server is stopped right after the sink's first table was written: its second table cannot be.
    write = type(sink).write

    def write_then_stop_after_the_first_table(self, settings, table, rows):
        written = write(self, settings, table, rows)
        if table == tables[0]:
            services.down([down], settings=session_service_settings, quiet=True)
        return written

    monkeypatch.setattr(type(sink), "write", write_then_stop_after_the_first_table)
    try:
        with pytest.raises(Exception, match=r"(?i)connect|refused"):
            publish.run(spark, short_wait)
        monkeypatch.undo()
        # Only what the sink acknowledged is marked published: its first table (and InfluxDB's four tables when
        # OpenSearch, published second, was the one stopped).
        progress = read_table(spark, short_wait, "ops.publish_progress").collect()
        done = {(row.sink, row.table) for row in progress}
        assert done == {(down, tables[0])} | (
            {("influxdb", t) for t in MEASUREMENTS} if down == "opensearch" else set()
        )

        # Down when the next publish starts, back 1 s later: the retries with backoff carry it through.
        back = {"settings": session_service_settings, "quiet": True}
        restart = threading.Timer(1.0, services.up, args=([down],), kwargs=back)
        restart.start()
        started = time.monotonic()
        # A restarted OpenSearch node may take a while on two busy cores: a wait that covers its start.
        report = publish.run(spark, replace(published, publish_max_wait_seconds=90.0))
        restart.join()
    finally:
        services.up([down], settings=session_service_settings, quiet=True)
    assert time.monotonic() - started < 90.0 + 60
    pending = len(MEASUREMENTS) + len(INDICES) - len(done)
    assert report.rows_in == pending
    client = influx.client(published.influxdb_url)
    assert first_difference(influx_points(client, published.influxdb_database), gold_points(spark, published)) == ""
    searcher = search.client(published.opensearch_url)
    assert (
        first_difference(search_documents(searcher, published.opensearch_prefix), gold_documents(spark, published))
        == ""
    )


def wait_until(condition, what: str, log: Path, timeout: float = 240.0) -> None:
    """Poll `condition` every 3 s. While the run is starting, a read may fail (a table without its first commit,
    a database or index not created yet): that counts as "not yet", and the last such error is shown on timeout."""
    deadline, last_error = time.monotonic() + timeout, None
    while True:
        try:
            if condition():
                return
        except Exception as error:  # reported below if the condition never holds
            last_error = error
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {what} (last error: {last_error}); see {log}")
        time.sleep(3)


@pytest.mark.integration
def test_a_continuous_run_publishes_what_gold_recomputes_and_rides_out_a_search_outage(
    spark, published, tmp_path, session_service_settings
):
    landing = tmp_path / "landing"
    write_hour_files(landing, CONFIG, EventGenerator(CONFIG).records_by_arrival_hour())
    env = {
        **os.environ,
        "LAKEHOUSE_SINKS": "influxdb,opensearch",
        "LAKEHOUSE_INFLUXDB_URL": published.influxdb_url,
        "LAKEHOUSE_INFLUXDB_DATABASE": published.influxdb_database,
        "LAKEHOUSE_OPENSEARCH_URL": published.opensearch_url,
        "LAKEHOUSE_OPENSEARCH_PREFIX": published.opensearch_prefix,
        "LAKEHOUSE_PUBLISH_MAX_WAIT_SECONDS": "1",
        "LAKEHOUSE_SHUFFLE_PARTITIONS": "2",
        "LAKEHOUSE_DRIVER_MEMORY": "1g",
    }
    client = influx.client(published.influxdb_url)
    searcher = search.client(published.opensearch_url)

    def gold_exists() -> bool:  # the run creates the tables once Spark has started
        first_commit = Path("_delta_log", "00000000000000000000.json")
        return all((Path(published.table_path(table)) / first_commit).is_file() for table in [*MEASUREMENTS, *INDICES])

    def influx_equals_gold() -> bool:
        return (
            gold_exists()
            and bool(gold_points(spark, published)["gold.merchant_hourly"])
            and first_difference(influx_points(client, published.influxdb_database), gold_points(spark, published))
            == ""
        )

    def search_equals_gold() -> bool:
        return (
            gold_exists()
            and bool(gold_documents(spark, published)["gold.product_daily"])
            and first_difference(
                search_documents(searcher, published.opensearch_prefix), gold_documents(spark, published)
            )
            == ""
        )

    log = tmp_path / "run.log"
    services.down(["opensearch"], settings=session_service_settings, quiet=True)  # down when the run starts
    command = pipeline_command(f"files:{landing}", published, "2 seconds")
    with log.open("w") as output:
        run = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until(influx_equals_gold, "InfluxDB equals gold while OpenSearch is down", log)
        assert "publish: opensearch failed, its changes stay pending" in log.read_text()

        services.up(["opensearch"], settings=session_service_settings, quiet=True)
        wait_until(search_equals_gold, "OpenSearch equals gold once it is back", log)
        wait_until(lambda: "publish: opensearch is back after" in log.read_text(), "the recovery is reported", log)
        assert log.read_text().count("publish: opensearch failed") == 1  # once per outage, not at every attempt

        daily = read_table(spark, published, "gold.merchant_daily")
        merchant = daily.filter("date = DATE '2026-11-22'").first()["merchant_id"]
        before = gold_documents(spark, published)["gold.merchant_daily"][f"{merchant}|2026-11-22"]["events"]
        late = {
            "event_id": "late-continuous",
            "event_type": "page_view",
            "merchant_id": merchant,
            "occurred_at": "2026-11-22T23:10:00Z",
            "schema_version": 1,
        }
        (landing / "zz-late.jsonl").write_text(json.dumps(late) + "\n")

        def late_event_published() -> bool:
            documents = search_documents(searcher, published.opensearch_prefix)["gold.merchant_daily"]
            return documents[f"{merchant}|2026-11-22"]["events"] == before + 1 and search_equals_gold()

        wait_until(late_event_published, "the late event's day reaches OpenSearch", log)
        wait_until(influx_equals_gold, "the late event's hour and day reach InfluxDB", log)
        assert run.poll() is None, "the run stopped by itself"
    finally:
        services.up(["opensearch"], settings=session_service_settings, quiet=True)
        if run.poll() is None:
            run.send_signal(signal.SIGTERM)  # to the driver only: the JVM would stop Spark under the queries
        try:
            run.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(run.pid, signal.SIGKILL)
            raise
    assert run.returncode == 0 and "stopped; a micro-batch cut short is redone" in log.read_text()
