"""Quality gates on tiny slices: rule columns, the volume ratio, a critical failure that stops and a warning that
does not."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from jobs.quality.expectations import VOLUME_RATIO, expectations, rule_column, with_rule_columns, with_volume_ratio
from jobs.quality.gate import check, day_results
from jobs.quality.summary import summary_lines
from jobs.runtime.exits import QualityGateFailed
from jobs.storage.tables import SILVER_EVENTS
from testkit.events import bronze_records, order


def silver_rows(spark, events: list[dict]):
    """Silver rows for these events, typed the way silver types them (through validation)."""
    from jobs.transforms.validation import accepted_events, validate_events

    return (
        bronze_records(spark, events).transform(validate_events).transform(accepted_events).select(*SILVER_EVENTS.names)
    )


def test_rule_columns_are_true_only_where_the_rule_holds(spark):
    rows = spark.createDataFrame(
        [(10, 3, 7), (10, 3, 8), (None, 3, 7)], "gross_minor long, refunded_minor long, net_minor long"
    )
    [rule] = [e for e in expectations("gold.merchant_hourly_sales") if e.name.startswith("net_minor")]
    checked = with_rule_columns(rows, [rule]).select(rule_column(rule.name)).collect()
    assert [row[0] for row in checked] == [True, False, False]


def test_volume_ratio_compares_an_ended_hour_with_the_same_hour_of_earlier_days(spark):
    schema = "merchant_id string, hour_start timestamp, events long"
    hour = datetime(2026, 11, 24, 13, tzinfo=UTC)
    today = spark.createDataFrame([("m-1", hour, 30), ("m-2", hour, 30)], schema)
    history = spark.createDataFrame(
        [
            ("m-1", datetime(2026, 11, 23, 13, tzinfo=UTC), 20),  # same hour, 1 day back
            ("m-1", datetime(2026, 11, 21, 13, tzinfo=UTC), 40),  # 3 days back
            ("m-1", datetime(2026, 11, 23, 12, tzinfo=UTC), 999),  # another hour: not compared
            ("m-1", datetime(2026, 11, 16, 13, tzinfo=UTC), 999),  # 8 days back: too old
        ],
        schema,
    )
    ended = with_volume_ratio(today, history, now=datetime(2026, 11, 24, 14, 0, tzinfo=UTC))
    assert {row[VOLUME_RATIO] for row in ended.collect()} == {2.0}  # 60 events against a mean of 30
    filling = with_volume_ratio(today, history, now=datetime(2026, 11, 24, 13, 59, tzinfo=UTC))
    assert {row[VOLUME_RATIO] for row in filling.collect()} == {None}


def test_a_critical_failure_raises_names_the_expectation_and_keeps_the_result(spark, settings):
    rows = silver_rows(spark, [order(event_id="e-1"), order(event_id="e-2")]).withColumn("event_id", F.lit("e-1"))

    with pytest.raises(QualityGateFailed, match=r"silver\.events \(batch 7\): event_id unique$"):
        check(settings, "silver.events", rows, "batch 7")

    [kept] = day_results(settings, datetime.now(UTC).date().isoformat())
    assert (kept["table"], kept["slice"], kept["passed"], kept["failed_critical"]) == (
        "silver.events",
        "batch 7",
        False,
        ["event_id unique"],
    )
    assert kept["result"]["statistics"]["unsuccessful_expectations"] == 1
    assert list(Path(settings.warehouse, "_quality", "docs", "validations").rglob("*.html"))


def test_a_warning_is_recorded_and_does_not_block(spark, settings, capsys):
    rows = silver_rows(spark, [order(event_id="e-1", amount_minor=5_000_000_000, items=...)])

    verdict = check(settings, "silver.events", rows, "batch 1")

    assert verdict.passed
    assert verdict.failed_warnings == ("amount_minor <= 1,000,000,000",)
    assert "quality warning for silver.events (batch 1): amount_minor <= 1,000,000,000" in capsys.readouterr().out
    lines = summary_lines(settings, datetime.now(UTC).date().isoformat())
    assert any(line.startswith("warnings (written):") for line in lines)
    assert any("silver.events (batch 1): amount_minor <= 1,000,000,000" in line for line in lines)
