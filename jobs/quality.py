"""Quality gates: Great Expectations suites on every silver batch and every recomputed gold slice.

Each expectation is critical or a warning (GX's own `severity`). A failed critical expectation stops the slice before
any of it is written: the job exits with status 3 and one line naming what failed, and a rerun after the fix
publishes it. A failed warning is printed and recorded, and the slice is written. Every validation result is kept
under <warehouse>/_quality: `results/<date>/<table>/<time> <slice>.json` (GX's result plus the verdict) and GX's HTML
data docs of every slice that failed an expectation in `docs/`. `lakehouse quality --date D` summarises one day.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from jobs.contract import registry
from jobs.settings import Settings
from jobs.transforms.metrics import UNSTATED_CHANNEL

QUALITY_FOLDER = "_quality"
GX_LOCK = threading.Lock()
CRITICAL, WARNING = "critical", "warning"
GATED_TABLES = (
    "silver.events",
    "gold.merchant_hourly",
    "gold.merchant_hourly_sales",
    "gold.merchant_hourly_channel_sales",
    "gold.merchant_daily",
    "gold.product_daily",
)
LARGEST_USUAL_AMOUNT_MINOR = 1_000_000_000  # 10 million in major units: larger orders happen, but rarely
USUAL_VOLUME = (0.5, 2.0)  # an ended hour's events against the mean of the same hour on the previous days
VOLUME_HISTORY_DAYS = 7
VOLUME_RATIO = "volume ratio"
COUNT_COLUMNS = ["events", "page_views", "add_to_carts", "checkouts", "orders", "refunds", "sessions", "customers"]
SALES_AMOUNTS = ["orders", "gross_minor", "discount_minor", "tax_minor", "refunds", "refunded_minor"]

# GX would otherwise try to send usage statistics (no network here, and none wanted from a pipeline).
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


class QualityGateFailed(RuntimeError):
    """A critical expectation failed: the slice was not written."""


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


def not_null(column: str) -> Expect:
    return Expect(f"{column} not null", "ExpectColumnValuesToNotBeNull", CRITICAL, {"column": column})


def currency_code(column: str = "currency") -> Expect:
    arguments = {"column": column, "regex": "^[A-Z]{3}$"}
    return Expect(f"{column} is three capital letters", "ExpectColumnValuesToMatchRegex", CRITICAL, arguments)


def unique(*columns: str) -> Expect:
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
    activity = [non_negative("counts", COUNT_COLUMNS)]
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
    by_type = "page_views + add_to_carts + checkouts + orders + refunds"
    net_is_gross_less_refunded = holds(
        "net_minor = gross_minor - refunded_minor", "net_minor = gross_minor - refunded_minor"
    )
    suites = {
        "silver.events": [
            not_null("event_id"),
            unique("event_id"),
            not_null("occurred_at"),
            Expect(
                "event_type known",
                "ExpectColumnValuesToBeInSet",
                CRITICAL,
                {"column": "event_type", "value_set": allowed_values("event_type")},
            ),
            at_least("amount_minor", 1),
            currency_code(),
            Expect(
                "channel known", "ExpectColumnValuesToBeInSet", CRITICAL, {"column": "channel", "value_set": channels}
            ),
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
        "gold.merchant_hourly": [
            unique("merchant_id", "hour_start"),
            on_the_hour(),
            *activity,
            holds("events >= the sum of the five event types", f"events >= {by_type}"),
            *conversion,
            usual_volume(),
        ],
        "gold.merchant_hourly_sales": [
            unique("merchant_id", "hour_start", "currency"),
            on_the_hour(),
            currency_code(),
            non_negative("counts and amounts", [*SALES_AMOUNTS, "items_sold"]),
            net_is_gross_less_refunded,
        ],
        "gold.merchant_hourly_channel_sales": [
            unique("merchant_id", "hour_start", "channel", "currency"),
            on_the_hour(),
            currency_code(),
            Expect(
                "channel known or unknown",
                "ExpectColumnValuesToBeInSet",
                CRITICAL,
                {"column": "channel", "value_set": [*channels, UNSTATED_CHANNEL]},
            ),
            non_negative("counts and amounts", SALES_AMOUNTS),
            net_is_gross_less_refunded,
        ],
        "gold.merchant_daily": [unique("merchant_id", "date"), *activity, *conversion],
        "gold.product_daily": [
            unique("merchant_id", "date", "sku", "currency"),
            currency_code(),
            at_least("units", 1),
            at_least("revenue_minor", 0),
        ],
    }
    return suites[table]


@dataclass(frozen=True)
class Verdict:
    table: str
    slice: str
    failed_critical: tuple[str, ...]
    failed_warnings: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.failed_critical

    def reason(self) -> str:
        return f"quality gate failed for {self.table} ({self.slice}): {'; '.join(self.failed_critical)}"

    def warning(self) -> str:
        return f"quality warning for {self.table} ({self.slice}): {'; '.join(self.failed_warnings)}"


def results_folder(settings: Settings) -> Path:
    return Path(settings.warehouse, QUALITY_FOLDER)


@cache
def _checkpoints(settings: Settings) -> dict[tuple[str, bool], Any]:
    """Two GX checkpoints per gated table, built once per process: a quick one (pass or fail per expectation) and a
    detailed one (unexpected counts and samples, and an HTML page in the data docs) for a slice that failed any."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    docs = {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(results_folder(settings) / "docs")}
    context.add_data_docs_site(
        site_name="lakehouse",
        site_config={
            "class_name": "SiteBuilder",
            "store_backend": docs,
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    source = context.data_sources.add_spark("lakehouse")
    checkpoints = {}
    for table in GATED_TABLES:
        batch = source.add_dataframe_asset(table).add_batch_definition_whole_dataframe("slice")
        suite = context.suites.add(gx.ExpectationSuite(table, expectations=[e.build() for e in expectations(table)]))
        validation = context.validation_definitions.add(gx.ValidationDefinition(name=table, data=batch, suite=suite))
        checkpoints[table, False] = context.checkpoints.add(
            gx.Checkpoint(name=table, validation_definitions=[validation], result_format="BOOLEAN_ONLY")
        )
        checkpoints[table, True] = context.checkpoints.add(
            gx.Checkpoint(
                name=f"{table} in detail",
                validation_definitions=[validation],
                actions=[gx.checkpoint.UpdateDataDocsAction(name="data docs")],
                result_format="SUMMARY",
            )
        )
    return checkpoints


def _validate(settings: Settings, table: str, rows: DataFrame, run_id: Any, detailed: bool) -> Any:
    # A continuous run gates silver and gold batches from two threads; GX's context is not documented thread-safe.
    with GX_LOCK:
        run = _checkpoints(settings)[table, detailed].run(batch_parameters={"dataframe": rows}, run_id=run_id)
    (result,) = run.run_results.values()
    return result


def check(settings: Settings, table: str, rows: DataFrame, slice_name: str) -> Verdict:
    """Validate `rows` (what is about to be written to `table`; for gold.merchant_hourly with its volume ratio, see
    `with_volume_ratio`) and keep the result. Raises QualityGateFailed when a critical expectation fails; prints a
    line when a warning does. A slice that passes everything is validated once, pass or fail per expectation (the
    samples of unexpected values cost a pass over the rows per expectation); one that fails any is validated again
    in detail, for the kept result and the data docs."""
    from great_expectations.core.run_identifier import RunIdentifier

    validated_at = datetime.now(UTC)
    started = time.monotonic()
    gated = with_rule_columns(rows, expectations(table))
    run_id = RunIdentifier(run_name=f"{table} {slice_name}", run_time=validated_at)
    result = _validate(settings, table, gated, run_id, detailed=False)
    if not result.success:
        result = _validate(settings, table, gated, run_id, detailed=True)
    failed = [outcome.expectation_config for outcome in result.results if not outcome.success]
    verdict = Verdict(
        table,
        slice_name,
        tuple(e.description for e in failed if e.severity.value == CRITICAL),
        tuple(e.description for e in failed if e.severity.value != CRITICAL),
    )
    keep(settings, verdict, validated_at, time.monotonic() - started, result.describe_dict())
    if verdict.failed_warnings:
        print(verdict.warning(), flush=True)
    if not verdict.passed:
        raise QualityGateFailed(verdict.reason())
    return verdict


def keep(settings: Settings, verdict: Verdict, validated_at: datetime, seconds: float, result: dict) -> None:
    folder = results_folder(settings) / "results" / validated_at.date().isoformat() / verdict.table
    folder.mkdir(parents=True, exist_ok=True)
    record = {
        "table": verdict.table,
        "slice": verdict.slice,
        "validated_at": validated_at.isoformat(),
        "seconds": round(seconds, 3),
        "passed": verdict.passed,
        "failed_critical": list(verdict.failed_critical),
        "failed_warnings": list(verdict.failed_warnings),
        "result": result,
    }
    name = f"{validated_at:%H%M%S.%f} {re.sub(r'[^0-9A-Za-z_.-]+', '_', verdict.slice)}.json"
    (folder / name).write_text(json.dumps(record, indent=1, default=str))


def day_results(settings: Settings, day: str) -> list[dict]:
    """Every kept validation result of one UTC day, in the order they ran."""
    folder = results_folder(settings) / "results" / day
    files = sorted(folder.glob("*/*.json"), key=lambda path: path.name)
    return [json.loads(path.read_text()) for path in files]
