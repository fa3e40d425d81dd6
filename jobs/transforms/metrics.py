"""Gold metrics from silver events (docs/architecture.md). Each function ends in a select of its table's columns
(storage/tables.py): its output contract."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from jobs.storage.tables import (
    EXACT_SUM,
    MERCHANT_DAILY,
    MERCHANT_HOURLY,
    MERCHANT_HOURLY_CHANNEL_SALES,
    MERCHANT_HOURLY_SALES,
    PRODUCT_DAILY,
    TableSpec,
)

# lgConfigK 14: relative standard error 0.8%, so estimates stay within 2% of exact; small sets are counted exactly.
SKETCH_LG_K = 14

EVENT_TYPE_COUNTS = {
    "page_views": "page_view",
    "add_to_carts": "add_to_cart",
    "checkouts": "checkout_started",
    "orders": "order_placed",
    "refunds": "order_refunded",
}

ACTIVITY_COUNTS = ["events", *EVENT_TYPE_COUNTS]

# The channel of events that do not name one (schema version 1, or version 2 without the field).
UNSTATED_CHANNEL = "unknown"


def conversion_rate(orders: Column, basis: Column) -> Column:
    return F.when(basis > 0, orders.cast("double") / basis)


def rounded_half_up_ratio(numerator: Column, denominator: Column) -> Column:
    """numerator / denominator rounded half up, in exact decimal arithmetic; null when denominator is 0."""
    exact = numerator.cast("decimal(38,0)") / denominator.cast("decimal(38,0)")
    return F.when(denominator > 0, F.round(exact, 0).cast("bigint"))


def _count_of(event_type: str) -> Column:
    return F.count_if(F.col("event_type") == event_type).cast("bigint")


def exact_sum(value: Column) -> Column:
    """The sum of an integer column in EXACT_SUM arithmetic."""
    return F.sum(value.cast(EXACT_SUM)).cast(EXACT_SUM)


def _sum_when(condition: Column, value: Column) -> Column:
    return F.coalesce(exact_sum(F.when(condition, value)), F.lit(0).cast(EXACT_SUM))


def order_free_estimate(sketch: str) -> Column:
    """The sketch's distinct count from its registers alone. A freshly aggregated sketch in HLL mode estimates with
    a running (HIP) estimator that depends on the order its rows arrived in, so a backfill would not reproduce an
    incremental run's count; a union's result estimates from the registers, which any order fills the same way."""
    return F.hll_sketch_estimate(F.hll_union(sketch, sketch))


def with_estimates(activity: DataFrame, conversion_basis: str) -> DataFrame:
    """Add the distinct counts estimated from the sketches, and the conversion rate over one of them."""
    return activity.withColumns(
        {
            "sessions": order_free_estimate("sessions_sketch"),
            "customers": order_free_estimate("customers_sketch"),
        }
    ).withColumn("conversion_rate", conversion_rate(F.col("orders"), F.col(conversion_basis)))


def merchant_hourly(events: DataFrame, conversion_basis: str = "sessions") -> DataFrame:
    """Silver events -> one row per (merchant_id, hour_start); conversion_rate is orders per `conversion_basis`
    (sessions or customers)."""
    return (
        events.groupBy("merchant_id", F.col("event_hour").alias("hour_start"))
        .agg(
            F.count(F.lit(1)).cast("bigint").alias("events"),
            *[_count_of(event_type).alias(name) for name, event_type in EVENT_TYPE_COUNTS.items()],
            F.hll_sketch_agg("session_id", SKETCH_LG_K).alias("sessions_sketch"),
            F.hll_sketch_agg("customer_id", SKETCH_LG_K).alias("customers_sketch"),
            F.max("ingested_at").alias("updated_at"),
        )
        .withColumn("date", F.to_date("hour_start"))
        .transform(with_estimates, conversion_basis)
        .select(*MERCHANT_HOURLY.names)
    )


def union_in_hour_order(sketch: str) -> Column:
    """The union of a day's hourly sketches, merged in hour order: the same hours always give the same bytes
    (an aggregate union would merge in whatever order the partitions arrive)."""
    by_hour = F.array_sort(F.collect_list(F.struct(F.col("hour_start"), F.col(sketch).alias("sketch"))))
    return F.aggregate(
        F.slice(by_hour, 2, 24),
        by_hour[0]["sketch"],
        lambda merged, hour: F.hll_union(merged, hour["sketch"]),
    )


def merchant_daily(hourly: DataFrame, conversion_basis: str = "sessions") -> DataFrame:
    """Hourly rows -> one row per (merchant_id, date); distinct counts from the union of the hourly sketches."""
    return (
        hourly.groupBy("merchant_id", "date")
        .agg(
            *[F.sum(name).cast("bigint").alias(name) for name in ACTIVITY_COUNTS],
            union_in_hour_order("sessions_sketch").alias("sessions_sketch"),
            union_in_hour_order("customers_sketch").alias("customers_sketch"),
            F.max("updated_at").alias("updated_at"),
        )
        .transform(with_estimates, conversion_basis)
        .select(*MERCHANT_DAILY.names)
    )


def merged_activity(rows: DataFrame, spec: TableSpec, conversion_basis: str = "sessions") -> DataFrame:
    """Rows of merchant_hourly or merchant_daily (`spec`) that share a key -> one row per key: counts added,
    sketches unioned, the distinct counts estimated from the union. How a micro-batch's rows join the table's."""
    return (
        rows.groupBy(*spec.key, *([] if spec.time == "date" else ["date"]))
        .agg(
            *[F.sum(name).cast("bigint").alias(name) for name in ACTIVITY_COUNTS],
            F.hll_union_agg("sessions_sketch").alias("sessions_sketch"),
            F.hll_union_agg("customers_sketch").alias("customers_sketch"),
            F.max("updated_at").alias("updated_at"),
        )
        .transform(with_estimates, conversion_basis)
        .select(*spec.names)
    )


SALES_COUNTS = ("orders", "refunds")
SALES_SUMS = (*SALES_COUNTS, "gross_minor", "discount_minor", "tax_minor", "refunded_minor", "items_sold")


def _hourly_sales(events: DataFrame, *keys: Column) -> DataFrame:
    """Orders and refunds of silver events per (merchant_id, hour_start, *keys, currency), with `date` and
    `net_minor`. An absent discount or tax counts as its schema default, 0."""
    is_order = F.col("event_type") == "order_placed"
    is_refund = F.col("event_type") == "order_refunded"
    units_in_order = F.aggregate(
        "items", F.lit(0).cast(EXACT_SUM), lambda total, item: (total + item["quantity"]).cast(EXACT_SUM)
    )
    return (
        events.filter(is_order | is_refund)
        .groupBy("merchant_id", F.col("event_hour").alias("hour_start"), *keys, "currency")
        .agg(
            F.count_if(is_order).cast("bigint").alias("orders"),
            _sum_when(is_order, F.col("amount_minor")).alias("gross_minor"),
            _sum_when(is_order, F.col("discount_minor")).alias("discount_minor"),
            _sum_when(is_order, F.col("tax_minor")).alias("tax_minor"),
            F.count_if(is_refund).cast("bigint").alias("refunds"),
            _sum_when(is_refund, F.col("amount_minor")).alias("refunded_minor"),
            _sum_when(is_order, F.coalesce(units_in_order, F.lit(0))).alias("items_sold"),
        )
        .withColumns(
            {
                "date": F.to_date("hour_start"),
                "net_minor": (F.col("gross_minor") - F.col("refunded_minor")).cast(EXACT_SUM),
            }
        )
    )


def with_average_order(sales: DataFrame) -> DataFrame:
    return sales.withColumn("avg_order_minor", rounded_half_up_ratio(F.col("gross_minor"), F.col("orders")))


def merchant_hourly_sales(events: DataFrame) -> DataFrame:
    """Silver events -> one row per (merchant_id, hour_start, currency) with orders or refunds.
    A refund counts in the hour of its own occurred_at."""
    return _hourly_sales(events).transform(with_average_order).select(*MERCHANT_HOURLY_SALES.names)


def merged_sales(rows: DataFrame, spec: TableSpec) -> DataFrame:
    """Rows of merchant_hourly_sales or merchant_hourly_channel_sales (`spec`) that share a key -> one row per key:
    counts and amounts added, net and average order taken from the totals."""
    sums = [name for name in SALES_SUMS if name in spec.names]
    merged = (
        rows.groupBy(*spec.key, "date")
        .agg(
            *[
                (F.sum(name).cast("bigint") if name in SALES_COUNTS else exact_sum(F.col(name))).alias(name)
                for name in sums
            ]
        )
        .withColumn("net_minor", (F.col("gross_minor") - F.col("refunded_minor")).cast(EXACT_SUM))
    )
    if "avg_order_minor" in spec.names:
        merged = merged.transform(with_average_order)
    return merged.select(*spec.names)


def merchant_hourly_channel_sales(events: DataFrame) -> DataFrame:
    """Silver events -> one row per (merchant_id, hour_start, channel, currency) with orders or refunds; an event
    that names no channel counts under UNSTATED_CHANNEL. A refund counts in its own hour and channel."""
    channel = F.coalesce(F.col("channel"), F.lit(UNSTATED_CHANNEL)).alias("channel")
    return _hourly_sales(events, channel).select(*MERCHANT_HOURLY_CHANNEL_SALES.names)


def product_daily(events: DataFrame) -> DataFrame:
    """Silver events -> one row per (merchant_id, date, sku, currency) from the items of orders.
    `name` is the one in the latest order of the day (ties broken by event_id, and within one order that lists the
    SKU twice by the name that sorts last), so reruns agree whatever order they read the rows in; `name_occurred_at`
    and `name_event_id` say which order that was, so that a later batch's orders can be merged in."""
    latest_first = F.struct(
        F.col("occurred_at").alias("name_occurred_at"), F.col("event_id").alias("name_event_id"), F.col("item.name")
    )
    return (
        events.filter((F.col("event_type") == "order_placed") & F.col("items").isNotNull())
        .select(
            "merchant_id",
            "event_date",
            "currency",
            "occurred_at",
            "event_id",
            F.explode("items").alias("item"),
        )
        .groupBy("merchant_id", F.col("event_date").alias("date"), F.col("item.sku").alias("sku"), "currency")
        .agg(
            F.max(latest_first).alias("latest"),
            exact_sum(F.col("item.quantity")).alias("units"),
            exact_sum(F.col("item.quantity").cast(EXACT_SUM) * F.col("item.unit_price_minor")).alias("revenue_minor"),
        )
        .select("*", "latest.*")
        .select(*PRODUCT_DAILY.names)
    )


def merged_products(rows: DataFrame) -> DataFrame:
    """Rows of product_daily that share a key -> one row per key: units and revenue added, the name of the latest
    order kept."""
    latest_first = F.struct("name_occurred_at", "name_event_id", "name")
    return (
        rows.groupBy(*PRODUCT_DAILY.key)
        .agg(
            F.max(latest_first).alias("latest"),
            exact_sum(F.col("units")).alias("units"),
            exact_sum(F.col("revenue_minor")).alias("revenue_minor"),
        )
        .select("*", "latest.*")
        .select(*PRODUCT_DAILY.names)
    )
