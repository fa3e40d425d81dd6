"""Publishing gold to a real InfluxDB and a real OpenSearch: what merchants read equals gold, a late event changes
exactly its slices, republishing changes nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from delta.tables import DeltaTable
from pyspark.sql import functions as F

from jobs import gold, pipeline, publish, silver
from jobs.analysts import product_search as product_search_cli
from jobs.runtime.arguments import Slice
from jobs.sinks import influx, search
from jobs.sinks.influx import MEASUREMENTS
from jobs.sources import checked_source
from jobs.storage.delta import ensure_tables, read_table
from jobs.storage.published import INDICES, product_search
from testkit.events import order
from testkit.lakehouses import copy_of, land
from testkit.published import first_difference, gold_documents, gold_points, influx_points, search_documents


def test_run_publishes_gold_then_only_what_a_late_event_changed(spark, small_lakehouse, published, tmp_path):
    published = copy_of(small_lakehouse, tmp_path, onto=published)
    source = checked_source(published)  # the shared landing folder: nothing new in it
    client = influx.client(published.influxdb_url, published.influxdb_login)
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
    land(spark, published, [late], ingested_at=datetime.now(UTC))
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
    assert changed_documents == {"gold.product_daily": set(), "gold.merchant_daily": {(merchant, date(2026, 11, 22))}}
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

    # A fix removes from silver a merchant's only event of an hour, and another merchant's whole day: once their
    # slices are recomputed, the hour's point must go, and so must the day's daily and product documents.
    hourly = read_table(spark, published, "gold.merchant_hourly")
    lone = hourly.filter("events = 1").orderBy("merchant_id").first()
    assert lone is not None
    day = read_table(spark, published, "gold.merchant_daily").filter("date = DATE '2026-11-23'")
    gone = day.join(read_table(spark, published, "gold.product_daily"), ["merchant_id", "date"]).orderBy("events")
    gone_merchant = gone.first()["merchant_id"]
    silver = published.table_path("silver.events")
    spark.sql(
        f"DELETE FROM delta.`{silver}` WHERE merchant_id = '{lone['merchant_id']}' "
        f"AND event_hour = TIMESTAMP '{lone['hour_start']:%Y-%m-%d %H:%M:%S}'"
    )
    spark.sql(f"DELETE FROM delta.`{silver}` WHERE merchant_id = '{gone_merchant}' AND event_date = '2026-11-23'")
    gold.recompute(
        spark, published, sorted({lone["hour_start"].replace(tzinfo=UTC), *Slice(date(2026, 11, 23)).hours()}), "a fix"
    )
    fixed = publish.run(spark, published)
    assert fixed.details["influxdb deleted"] >= 1
    assert fixed.details["opensearch deleted"] >= 2  # the daily document and at least one product's
    final = influx_points(client, published.influxdb_database)
    assert (lone["merchant_id"], f"{lone['hour_start']:%Y-%m-%dT%H:%M:%SZ}") not in final["gold.merchant_hourly"]
    assert final == gold_points(spark, published)
    documents = search_documents(searcher, published.opensearch_prefix)
    assert (gone_merchant, date(2026, 11, 23)) not in documents["gold.merchant_daily"]
    assert documents == gold_documents(spark, published)


def test_a_product_name_search_returns_that_merchants_products_only(
    spark, small_lakehouse, published, tmp_path, monkeypatch, capsys
):
    published = copy_of(small_lakehouse, tmp_path, onto=replace(published, sinks=("opensearch",)))
    publish.run(spark, published)
    searcher = search.client(published.opensearch_url)
    searcher.indices.refresh(index=f"{published.opensearch_prefix}-*")

    products = read_table(spark, published, "gold.product_daily").collect()
    word = "mug"
    sellers = sorted({row.merchant_id for row in products if word in row.name.lower().split()})
    assert len(sellers) >= 2  # other merchants sell products with that word too
    merchant = sellers[0]
    alias = INDICES["gold.product_daily"].alias(published.opensearch_prefix)
    hits = searcher.search(index=alias, body=product_search(merchant, word.upper(), size=1000))["hits"]["hits"]
    found = {(hit["_source"]["date"], hit["_source"]["sku"], hit["_source"]["currency"]) for hit in hits}
    expected = {
        (str(row.date), row.sku, row.currency)
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


def test_keys_with_any_characters_the_contract_accepts_round_trip_through_both_sinks(spark, published):
    """Tags with line protocol's special characters and quotes, keys that a `|` join would confuse, and a SKU and a
    name far past OpenSearch's limits on ids and terms: every gold row reads back exactly, one point or document
    each."""
    merchants_and_skus = [
        ("a b,c=d", "sku"),  # escaped in a tag
        ("=, ", "sku"),
        ("\u00e9\"'\u4e2d\U0001f600", "sku"),
        ("m", "x|2026-11-24|EUR|y"),  # joined with `|`, the keys of these two rows read the same
        ("m|2026-11-24|EUR|x", "y"),
        ("m", "s" * 40_000),
    ]
    payloads = [
        order(
            event_id=f"o-{n}",
            merchant_id=merchant,
            occurred_at="2026-11-24T10:00:00Z",
            items=[
                {"sku": sku, "name": "n" * 40_000 if len(sku) > 100 else "Mug", "quantity": 1, "unit_price_minor": 5}
            ],
        )
        for n, (merchant, sku) in enumerate(merchants_and_skus)
    ]
    ensure_tables(spark, published, ["bronze.events"])
    land(spark, published, payloads, ingested_at=datetime(2026, 11, 24, 11, tzinfo=UTC))
    silver.run(spark, published)
    gold.run(spark, published)
    publish.run(spark, published)

    assert read_table(spark, published, "silver.events").count() == len(payloads)
    points = influx_points(influx.client(published.influxdb_url, published.influxdb_login), published.influxdb_database)
    assert first_difference(points, gold_points(spark, published)) == ""
    assert {merchant for merchant, *_ in points["gold.merchant_hourly"]} == {m for m, _ in merchants_and_skus}
    searcher = search.client(published.opensearch_url)
    documents = search_documents(searcher, published.opensearch_prefix)
    assert first_difference(documents, gold_documents(spark, published)) == ""
    assert len(documents["gold.product_daily"]) == len(payloads)

    # The merchants whose ids need the most quoting lose their events: their points and documents are deleted.
    gone = ["a b,c=d", "\u00e9\"'\u4e2d\U0001f600"]
    DeltaTable.forPath(spark, published.table_path("silver.events")).delete(F.col("merchant_id").isin(gone))
    gold.recompute(spark, published, [datetime(2026, 11, 24, 10, tzinfo=UTC)], "a fix")
    assert publish.run(spark, published).details["influxdb deleted"] >= len(gone)
    points = influx_points(influx.client(published.influxdb_url, published.influxdb_login), published.influxdb_database)
    assert first_difference(points, gold_points(spark, published)) == ""
    assert not {merchant for merchant, *_ in points["gold.merchant_hourly"]} & set(gone)
    documents = search_documents(searcher, published.opensearch_prefix)
    assert first_difference(documents, gold_documents(spark, published)) == ""


def test_a_metric_that_becomes_null_leaves_no_old_value_in_influxdb(spark, small_lakehouse, published, tmp_path):
    published = copy_of(small_lakehouse, tmp_path, onto=replace(published, sinks=("influxdb",)))
    publish.run(spark, published)
    sales = DeltaTable.forPath(spark, published.table_path("gold.merchant_hourly_sales"))
    row = sales.toDF().filter("avg_order_minor IS NOT NULL").orderBy("merchant_id", "currency", "hour_start").first()
    key = (F.col("merchant_id") == row.merchant_id) & (F.col("currency") == row.currency)
    sales.update(key & (F.col("hour_start") == F.lit(row.hour_start)), {"avg_order_minor": F.lit(None)})

    assert publish.run(spark, published).rows_in == 1
    points = influx_points(influx.client(published.influxdb_url, published.influxdb_login), published.influxdb_database)
    assert (
        points["gold.merchant_hourly_sales"][(row.merchant_id, row.currency, f"{row.hour_start:%Y-%m-%dT%H:%M:%SZ}")][
            "avg_order_minor"
        ]
        is None
    )
    assert first_difference(points, gold_points(spark, published)) == ""


def test_a_publish_without_a_change_feed_rewrites_every_record_and_deletes_what_gold_no_longer_has(
    spark, small_lakehouse, published, tmp_path
):
    published = copy_of(small_lakehouse, tmp_path, onto=published)
    publish.run(spark, published)
    tables = sorted(set(MEASUREMENTS) | set(INDICES))
    gone = read_table(spark, published, "gold.product_daily").orderBy("merchant_id").first()["merchant_id"]
    # One merchant's rows leave gold while its change feed is off: the feed cannot tell the next publish of them.
    for table in tables:
        path = published.table_path(table)
        spark.sql(f"ALTER TABLE delta.`{path}` SET TBLPROPERTIES (delta.enableChangeDataFeed = false)")
        DeltaTable.forPath(spark, path).delete(F.col("merchant_id") == gone)
        spark.sql(f"ALTER TABLE delta.`{path}` SET TBLPROPERTIES (delta.enableChangeDataFeed = true)")

    report = publish.run(spark, published)

    assert report.details["influxdb deleted"] > 0 and report.details["opensearch deleted"] > 0
    points = influx_points(influx.client(published.influxdb_url, published.influxdb_login), published.influxdb_database)
    documents = search_documents(search.client(published.opensearch_url), published.opensearch_prefix)
    assert not any(gone in key for records in (*points.values(), *documents.values()) for key in records)
    assert first_difference(points, gold_points(spark, published)) == ""
    assert first_difference(documents, gold_documents(spark, published)) == ""
