"""The whole pipeline on real Delta tables: two batches (the second with late events and copies), checked against
metrics this test computes itself in plain Python from the same records. The batches mix schema versions 1 and 2.
The first batch is the shared small lakehouse's (testkit.lakehouses), the second lands on a copy of it."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, date, datetime

import pytest

from jobs import gold, pipeline, silver
from jobs.runtime.arguments import Slice
from jobs.sources import checked_source
from jobs.storage.delta import read_table
from testkit.lakehouses import comparable_rows, copy_of, land
from testkit.registry import SchemaRegistry

SCHEMAS = SchemaRegistry()

CHANNEL_MEASURES = ["orders", "gross_minor", "discount_minor", "tax_minor", "refunds", "refunded_minor", "net_minor"]


def second_batch(first_batch_lines: list[str]) -> list[str]:
    """Late events for the first hours, exact copies of first-batch records, and a conflicting copy."""
    accepted = [json.loads(line) for line in first_batch_lines if is_accepted(line)]
    late = [
        {**accepted[0], "event_id": "late-1", "occurred_at": "2026-11-22T22:10:00Z"},
        {**accepted[1], "event_id": "late-2", "occurred_at": "2026-11-23T03:50:00+05:30"},  # 22:20 UTC the day before
        {
            "event_id": "late-refund",
            "event_type": "order_refunded",
            "merchant_id": accepted[2]["merchant_id"],
            "occurred_at": "2026-11-23T01:59:59.999Z",
            "schema_version": 1,
            "order_id": "o-earlier",
            "currency": "EUR",
            "amount_minor": 1999,
        },
    ]
    copies = first_batch_lines[5:25]
    conflicting = {**accepted[3], "merchant_id": "m-conflict"}
    return [json.dumps(event) for event in late] + copies + [json.dumps(conflicting), "not json at all"]


def is_accepted(line: str) -> bool:
    try:
        event = json.loads(line)
    except ValueError:
        return False
    return SCHEMAS.is_valid(event) and not event["occurred_at"].startswith("2099")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00")).astimezone(UTC)


def expected_gold(lines_in_arrival_order: list[str]) -> dict[str, dict]:
    """Plain-Python gold: first accepted copy per event_id, then the definitions of docs/contracts.md."""
    events: dict[str, dict] = {}
    for line in lines_in_arrival_order:
        if is_accepted(line):
            event = json.loads(line)
            events.setdefault(event["event_id"], event)
    hourly: dict[tuple, dict] = defaultdict(lambda: defaultdict(int))
    sessions, customers = defaultdict(set), defaultdict(set)
    sales: dict[tuple, dict] = defaultdict(lambda: defaultdict(int))
    channel_sales: dict[tuple, dict] = defaultdict(lambda: defaultdict(int))
    daily_events, daily_customers = defaultdict(int), defaultdict(set)
    products: dict[tuple, dict] = defaultdict(lambda: defaultdict(int))
    for event in events.values():
        moment = utc(event["occurred_at"])
        hour = moment.replace(minute=0, second=0, microsecond=0, tzinfo=None)
        key = (event["merchant_id"], hour)
        hourly[key]["events"] += 1
        hourly[key][event["event_type"]] += 1
        if event.get("session_id"):
            sessions[key].add(event["session_id"])
        if event.get("customer_id"):
            customers[key].add(event["customer_id"])
            daily_customers[(event["merchant_id"], hour.date())].add(event["customer_id"])
        daily_events[(event["merchant_id"], hour.date())] += 1
        if event["event_type"] in ("order_placed", "order_refunded"):
            row = sales[(*key, event["currency"])]
            placed = event["event_type"] == "order_placed"
            row["orders" if placed else "refunds"] += 1
            row["gross_minor" if placed else "refunded_minor"] += event["amount_minor"]
            row["items_sold"] += sum(item["quantity"] for item in event.get("items") or [])
            version_2 = event["schema_version"] == 2
            channel = channel_sales[
                (*key, event.get("channel", "unknown") if version_2 else "unknown", event["currency"])
            ]
            for counts in (row, channel):
                counts["discount_minor"] += event.get("discount_minor", 0) if version_2 else 0
                counts["tax_minor"] += event.get("tax_minor", 0) if version_2 else 0
            channel["orders" if placed else "refunds"] += 1
            channel["gross_minor" if placed else "refunded_minor"] += event["amount_minor"]
        for item in event.get("items") or []:
            product = products[(event["merchant_id"], hour.date(), item["sku"], event["currency"])]
            product["units"] += item["quantity"]
            product["revenue_minor"] += item["quantity"] * item["unit_price_minor"]
    return {
        "hourly": {
            key: (
                c["events"],
                c["page_view"],
                c["order_placed"],
                c["order_refunded"],
                len(sessions[key]),
                len(customers[key]),
            )
            for key, c in hourly.items()
        },
        "sales": {
            key: (
                c["orders"],
                c["gross_minor"],
                c["refunds"],
                c["refunded_minor"],
                c["gross_minor"] - c["refunded_minor"],
                c["items_sold"],
                (2 * c["gross_minor"] + c["orders"]) // (2 * c["orders"]) if c["orders"] else None,
                c["discount_minor"],
                c["tax_minor"],
            )
            for key, c in sales.items()
        },
        "channel_sales": {
            key: (*[c[m] for m in CHANNEL_MEASURES[:-1]], c["gross_minor"] - c["refunded_minor"])
            for key, c in channel_sales.items()
        },
        "daily": {key: (count, len(daily_customers[key])) for key, count in daily_events.items()},
        "products": {key: (c["units"], c["revenue_minor"]) for key, c in products.items()},
        "silver": set(events),
    }


def actual_gold(spark, settings) -> dict[str, dict]:
    def rows(table):
        return read_table(spark, settings, table).collect()

    return {
        "hourly": {
            (r["merchant_id"], r["hour_start"]): (
                r["events"],
                r["page_views"],
                r["orders"],
                r["refunds"],
                r["sessions"],
                r["customers"],
            )
            for r in rows("gold.merchant_hourly")
        },
        "sales": {
            (r["merchant_id"], r["hour_start"], r["currency"]): (
                r["orders"],
                r["gross_minor"],
                r["refunds"],
                r["refunded_minor"],
                r["net_minor"],
                r["items_sold"],
                r["avg_order_minor"],
                r["discount_minor"],
                r["tax_minor"],
            )
            for r in rows("gold.merchant_hourly_sales")
        },
        "channel_sales": {
            (r["merchant_id"], r["hour_start"], r["channel"], r["currency"]): tuple(r[m] for m in CHANNEL_MEASURES)
            for r in rows("gold.merchant_hourly_channel_sales")
        },
        "daily": {(r["merchant_id"], r["date"]): (r["events"], r["customers"]) for r in rows("gold.merchant_daily")},
        "products": {
            (r["merchant_id"], r["date"], r["sku"], r["currency"]): (r["units"], r["revenue_minor"])
            for r in rows("gold.product_daily")
        },
        "silver": {r["event_id"] for r in read_table(spark, settings, "silver.events").select("event_id").collect()},
    }


def snapshot(spark, settings) -> dict[str, list]:
    """Every row of every silver and gold table, for 'nothing changed' comparisons."""
    tables = [
        "silver.events",
        "silver.quarantine",
        "gold.merchant_hourly",
        "gold.merchant_hourly_sales",
        "gold.merchant_hourly_channel_sales",
        "gold.merchant_daily",
        "gold.product_daily",
    ]

    return {name: comparable_rows(read_table(spark, settings, name)) for name in tables}


def test_two_batches_match_plain_python_and_reruns_change_nothing(spark, settings, small_lakehouse, tmp_path):
    first_lines, first = small_lakehouse.lines, small_lakehouse.reports
    settings = copy_of(small_lakehouse, tmp_path, onto=settings)
    source = checked_source(settings)  # the shared landing folder: its files are all landed already

    assert [r.rows_in for r in first[:2]] == [len(first_lines)] * 2
    assert actual_gold(spark, settings) == expected_gold(first_lines)
    # Both schema versions really are in the mix, and every channel with them.
    silver_versions = read_table(spark, settings, "silver.events").groupBy("schema_version").count().collect()
    assert {row["schema_version"] for row in silver_versions} == {1, 2}
    assert {key[2] for key in expected_gold(first_lines)["channel_sales"]} == {"web", "app", "pos", "unknown"}

    late_lines = second_batch(first_lines)
    land(spark, settings, late_lines, ingested_at=datetime.now(UTC))
    second = pipeline.run(spark, settings, source)
    assert [r.rows_in for r in second[:2]] == [0, len(late_lines)]
    assert second[1].details["copies dropped"] == 21  # 20 exact copies and the conflicting one
    expected = expected_gold(first_lines + late_lines)
    actual = actual_gold(spark, settings)
    for table in expected:
        assert actual[table] == expected[table], table
    late_refund_key = (json.loads(late_lines[2])["merchant_id"], datetime(2026, 11, 23, 1), "EUR")
    assert actual["sales"][late_refund_key] == expected["sales"][late_refund_key]  # in its own hour, not its order's

    before = snapshot(spark, settings)
    third = pipeline.run(spark, settings, source)
    assert [r.rows_in for r in third] == [0, 0, 0]
    assert snapshot(spark, settings) == before

    today = read_table(spark, settings, "bronze.events").first()["ingest_date"]
    silver.run(spark, settings, Slice(today))
    gold.run(spark, settings, Slice(datetime(2026, 11, 22).date()))
    gold.run(spark, settings, Slice(datetime(2026, 11, 23).date(), 1))
    assert snapshot(spark, settings) == before


def test_gold_stopped_between_tables_finishes_its_batch_once_and_equals_a_recompute(
    spark, settings, small_lakehouse, tmp_path, monkeypatch
):
    """Incremental gold merges a batch into each table in its own commit; a crash after some of them must neither
    lose the others nor count the batch twice in those written, and the result must equal gold recomputed from
    silver."""
    first_lines = small_lakehouse.lines
    settings = copy_of(small_lakehouse, tmp_path, onto=settings)
    late_lines = second_batch(first_lines)
    land(spark, settings, late_lines, ingested_at=datetime.now(UTC))
    silver.run(spark, settings)
    write = gold.replace_where

    def crash_at_daily(settings, name, *args):
        if name == "gold.merchant_daily":
            raise RuntimeError("killed in the middle of a batch")
        write(settings, name, *args)

    with monkeypatch.context() as patch:
        patch.setattr(gold, "replace_where", crash_at_daily)
        with pytest.raises(Exception, match="killed in the middle of a batch"):
            gold.run(spark, settings)
    expected = expected_gold(first_lines + late_lines)
    stopped = actual_gold(spark, settings)
    assert stopped["hourly"] == expected["hourly"]  # written before the crash
    assert stopped["daily"] == expected_gold(first_lines)["daily"]  # not written

    restarted = gold.run(spark, settings)  # the same batch again: the tables written already skip it

    assert restarted.rows_in == len(expected["silver"]) - len(expected_gold(first_lines)["silver"])
    assert actual_gold(spark, settings) == expected
    incremental = snapshot(spark, settings)
    for day in (date(2026, 11, 22), date(2026, 11, 23)):
        gold.run(spark, settings, Slice(day))
    assert snapshot(spark, settings) == incremental
