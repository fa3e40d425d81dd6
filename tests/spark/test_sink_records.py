"""Gold rows as sink records, built in Spark: line protocol equal to the client library's, search documents with
ids hashed from their key, monthly indices and explicit mappings."""

from __future__ import annotations

import hashlib
import json
import random
from datetime import UTC, date, datetime
from decimal import Decimal

from influxdb.line_protocol import make_lines

from jobs.sinks import search
from jobs.sinks.influx import MEASUREMENTS, with_line
from jobs.sinks.search import INDICES, with_action
from jobs.storage.tables import TABLES


def test_line_protocol_built_in_spark_is_what_the_client_library_writes(spark):
    row = {
        "merchant_id": "m 1,=x",
        "hour_start": datetime(2026, 11, 24, 13),
        "date": date(2026, 11, 24),
        "currency": "EUR",
        "orders": 2,
        "gross_minor": Decimal(2001),
        "discount_minor": Decimal(0),
        "tax_minor": Decimal(333),
        "refunds": 1,
        "refunded_minor": Decimal(400),
        "net_minor": Decimal(1601),
        "items_sold": Decimal(4),
        "avg_order_minor": None,
    }
    measurement = MEASUREMENTS["gold.merchant_hourly_sales"]
    frame = spark.createDataFrame([row], TABLES["gold.merchant_hourly_sales"].ddl)
    [line] = [r.line for r in frame.transform(with_line(measurement)).collect()]
    fields = {name: int(row[name]) for name in measurement.integer_fields if row[name] is not None}
    point = {"measurement": measurement.name, "tags": {"merchant_id": row["merchant_id"], "currency": "EUR"}}
    seconds = int(datetime(2026, 11, 24, 13, tzinfo=UTC).timestamp())
    expected = make_lines({"points": [{**point, "fields": fields, "time": seconds}]}, precision="s").strip()
    assert line == expected
    assert line.startswith(r"merchant_hourly_sales,currency=EUR,merchant_id=m\ 1\,\=x discount_minor=0i,")


def test_tags_escaped_in_spark_equal_the_client_librarys_for_any_merchant_id_the_contract_accepts(spark):
    rng = random.Random(17)
    # The characters line protocol treats specially, quotes, and non-ASCII up to the astral planes; the contract
    # refuses control characters and backslashes, which no escaping gets through (influx.escape_tag).
    alphabet = " ,=\"'|m-1\u00e9\u4e2d\u2028\U0001f600"
    merchants = sorted({"".join(rng.choices(alphabet, k=rng.randint(1, 64))) for _ in range(2_000)})
    hour = datetime(2026, 11, 24, 13)
    rows = [{"merchant_id": m, "hour_start": hour, "date": hour.date(), "events": 1} for m in merchants]
    measurement = MEASUREMENTS["gold.merchant_hourly"]
    frame = spark.createDataFrame(rows, TABLES["gold.merchant_hourly"].ddl).orderBy("merchant_id")
    lines = [row.line for row in frame.transform(with_line(measurement)).collect()]
    seconds = int(hour.replace(tzinfo=UTC).timestamp())
    expected = [
        make_lines(
            {
                "points": [
                    {
                        "measurement": measurement.name,
                        "tags": {"merchant_id": m},
                        "fields": {"events": 1},
                        "time": seconds,
                    }
                ]
            },
            precision="s",
        ).strip()
        for m in sorted(merchants, key=lambda m: m.encode())
    ]
    assert len(lines) == len(merchants) > 1_500
    assert lines == expected


def test_a_sum_beyond_64_bits_is_left_out_of_the_point_and_the_document_and_the_old_point_deleted(spark):
    largest = 2**63 - 1
    row = {
        "merchant_id": "m-1",
        "date": date(2026, 11, 24),
        "sku": "s",
        "currency": "EUR",
        "name": "n",
        "units": Decimal(largest),
        "revenue_minor": Decimal(largest + 1),
    }
    frame = spark.createDataFrame([row], TABLES["gold.product_daily"].ddl)
    [action] = frame.transform(with_action(INDICES["gold.product_daily"], "t")).collect()
    document = json.loads(action["_source"])
    assert document["units"] == largest and "revenue_minor" not in document

    hour = datetime(2026, 11, 24, 13)
    sales = {"merchant_id": "m-1", "hour_start": hour, "date": hour.date(), "currency": "EUR", "orders": 1}
    sales |= {"gross_minor": Decimal(-(2**63)), "net_minor": Decimal(-(2**63) - 1)}
    frame = spark.createDataFrame([sales], TABLES["gold.merchant_hourly_sales"].ddl)
    [point] = frame.transform(with_line(MEASUREMENTS["gold.merchant_hourly_sales"])).collect()
    assert f"gross_minor={-(2**63)}i" in point["line"] and "net_minor" not in point["line"]
    assert point["delete_where"] == """("merchant_id" = 'm-1' AND "currency" = 'EUR')"""
    assert point["second"] == int(hour.replace(tzinfo=UTC).timestamp())


def test_search_documents_built_in_spark_have_key_ids_monthly_indices_and_explicit_mappings(spark):
    row = {
        "merchant_id": "m-1",
        "date": date(2026, 11, 24),
        "sku": "sku|7",
        "currency": "EUR",
        "name": "Blue Mug",
        "units": Decimal(3),
        "revenue_minor": None,
    }
    frame = spark.createDataFrame([row], TABLES["gold.product_daily"].ddl)
    index = INDICES["gold.product_daily"]
    [action] = [r.asDict() for r in frame.transform(with_action(index, "t")).collect()]
    assert action["_index"] == "t-product-daily-2026.11"
    assert action["_id"] == hashlib.sha256(b"3:m-1|10:2026-11-24|3:EUR|5:sku|7").hexdigest()
    assert json.loads(action["_source"]) == {**{k: v for k, v in row.items() if v is not None}, "date": "2026-11-24"}

    template = search.index_template(index, "t")
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
    assert properties["sku"]["ignore_above"] == search.LONGEST_KEYWORD  # Lucene refuses a term over 32,766 bytes
    daily_properties = search.mappings(INDICES["gold.merchant_daily"])["properties"]
    assert "sessions_sketch" not in daily_properties and daily_properties["updated_at"] == {"type": "date"}


def test_document_ids_are_short_and_differ_for_keys_a_plain_join_would_confuse(spark):
    day = date(2026, 11, 24)
    keys = [
        ("m", "x|2026-11-24|EUR|y"),  # joined with `|`, these two keys read the same
        ("m|2026-11-24|EUR|x", "y"),
        ("m", "s" * 40_000),  # past OpenSearch's 512-byte id limit if the id held the key
    ]
    rows = [
        {"merchant_id": merchant, "date": day, "sku": sku, "currency": "EUR", "name": "n", "units": Decimal(1)}
        for merchant, sku in keys
    ]
    frame = spark.createDataFrame(rows, TABLES["gold.product_daily"].ddl)
    ids = [row["_id"] for row in frame.transform(with_action(INDICES["gold.product_daily"], "t")).collect()]
    assert len(set(ids)) == len(keys)
    assert all(len(document_id.encode()) == 64 for document_id in ids)
