"""Trino over the lakehouse: a real Trino 476 reads the Delta tables a real pipeline run wrote on S3 (the local S3
server, through Trino's native S3 file system), and what it reads equals what Spark reads; a local warehouse is
registered and read as well (the last test); the analyst views run and agree with the tables; the notebooks
execute; `lakehouse sql`."""

from __future__ import annotations

import http.server
import threading
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import nbformat
import pytest
from pyspark.sql import functions as F
from pyspark.sql.types import DecimalType, DoubleType, LongType

from jobs import gold, silver
from jobs.analysts import notebooks, sql, trino_register
from jobs.devtools.synthetic import EventGenerator
from jobs.runtime.settings import Settings
from jobs.services.base import LOOPBACK
from jobs.services.trino import PIPELINE
from jobs.storage.currencies import MINOR_UNIT_EXPONENTS
from jobs.storage.delta import read_table
from jobs.storage.tables import TABLES
from testkit.lakehouses import SMALL_CONFIG, copy_of, land
from testkit.servers import trino_settings

GOLD_TABLES = [name for name in TABLES if name.startswith("gold.")]


VIEWS = [name for name, _ in trino_register.view_statements(trino_register.VIEWS_FILE.read_text())]


@pytest.fixture(scope="module")
def lakehouse(s3_lakehouse, trino_service) -> Settings:
    """The shared small lakehouse's events (two dates, several currencies, late events) as the pipeline wrote them
    on S3, which Trino only reads."""
    return trino_settings(s3_lakehouse.settings, trino_service)


@pytest.fixture(scope="module")
def as_pipeline(lakehouse, trino_service) -> Settings:
    return trino_settings(lakehouse, trino_service, PIPELINE)


@pytest.fixture(scope="module")
def registration(as_pipeline) -> trino_register.Registration:
    return trino_register.register(sql.connect(as_pipeline), as_pipeline)


@pytest.fixture(scope="module")
def trino(lakehouse, registration):
    return sql.connect(lakehouse)


def one_row(connection, query: str, params=()) -> dict:
    [row] = sql.frame(connection, query, params).to_dict("records")
    return row


def totals_in_spark(spark, settings, table: str) -> dict:
    """Row count, distinct merchants, and the sum of every integer, decimal and double column, as Spark reads the
    table."""
    frame = read_table(spark, settings, table)
    measures = [f.name for f in frame.schema.fields if isinstance(f.dataType, LongType | DecimalType | DoubleType)]
    aggregates = [F.count(F.lit(1)).alias("rows"), F.countDistinct("merchant_id").alias("merchants")]
    aggregates += [F.sum(name).alias(name) for name in measures]
    return frame.agg(*aggregates).first().asDict()


def totals_in_trino(connection, table: str, columns: list[str]) -> dict:
    sums = ", ".join(f'sum("{name}") AS "{name}"' for name in columns)
    return one_row(
        connection, f"SELECT count(*) AS rows, count(DISTINCT merchant_id) AS merchants, {sums} FROM {table}"
    )


def assert_same_totals(spark, settings, connection, table: str) -> None:
    expected = totals_in_spark(spark, settings, table)
    actual = totals_in_trino(connection, table, [name for name in expected if name not in ("rows", "merchants")])
    assert expected["rows"] > 0, table
    for name, value in expected.items():
        if isinstance(value, float):  # conversion_rate: the same doubles, summed in another order
            assert actual[name] == pytest.approx(value, rel=1e-12), (table, name)
        else:
            assert actual[name] == value, (table, name)


def test_register_is_idempotent_and_finds_every_written_table(lakehouse, as_pipeline, registration, s3_service):
    stored = s3_service.data_dir / "lakehouse" / "small" / "warehouse"  # the S3 server keeps a bucket as a folder
    written = [name for name in TABLES if (stored / name.replace(".", "/") / "_delta_log").is_dir()]
    assert "gold.merchant_daily" in written
    assert sorted(registration.registered) == sorted(written)
    assert registration.absent == ["ops.publish_progress"]  # written by a publish, and this run has no sinks
    assert registration.views == VIEWS

    again = trino_register.register(sql.connect(as_pipeline), as_pipeline)
    assert again.registered == []
    assert sorted(again.known) == sorted(written)
    assert again.views == VIEWS


def test_gold_tables_equal_what_spark_reads(spark, lakehouse, trino):
    for table in GOLD_TABLES:
        assert_same_totals(spark, lakehouse, trino, table)
    for table in ("bronze.events", "silver.events", "silver.quarantine"):
        assert one_row(trino, f"SELECT count(*) AS n FROM {table}")["n"] == read_table(spark, lakehouse, table).count()


def test_every_analyst_view_runs(trino):
    for view in VIEWS:
        # Every column fetched, so that each expression (money, ranks, buckets) is really computed.
        assert len(sql.frame(trino, f"SELECT * FROM {view}")) > 0, view


def test_views_agree_with_the_tables(spark, lakehouse, trino):
    units = sql.frame(trino, "SELECT currency, exponent FROM analyst.currency_units")
    assert dict(zip(units["currency"], units["exponent"], strict=True)) == MINOR_UNIT_EXPONENTS

    sales = read_table(spark, lakehouse, "gold.merchant_hourly_sales")
    net_minor = {
        r["currency"]: r["net"] for r in sales.groupBy("currency").agg(F.sum("net_minor").alias("net")).collect()
    }
    assert {"JPY", "EUR"} <= set(net_minor)  # a currency without decimals and one with two are both checked
    for view in ("analyst.merchant_hourly_sales", "analyst.merchant_daily_sales"):
        totals = sql.frame(trino, f"SELECT currency, sum(net_minor) AS minor, sum(net) AS major FROM {view} GROUP BY 1")
        assert dict(zip(totals["currency"], totals["minor"], strict=True)) == net_minor, view
        for currency, minor, major in totals.itertuples(index=False):
            assert Decimal(major) == Decimal(minor).scaleb(-MINOR_UNIT_EXPONENTS.get(currency, 2)), (view, currency)

    daily = read_table(spark, lakehouse, "gold.merchant_daily").agg(
        F.count(F.lit(1)).alias("rows"), F.sum("events").alias("events"), F.sum("orders").alias("orders")
    )
    summary = one_row(
        trino,
        "SELECT count(*) AS rows, sum(events) AS events, sum(orders) AS orders FROM analyst.merchant_daily_summary",
    )
    assert summary == daily.first().asDict()  # one row per merchant and day: nothing counted twice
    by_currency = sql.frame(
        trino,
        "SELECT currency, sum(net) AS net FROM analyst.merchant_daily_summary "
        "CROSS JOIN UNNEST(net_by_currency) AS sales (currency, net) GROUP BY 1",
    )
    daily_sales = sql.frame(trino, "SELECT currency, sum(net) AS net FROM analyst.merchant_daily_sales GROUP BY 1")
    assert dict(zip(by_currency["currency"], by_currency["net"], strict=True)) == dict(
        zip(daily_sales["currency"], daily_sales["net"], strict=True)
    )

    products = read_table(spark, lakehouse, "gold.product_daily")
    assert one_row(trino, "SELECT count(*) AS n FROM analyst.top_products")["n"] == products.count()
    misranked = one_row(
        trino,
        """SELECT count(*) AS n FROM analyst.top_products AS t
           WHERE revenue_rank = 1 AND revenue < (SELECT max(o.revenue) FROM analyst.top_products AS o
               WHERE o.merchant_id = t.merchant_id AND o.date = t.date AND o.currency = t.currency)""",
    )
    assert misranked["n"] == 0

    quarantine = read_table(spark, lakehouse, "silver.quarantine").groupBy("ingest_date", "reason").count()
    landed = read_table(spark, lakehouse, "bronze.events").groupBy("ingest_date").count()
    expected = {(r["ingest_date"], r["reason"]): r["count"] for r in quarantine.collect()}
    expected_landed = {r["ingest_date"]: r["count"] for r in landed.collect()}
    breakdown = sql.frame(trino, "SELECT ingest_date, reason, records, landed FROM analyst.quarantine_breakdown")
    assert {(r.ingest_date, r.reason): r.records for r in breakdown.itertuples()} == expected
    assert all(r.landed == expected_landed[r.ingest_date] for r in breakdown.itertuples())

    silver = read_table(spark, lakehouse, "silver.events")
    late = silver.where(F.col("ingested_at") >= F.col("event_hour") + F.expr("INTERVAL 1 HOUR")).count()
    profile = one_row(trino, "SELECT sum(events) AS events, sum(late_events) AS late FROM analyst.late_arrival_profile")
    assert profile == {"events": silver.count(), "late": late}


def test_notebooks_execute_against_trino(lakehouse, trino):
    # NotebookFailed, raised on the first cell that fails, fails the test.
    executed = {path.stem: notebooks.execute(path) for path in notebooks.stored_notebooks()}
    assert sorted(executed) == ["data_quality", "merchant_overview"]
    for name, notebook in executed.items():
        code = [cell for cell in notebook.cells if cell.cell_type == "code"]
        assert all(cell.execution_count for cell in code), name
        outputs = [output for cell in code for output in cell.outputs]
        assert not [output for output in outputs if output.output_type == "error"], name
        assert any("image/png" in output.get("data", {}) for output in outputs), f"{name} drew no chart"
    overview = executed["merchant_overview"].cells
    printed = "".join(o.text for cell in overview for o in cell.get("outputs", []) if o.output_type == "stream")
    assert "hourly and daily agree" in printed


def test_a_failing_cell_names_the_notebook_and_cell(tmp_path, trino):
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("x = 1"),
            nbformat.v4.new_code_cell(
                "from jobs.analysts.sql import connect, frame\n"
                "from jobs.runtime.settings import settings_from\n"
                "import argparse\n"
                "frame(connect(settings_from(argparse.Namespace())), 'SELECT * FROM gold.no_such_table')"
            ),
        ]
    )
    path = tmp_path / "broken.ipynb"
    nbformat.write(notebook, path)
    with pytest.raises(notebooks.NotebookFailed, match=r"broken.ipynb, cell 2 of 2: QueryFailed: TABLE_NOT_FOUND"):
        notebooks.execute(path)


class QuietHandler(http.server.BaseHTTPRequestHandler):
    """Answers every request with an error page (no POST handler), without logging to stderr."""

    def log_message(self, format: str, *args: object) -> None:
        return


def test_sql_command_prints_rows_and_one_line_errors(spark, lakehouse, trino, capsys):
    url = ["--trino-url", lakehouse.trino_url]
    query = "SELECT merchant_id, sum(events) AS events FROM gold.merchant_daily GROUP BY 1 ORDER BY 2 DESC, 1"
    assert sql.main([query, "--format", "csv", "--limit", "3", *url]) == 0
    out, err = capsys.readouterr()
    top = (
        read_table(spark, lakehouse, "gold.merchant_daily")
        .groupBy("merchant_id")
        .agg(F.sum("events").alias("events"))
        .orderBy(F.desc("events"), "merchant_id")
        .limit(3)
        .collect()
    )
    assert out.splitlines() == ["merchant_id,events", *[f"{row['merchant_id']},{row['events']}" for row in top]]
    assert "(3 rows, more not shown (--limit 3)" in err

    rows = read_table(spark, lakehouse, "gold.merchant_daily").count()
    for write in (
        "DELETE FROM gold.merchant_daily",
        "DROP TABLE gold.merchant_daily",
        "DROP VIEW analyst.top_products",
    ):
        assert sql.main([write, *url]) == 1, write  # analysts' catalog is read-only
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "PERMISSION_DENIED" in err[0], err
    assert read_table(spark, lakehouse, "gold.merchant_daily").count() == rows

    assert sql.main(["SELECT * FROM gold.no_such_table", *url]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "TABLE_NOT_FOUND" in err[0] and "no_such_table" in err[0]

    assert sql.main(["SELECT 1", "--trino-url", "https://127.0.0.1:9"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "lakehouse sql: failed: QueryFailed: Trino is not reachable at 127.0.0.1:9 (start it with "
        "`lakehouse services up trino`)"
    ]
    assert sql.main(["SELECT 1", "--trino-url", lakehouse.trino_url.replace("https:", "http:")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "LAKEHOUSE_TRINO_URL must be https:// to log in" in err[0], err

    # Another HTTP server on that port (here one that answers 404 to everything).
    server = http.server.HTTPServer((LOOPBACK, 0), QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert sql.main(["SELECT 1", "--trino-url", f"https://{LOOPBACK}:{server.server_port}"]) == 1
    finally:
        server.shutdown()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"no TLS answer from Trino at {LOOPBACK}:{server.server_port}" in err[0], err


def test_the_analyst_may_only_read_and_nothing_it_tries_changes_anything(lakehouse, as_pipeline, trino):
    """Locked down: the analyst's login reads `lakehouse`; every way to change what analysts see is refused."""
    pipeline = sql.connect(as_pipeline)

    def catalogs_and_view() -> tuple:  # seen by the pipeline: the analyst may not read a view's definition
        catalogs = sql.frame(pipeline, "SHOW CATALOGS")["Catalog"].tolist()
        view = sql.frame(pipeline, "SHOW CREATE VIEW analyst.top_products")["Create View"][0]
        schemas = sql.frame(pipeline, "SHOW SCHEMAS FROM lakehouse_registry")["Schema"].tolist()
        return sorted(catalogs), view, sorted(schemas)

    before = catalogs_and_view()
    location = "local:///gold/merchant_daily"
    forbidden = [
        "CREATE OR REPLACE VIEW lakehouse_registry.analyst.top_products AS SELECT 1 AS sku",
        "DROP VIEW lakehouse_registry.analyst.top_products",
        "CREATE SCHEMA lakehouse_registry.intruder",
        "SELECT count(*) FROM lakehouse_registry.gold.merchant_daily",
        f"CALL lakehouse_registry.system.register_table(schema_name => 'gold', table_name => 'copy', "
        f"table_location => '{location}')",
        "DROP CATALOG lakehouse",
        "DROP CATALOG lakehouse_registry",
        "CREATE CATALOG intruder USING delta_lake WITH (\"hive.metastore\" = 'file', "
        "\"hive.metastore.catalog.dir\" = 'local:///x', \"fs.native-local.enabled\" = 'true', "
        "\"local.location\" = '/tmp')",
        "CREATE OR REPLACE VIEW analyst.top_products AS SELECT 1 AS sku",
        "CREATE TABLE gold.intruder AS SELECT 1 AS x",
    ]
    for statement in forbidden:
        with pytest.raises(sql.QueryFailed, match=r"^PERMISSION_DENIED: Access Denied"):
            sql.frame(trino, statement)
    assert catalogs_and_view() == before
    assert "intruder" not in before[0] and "intruder" not in before[2]


def test_a_wrong_password_or_an_untrusted_certificate_is_refused_in_one_line(lakehouse, capsys, monkeypatch):
    monkeypatch.setenv("LAKEHOUSE_TRINO_URL", lakehouse.trino_url)
    monkeypatch.setenv("LAKEHOUSE_TRINO_CA_FILE", lakehouse.trino_ca_file)
    monkeypatch.setenv("LAKEHOUSE_TRINO_USER", PIPELINE)
    monkeypatch.delenv("LAKEHOUSE_TRINO_PASSWORD_FILE", raising=False)
    monkeypatch.setenv("LAKEHOUSE_TRINO_PASSWORD", "not-the-password-8c1f")
    assert sql.main(["SELECT 1"]) == 1
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        f"lakehouse sql: failed: QueryFailed: Trino at {lakehouse.trino_url.removeprefix('https://')} refused the "
        f"login of user '{PIPELINE}'"
    ]
    monkeypatch.setenv("LAKEHOUSE_TRINO_CA_FILE", "")  # the system's CAs, which did not sign it
    assert sql.main(["SELECT 1"]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "no TLS answer from Trino" in err and "CERTIFICATE_VERIFY" in err
    assert "not-the-password-8c1f" not in err


def test_trino_sees_new_commits_without_registering_again(spark, small_lakehouse, lakehouse, as_pipeline, tmp_path):
    """Spark keeps writing; Trino reads each table's latest version at query time. On a copy, registered once (the
    last test of the module: the catalog then points at the copy)."""
    copy = copy_of(small_lakehouse, tmp_path, onto=lakehouse)
    copy_as_pipeline = replace(copy, trino_login=as_pipeline.trino_login)
    trino_register.register(sql.connect(copy_as_pipeline), copy_as_pipeline)
    trino = sql.connect(copy)
    before = one_row(trino, "SELECT count(*) AS n FROM silver.events")["n"]
    later = replace(SMALL_CONFIG, events=300, hours=1, seed=6, start=datetime(2026, 11, 23, 1, tzinfo=UTC))
    land(spark, copy, EventGenerator(later).records_by_arrival_hour()[0], ingested_at=datetime.now(UTC))
    silver.run(spark, copy)
    gold.run(spark, copy)
    after = one_row(trino, "SELECT count(*) AS n FROM silver.events")["n"]
    assert after > before
    assert after == read_table(spark, copy, "silver.events").count()
    assert_same_totals(spark, copy, trino, "gold.merchant_hourly")
    assert trino_register.register(sql.connect(copy_as_pipeline), copy_as_pipeline).registered == []
