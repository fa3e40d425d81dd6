"""Gold metrics on tiny silver inputs, against values worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import reduce

import pytest
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from jobs.storage.tables import (
    MERCHANT_DAILY,
    MERCHANT_HOURLY,
    MERCHANT_HOURLY_CHANNEL_SALES,
    MERCHANT_HOURLY_SALES,
)
from jobs.transforms.metrics import (
    merchant_daily,
    merchant_hourly,
    merchant_hourly_channel_sales,
    merchant_hourly_sales,
    merged_activity,
    merged_products,
    merged_sales,
    product_daily,
    rounded_half_up_ratio,
)
from jobs.transforms.validation import accepted_events, validate_events
from testkit.events import bronze_records, event, order
from testkit.lakehouses import comparable_rows

LATER = datetime(2026, 12, 1, tzinfo=UTC)


def silver(spark, payloads):
    """Silver rows of these payloads, ingested well after they occurred."""
    return accepted_events(validate_events(bronze_records(spark, payloads, ingested_at=LATER)))


def at(hour: int, minute: int = 0, day: int = 24) -> str:
    return f"2026-11-{day:02d}T{hour:02d}:{minute:02d}:00Z"


def test_hourly_counts_event_types_sessions_and_customers(spark):
    payloads = [
        event(event_id="1", occurred_at=at(13, 1), session_id="s1", customer_id="c1"),
        event(event_id="2", occurred_at=at(13, 2), session_id="s1", customer_id="c1", event_type="add_to_cart"),
        event(event_id="3", occurred_at=at(13, 3), session_id="s2", customer_id=None, event_type="checkout_started"),
        order(event_id="4", occurred_at=at(13, 4), session_id="s2", customer_id="c2"),
        order(
            event_id="5",
            occurred_at=at(13, 5),
            session_id=None,
            customer_id="c2",
            event_type="order_refunded",
            items=...,
        ),
        event(event_id="6", occurred_at=at(14, 0), session_id="s3"),
        event(event_id="7", occurred_at=at(13, 9), merchant_id="m-2", session_id=None, customer_id=None),
    ]
    rows = {(r["merchant_id"], r["hour_start"]): r for r in merchant_hourly(silver(spark, payloads)).collect()}
    first = rows[("m-1", datetime(2026, 11, 24, 13))]
    assert (first["events"], first["page_views"], first["add_to_carts"], first["checkouts"]) == (5, 1, 1, 1)
    assert (first["orders"], first["refunds"], first["sessions"], first["customers"]) == (1, 1, 2, 2)
    assert first["conversion_rate"] == pytest.approx(0.5)
    assert first["date"] == date(2026, 11, 24)
    assert rows[("m-1", datetime(2026, 11, 24, 14))]["events"] == 1
    no_sessions = rows[("m-2", datetime(2026, 11, 24, 13))]
    assert (no_sessions["sessions"], no_sessions["customers"], no_sessions["conversion_rate"]) == (0, 0, None)


def test_sales_split_by_currency_and_refund_counts_in_its_own_hour(spark):
    payloads = [
        order(
            event_id="o1",
            occurred_at=at(10),
            currency="EUR",
            amount_minor=1001,
            items=[
                {"sku": "a", "name": "A", "quantity": 3, "unit_price_minor": 300},
                {"sku": "b", "name": "B", "quantity": 1, "unit_price_minor": 101},
            ],
        ),
        order(event_id="o2", occurred_at=at(10, 30), currency="EUR", amount_minor=1000, items=...),
        order(event_id="o3", occurred_at=at(10, 40), currency="USD", amount_minor=700),
        order(
            event_id="r1",
            occurred_at=at(12),
            currency="EUR",
            amount_minor=400,
            event_type="order_refunded",
            order_id="o1",
            items=...,
        ),
    ]
    rows = {
        (r["hour_start"].hour, r["currency"]): r.asDict()
        for r in merchant_hourly_sales(silver(spark, payloads)).collect()
    }
    assert set(rows) == {(10, "EUR"), (10, "USD"), (12, "EUR")}
    eur = rows[(10, "EUR")]
    assert (eur["orders"], eur["gross_minor"], eur["refunds"], eur["refunded_minor"], eur["net_minor"]) == (
        2,
        2001,
        0,
        0,
        2001,
    )
    assert eur["items_sold"] == 4
    assert eur["avg_order_minor"] == 1001  # 2001 / 2 = 1000.5 rounds half up
    refund_hour = rows[(12, "EUR")]
    assert (refund_hour["orders"], refund_hour["refunded_minor"], refund_hour["net_minor"]) == (0, 400, -400)
    assert refund_hour["avg_order_minor"] is None


def test_version_1_and_2_orders_give_sales_per_channel_with_discount_and_tax(spark):
    """Absent discount and tax count as 0; an event without a channel (version 1, or version 2 without it) counts
    under 'unknown'; a refund counts in its own channel."""
    v2 = {"schema_version": 2}
    payloads = [
        order(event_id="v1", occurred_at=at(10, 5), amount_minor=1000, items=...),
        order(event_id="web1", occurred_at=at(10, 10), amount_minor=2000, channel="web", discount_minor=200, **v2),
        order(event_id="web2", occurred_at=at(10, 20), amount_minor=3000, channel="web", tax_minor=500, **v2),
        order(event_id="app1", occurred_at=at(10, 30), amount_minor=500, channel="app", tax_minor=83, **v2),
        order(event_id="bare", occurred_at=at(10, 40), amount_minor=700, items=..., **v2),
        order(
            event_id="r1",
            occurred_at=at(10, 50),
            amount_minor=300,
            event_type="order_refunded",
            items=...,
            channel="pos",
            **v2,
        ),
        event(event_id="view", occurred_at=at(10, 55), channel="web", **v2),
    ]
    events = silver(spark, payloads)
    by_channel = {r["channel"]: r.asDict() for r in merchant_hourly_channel_sales(events).collect()}
    assert set(by_channel) == {"unknown", "web", "app", "pos"}
    measures = ["orders", "gross_minor", "discount_minor", "tax_minor", "refunds", "refunded_minor", "net_minor"]
    assert {channel: [row[m] for m in measures] for channel, row in by_channel.items()} == {
        "unknown": [2, 1700, 0, 0, 0, 0, 1700],
        "web": [2, 5000, 200, 500, 0, 0, 5000],
        "app": [1, 500, 0, 83, 0, 0, 500],
        "pos": [0, 0, 0, 0, 1, 300, -300],
    }
    [total] = merchant_hourly_sales(events).collect()
    assert [total[m] for m in measures] == [5, 7200, 200, 583, 1, 300, 6900]


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"), [(5, 2, 3), (7, 3, 2), (8, 3, 3), (10**15 * 9, 9, 10**15), (1, 0, None)]
)
def test_rounded_half_up_ratio_is_exact(spark, numerator, denominator, expected):
    df = spark.createDataFrame([(numerator, denominator)], "n bigint, d bigint")
    assert df.select(rounded_half_up_ratio(df["n"], df["d"]).alias("r")).first()["r"] == expected


def test_daily_distinct_counts_come_from_the_union_of_hours(spark):
    # c1 shops in three hours: a sum of hourly customers would say 3, the day has 1 (plus c2).
    payloads = [
        event(event_id="1", occurred_at=at(1), customer_id="c1", session_id="s1"),
        event(event_id="2", occurred_at=at(5), customer_id="c1", session_id="s2"),
        event(event_id="3", occurred_at=at(23), customer_id="c1", session_id="s2"),
        order(event_id="4", occurred_at=at(23, 30), customer_id="c2", session_id="s3"),
        event(event_id="5", occurred_at=at(0, day=25), customer_id="c3"),
    ]
    daily = {r["date"]: r for r in merchant_daily(merchant_hourly(silver(spark, payloads))).collect()}
    day = daily[date(2026, 11, 24)]
    assert (day["events"], day["customers"], day["sessions"], day["orders"]) == (4, 2, 3, 1)
    assert day["conversion_rate"] == pytest.approx(1 / 3)
    assert daily[date(2026, 11, 25)]["customers"] == 1


def test_distinct_counts_exact_for_small_and_within_two_percent_for_large(spark):
    rows = [("m", f"c{i % n}", n) for n in (37, 20000) for i in range(n * 2)]
    df = spark.createDataFrame(rows, "merchant_id string, customer_id string, n int")
    events = df.selectExpr(
        "concat(merchant_id, n) as merchant_id",
        "customer_id",
        "customer_id as session_id",
        "'page_view' as event_type",
        "timestamp'2026-11-24 10:00:00' as event_hour",
        "timestamp'2026-11-24 10:00:00' as ingested_at",
    )
    counts = {r["merchant_id"]: r["customers"] for r in merchant_hourly(events).collect()}
    assert counts["m37"] == 37
    assert abs(counts["m20000"] - 20000) <= 0.02 * 20000


def many_page_views(spark):
    """60,000 page views of one merchant in one hour: 40,000 sessions and 50,000 customers, past the sketches' exact
    range; `id` numbers the rows."""
    return spark.range(60000).selectExpr(
        "'m' as merchant_id",
        "concat('c', id * 7919 % 50000) as customer_id",
        "concat('s', id * 104729 % 40000) as session_id",
        "'page_view' as event_type",
        "timestamp'2026-11-24 10:00:00' as event_hour",
        "timestamp'2026-11-24 10:00:00' as ingested_at",
        "id",
    )


def test_hourly_distinct_counts_do_not_depend_on_row_order(spark):
    """A backfill reads silver's rows in another order than the incremental runs did; the counts must agree."""
    events = many_page_views(spark).drop("id")
    orders = [events.coalesce(1), events.orderBy("customer_id").coalesce(1), events.orderBy(F.rand(7)).repartition(5)]
    counts = {tuple(merchant_hourly(rows).select("sessions", "customers").first()) for rows in orders}
    assert len(counts) == 1, counts
    (sessions, customers), *_ = counts
    assert abs(sessions - 40000) <= 0.02 * 40000 and abs(customers - 50000) <= 0.02 * 50000


def test_product_daily_sums_units_and_revenue_and_takes_latest_name(spark):
    payloads = [
        order(
            event_id="1",
            occurred_at=at(9),
            items=[{"sku": "a", "name": "Old name", "quantity": 2, "unit_price_minor": 500}],
        ),
        order(
            event_id="2",
            occurred_at=at(18),
            items=[{"sku": "a", "name": "New name", "quantity": 1, "unit_price_minor": 450}],
        ),
        order(
            event_id="3",
            occurred_at=at(12),
            currency="USD",
            items=[{"sku": "a", "name": "Dollar", "quantity": 4, "unit_price_minor": 100}],
        ),
    ]
    rows = {(r["sku"], r["currency"]): r for r in product_daily(silver(spark, payloads)).collect()}
    eur = rows[("a", "EUR")]
    assert (eur["name"], eur["units"], eur["revenue_minor"], eur["date"]) == ("New name", 3, 1450, date(2026, 11, 24))
    assert (rows[("a", "USD")]["units"], rows[("a", "USD")]["revenue_minor"]) == (4, 400)


def test_product_name_of_an_order_listing_a_sku_twice_does_not_depend_on_item_order(spark):
    lines = [
        {"sku": "a", "name": "Zebra", "quantity": 1, "unit_price_minor": 100},
        {"sku": "a", "name": "Apple", "quantity": 2, "unit_price_minor": 100},
    ]
    names = {
        product_daily(silver(spark, [order(event_id="1", occurred_at=at(9), items=items)])).first()["name"]
        for items in (lines, lines[::-1])
    }
    assert names == {"Zebra"}, "the name that sorts last, in either item order"


def test_sums_at_the_contracts_bounds_stay_exact_far_past_64_bits(spark):
    """Ten thousand orders at the largest amount, each with one item at the largest quantity and price: 64-bit sums
    overflow after 9,224 such orders (and ANSI mode would fail the job); these stay exact."""
    amount, quantity, price = 10**15 - 1, 10**9 - 1, 10**15 - 1
    orders = 10_000
    item = {"sku": "a", "name": "x", "quantity": quantity, "unit_price_minor": price}
    payloads = [
        order(event_id=f"o-{n}", occurred_at=at(9), amount_minor=amount, items=[item, item]) for n in range(orders)
    ]
    payloads.append(
        order(event_id="r-1", event_type="order_refunded", items=..., occurred_at=at(9), amount_minor=amount)
    )
    events = silver(spark, payloads)
    assert events.count() == orders + 1, "every order at the bounds is accepted"

    [sales] = merchant_hourly_sales(events).collect()
    assert sales["gross_minor"] == orders * amount > 2**63
    assert sales["net_minor"] == (orders - 1) * amount
    assert sales["items_sold"] == orders * 2 * quantity
    assert sales["avg_order_minor"] == amount
    [channel] = merchant_hourly_channel_sales(events).collect()
    assert channel["gross_minor"] == orders * amount
    [product] = product_daily(events).collect()
    assert (product["units"], product["revenue_minor"]) == (orders * 2 * quantity, orders * 2 * quantity * price)


def gold_of(events: DataFrame) -> dict[str, DataFrame]:
    hourly = merchant_hourly(events)
    return {
        "hourly": hourly,
        "sales": merchant_hourly_sales(events),
        "channel_sales": merchant_hourly_channel_sales(events),
        "daily": merchant_daily(hourly),
        "products": product_daily(events),
    }


def merged_gold(batches: list[DataFrame]) -> dict[str, DataFrame]:
    """Gold as incremental runs build it: each batch's rows merged into those of the batches before."""
    parts = [gold_of(batch) for batch in batches]

    def union(table: str) -> DataFrame:
        return reduce(DataFrame.unionByName, [part[table] for part in parts])

    return {
        "hourly": merged_activity(union("hourly"), MERCHANT_HOURLY),
        "sales": merged_sales(union("sales"), MERCHANT_HOURLY_SALES),
        "channel_sales": merged_sales(union("channel_sales"), MERCHANT_HOURLY_CHANNEL_SALES),
        "daily": merged_activity(union("daily"), MERCHANT_DAILY),
        "products": merged_products(union("products")),
    }


def test_batches_merged_one_by_one_equal_gold_of_all_their_events(spark):
    payloads = [
        order(
            event_id="1",
            occurred_at=at(9),
            session_id="s1",
            customer_id="c1",
            items=[{"sku": "a", "name": "Old name", "quantity": 2, "unit_price_minor": 500}],
        ),
        order(
            event_id="2",
            occurred_at=at(18),
            session_id="s2",
            customer_id="c1",
            items=[{"sku": "a", "name": "New name", "quantity": 1, "unit_price_minor": 450}],
        ),
        order(event_id="3", occurred_at=at(9, 30), currency="USD", channel="app", schema_version=2, discount_minor=5),
        order(event_id="4", occurred_at=at(9, 40), event_type="order_refunded", items=..., amount_minor=300),
        event(event_id="5", occurred_at=at(9, 50), session_id="s1", customer_id="c2"),
        event(event_id="6", occurred_at=at(23, 59, day=23), session_id="s9", merchant_id="m-2"),
        order(
            event_id="7",
            occurred_at=at(9, 5),
            amount_minor=333,
            session_id="s3",
            items=[{"sku": "a", "name": "Middle name", "quantity": 5, "unit_price_minor": 100}],
        ),
    ]
    events = silver(spark, payloads).cache()
    # The latest order of sku a (18:00) arrives in the first batch, an earlier one in the last: the name must stay.
    batches = [events.filter(F.col("event_id").isin(*ids)) for ids in (["2", "5"], ["1", "3", "6"], ["4", "7"])]
    whole, merged = gold_of(events), merged_gold(batches)
    for table in whole:
        assert comparable_rows(merged[table]) == comparable_rows(whole[table]), table
    assert merged["products"].filter("currency = 'EUR'").first()["name"] == "New name"


def test_merged_distinct_counts_equal_those_of_all_events_past_the_exact_range(spark):
    """Tens of thousands of sessions, so the sketches are in their estimating mode, split over three batches."""
    events = many_page_views(spark)
    whole = merchant_hourly(events)
    merged = merged_activity(
        reduce(DataFrame.unionByName, [merchant_hourly(events.filter(f"id % 3 = {part}")) for part in range(3)]),
        MERCHANT_HOURLY,
    )
    assert comparable_rows(merged) == comparable_rows(whole)
    sessions = merged.first()["sessions"]
    assert sessions != 40000 and abs(sessions - 40000) <= 0.02 * 40000  # an estimate, not an exact count
