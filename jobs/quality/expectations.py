"""What each gated table must satisfy: one Great Expectations suite per table, its columns taken from the table specs.

Each expectation is critical (the slice is not written) or a warning (printed and recorded, the slice is written),
GX's own `severity`. Rules GX cannot express on a micro-batch's rows become boolean columns (`holds`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from jobs.storage.tables import (
    GOLD_TABLES,
    MERCHANT_DAILY,
    MERCHANT_HOURLY,
    MERCHANT_HOURLY_CHANNEL_SALES,
    MERCHANT_HOURLY_SALES,
    PRODUCT_DAILY,
    SILVER_EVENTS,
    TABLES,
)
from jobs.transforms.contract import registry
from jobs.transforms.metrics import EVENT_TYPE_COUNTS, UNSTATED_CHANNEL

CRITICAL, WARNING = "critical", "warning"
GATED_TABLES = (SILVER_EVENTS.name, *GOLD_TABLES)
LARGEST_USUAL_AMOUNT_MINOR = 1_000_000_000  # 10 million in major units: larger orders happen, but rarely
USUAL_VOLUME = (0.5, 2.0)  # an ended hour's events against the mean of the same hour on the previous days
VOLUME_HISTORY_DAYS = 7
VOLUME_RATIO = "volume ratio"
# Integer columns of gold that may be negative (a net after refunds) or null (an average without orders).
SIGNED_OR_OPTIONAL = ("net_minor", "avg_order_minor")


@dataclass(frozen=True)
class Expect:
    """One expectation: GX's class name and arguments, a severity, and a short name for messages and data docs."""

    name: str
    kind: str
    severity: str
    arguments: dict[str, Any]
    condition: str | None = None  # for `holds`: the SQL condition its rule column holds

    def build(self) -> Any:
        import great_expectations as gx

        expectation_class = getattr(gx.expectations, self.kind)
        return expectation_class(**self.arguments, severity=self.severity, description=self.name)


def holds(name: str, condition: str, severity: str = CRITICAL) -> Expect:
    """Every row must satisfy `condition` (Spark SQL over the gated rows). The condition becomes a column of its own
    (see `with_rule_columns`): GX's SQL expectation cannot see a micro-batch's rows, which live in the stream's own
    Spark session."""
    return Expect(
        name, "ExpectColumnValuesToBeInSet", severity, {"column": rule_column(name), "value_set": [True]}, condition
    )


def rule_column(name: str) -> str:
    return "rule: " + name


def at_least(column: str, minimum: int, severity: str = CRITICAL) -> Expect:
    return Expect(
        f"{column} >= {minimum}", "ExpectColumnValuesToBeBetween", severity, {"column": column, "min_value": minimum}
    )


def non_negative(name: str, columns: list[str]) -> Expect:
    """Every one of `columns` >= 0 in every row: one rule, because each GX expectation costs at least one pass."""
    return holds(f"{name} >= 0", " AND ".join(f"{column} >= 0" for column in columns))


def counts_and_amounts(table: str) -> list[str]:
    """The integer columns of a gold table that can never be negative."""
    return [name for name in TABLES[table].integer_names if name not in SIGNED_OR_OPTIONAL]


def not_null(column: str) -> Expect:
    return Expect(f"{column} not null", "ExpectColumnValuesToNotBeNull", CRITICAL, {"column": column})


def in_set(name: str, column: str, values: list[str]) -> Expect:
    return Expect(name, "ExpectColumnValuesToBeInSet", CRITICAL, {"column": column, "value_set": values})


def currency_code(column: str = "currency") -> Expect:
    arguments = {"column": column, "regex": "^[A-Z]{3}$"}
    return Expect(f"{column} is three capital letters", "ExpectColumnValuesToMatchRegex", CRITICAL, arguments)


def unique_key(table: str) -> Expect:
    columns = TABLES[table].key
    if len(columns) == 1:
        return Expect(f"{columns[0]} unique", "ExpectColumnValuesToBeUnique", CRITICAL, {"column": columns[0]})
    arguments = {"column_list": list(columns)}
    return Expect(f"({', '.join(columns)}) unique", "ExpectCompoundColumnsToBeUnique", CRITICAL, arguments)


def on_the_hour(column: str = "hour_start") -> Expect:
    return holds(f"{column} on the hour", f"{column} = date_trunc('HOUR', {column})")


def usual_volume() -> Expect:
    low, high = USUAL_VOLUME
    return Expect(
        f"events of an ended hour within {low}-{high}x the same hour of the previous {VOLUME_HISTORY_DAYS} days",
        "ExpectColumnValuesToBeBetween",
        WARNING,
        {"column": VOLUME_RATIO, "min_value": low, "max_value": high},
    )


def with_rule_columns(rows: DataFrame, rules: list[Expect]) -> DataFrame:
    """Add one boolean column per `holds` rule: true where the row satisfies it (a null result counts as false)."""
    conditions = {rule_column(r.name): F.coalesce(F.expr(r.condition), F.lit(False)) for r in rules if r.condition}
    return rows.withColumns(conditions)


def with_volume_ratio(hourly: DataFrame, history: DataFrame, now: datetime) -> DataFrame:
    """Add VOLUME_RATIO: the events of the row's hour (all merchants) over the mean of the same hour on the previous
    VOLUME_HISTORY_DAYS days that have any, in `history` (gold.merchant_hourly rows). Null for an hour that has not
    ended at `now` (it is still filling) or that has no history."""
    this = hourly.groupBy("hour_start").agg(F.sum("events").alias("events"))
    earlier = this.select("hour_start", F.explode(F.sequence(F.lit(1), F.lit(VOLUME_HISTORY_DAYS))).alias("back"))
    earlier = earlier.withColumn("earlier_hour", F.col("hour_start") - F.make_interval(days=F.col("back")))
    past = history.groupBy(F.col("hour_start").alias("earlier_hour")).agg(F.sum("events").alias("earlier_events"))
    usual = earlier.join(past, "earlier_hour").groupBy("hour_start").agg(F.avg("earlier_events").alias("usual"))
    ended = F.col("hour_start") + F.expr("INTERVAL 1 HOUR") <= F.lit(now)
    ratios = this.join(usual, "hour_start").select(
        "hour_start", F.when(ended, F.col("events") / F.col("usual")).alias(VOLUME_RATIO)
    )
    return hourly.join(F.broadcast(ratios), "hour_start", "left")


def allowed_values(field: str) -> list[str]:
    """The values the schema registry allows for an enumerated field, in any version."""
    contracts = registry().values()
    if field == "event_type":
        return sorted({value for contract in contracts for value in contract.event_types})
    return sorted({value for contract in contracts for value in contract.enums.get(field, ())})


def expectations(table: str) -> list[Expect]:
    """The gate of each gated table."""
    channels = allowed_values("channel")
    conversion = [
        at_least("conversion_rate", 0),
        # A session may hold two orders, so a few rows above 1 are normal; many are not.
        Expect(
            "conversion_rate <= 1 in 99% of rows",
            "ExpectColumnValuesToBeBetween",
            WARNING,
            {"column": "conversion_rate", "max_value": 1, "mostly": 0.99},
        ),
    ]
    net = holds("net_minor = gross_minor - refunded_minor", "net_minor = gross_minor - refunded_minor")
    suites = {
        SILVER_EVENTS.name: [
            not_null("event_id"),
            unique_key(SILVER_EVENTS.name),
            not_null("occurred_at"),
            in_set("event_type known", "event_type", allowed_values("event_type")),
            at_least("amount_minor", 1),
            currency_code(),
            in_set("channel known", "channel", channels),
            holds("event_hour is the hour of occurred_at", "event_hour = date_trunc('HOUR', occurred_at)"),
            # The schema cannot say it: discount and tax are parts of an order's amount.
            holds(
                "discount_minor and tax_minor <= amount_minor",
                "coalesce(discount_minor, 0) <= amount_minor AND coalesce(tax_minor, 0) <= amount_minor "
                "OR amount_minor IS NULL",
                WARNING,
            ),
            Expect(
                f"amount_minor <= {LARGEST_USUAL_AMOUNT_MINOR:,}",
                "ExpectColumnValuesToBeBetween",
                WARNING,
                {"column": "amount_minor", "max_value": LARGEST_USUAL_AMOUNT_MINOR},
            ),
        ],
        MERCHANT_HOURLY.name: [
            unique_key(MERCHANT_HOURLY.name),
            on_the_hour(),
            non_negative("counts", counts_and_amounts(MERCHANT_HOURLY.name)),
            holds("events >= the sum of the five event types", f"events >= {' + '.join(EVENT_TYPE_COUNTS)}"),
            *conversion,
            usual_volume(),
        ],
        MERCHANT_HOURLY_SALES.name: [
            unique_key(MERCHANT_HOURLY_SALES.name),
            on_the_hour(),
            currency_code(),
            non_negative("counts and amounts", counts_and_amounts(MERCHANT_HOURLY_SALES.name)),
            net,
        ],
        MERCHANT_HOURLY_CHANNEL_SALES.name: [
            unique_key(MERCHANT_HOURLY_CHANNEL_SALES.name),
            on_the_hour(),
            currency_code(),
            in_set("channel known or unknown", "channel", [*channels, UNSTATED_CHANNEL]),
            non_negative("counts and amounts", counts_and_amounts(MERCHANT_HOURLY_CHANNEL_SALES.name)),
            net,
        ],
        MERCHANT_DAILY.name: [
            unique_key(MERCHANT_DAILY.name),
            non_negative("counts", counts_and_amounts(MERCHANT_DAILY.name)),
            *conversion,
        ],
        PRODUCT_DAILY.name: [
            unique_key(PRODUCT_DAILY.name),
            currency_code(),
            at_least("units", 1),
            at_least("revenue_minor", 0),
        ],
    }
    return suites[table]
