"""Quality gates: critical expectations stop a slice before it is written, warnings are recorded and let it through,
every result is kept, and `lakehouse quality` summarises a day."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import bronze_records, order
from pyspark.sql import functions as F

from jobs import gold, pipeline, quality
from jobs.entry import quality_gate_failure
from jobs.generate import write_hour_files
from jobs.quality_summary import summary_lines
from jobs.sources import FileSource
from jobs.synthetic import EventGenerator, GeneratorConfig
from jobs.tables import read_table, table_version
from jobs.transforms.validation import SILVER_COLUMNS

BIN = Path(__file__).resolve().parent.parent / ".venv" / "bin"


def silver_rows(spark, events: list[dict]):
    """Silver rows for these events, typed the way silver types them (through validation)."""
    from jobs.transforms.validation import accepted_events, validate_events

    return bronze_records(spark, events).transform(validate_events).transform(accepted_events).select(*SILVER_COLUMNS)


def test_rule_columns_are_true_only_where_the_rule_holds(spark):
    rows = spark.createDataFrame(
        [(10, 3, 7), (10, 3, 8), (None, 3, 7)], "gross_minor long, refunded_minor long, net_minor long"
    )
    [rule] = [e for e in quality.expectations("gold.merchant_hourly_sales") if e.name.startswith("net_minor")]
    checked = quality.with_rule_columns(rows, [rule]).select(quality.rule_column(rule.name)).collect()
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
    ended = quality.with_volume_ratio(today, history, now=datetime(2026, 11, 24, 14, 0, tzinfo=UTC))
    assert {row[quality.VOLUME_RATIO] for row in ended.collect()} == {2.0}  # 60 events against a mean of 30
    filling = quality.with_volume_ratio(today, history, now=datetime(2026, 11, 24, 13, 59, tzinfo=UTC))
    assert {row[quality.VOLUME_RATIO] for row in filling.collect()} == {None}


def test_a_gate_failure_is_found_inside_the_error_a_streaming_query_wraps_it_in():
    wrapped = RuntimeError(
        "[FOREACH_BATCH_USER_FUNCTION_ERROR] An error occurred in the user provided function in foreach batch sink. "
        "Reason: An exception was raised by the Python Proxy. Return Message: Traceback (most recent call last):\n"
        '  File "/work/main/jobs/quality.py", line 264, in check\n'
        "jobs.quality.QualityGateFailed: quality gate failed for silver.events (micro-batch 3): event_id unique\n"
        "\tat org.apache.spark.sql.execution.streaming.sources.ForeachBatchSink.addBatch(ForeachBatchSink.scala:49)"
    )
    assert quality_gate_failure(wrapped) == "quality gate failed for silver.events (micro-batch 3): event_id unique"
    assert quality_gate_failure(RuntimeError("[DELTA_TABLE_NOT_FOUND] no table")) is None


def test_a_critical_failure_raises_names_the_expectation_and_keeps_the_result(spark, settings):
    rows = silver_rows(spark, [order(event_id="e-1"), order(event_id="e-2")]).withColumn("event_id", F.lit("e-1"))

    with pytest.raises(quality.QualityGateFailed, match=r"silver\.events \(batch 7\): event_id unique$"):
        quality.check(settings, "silver.events", rows, "batch 7")

    [kept] = quality.day_results(settings, datetime.now(UTC).date().isoformat())
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

    verdict = quality.check(settings, "silver.events", rows, "batch 1")

    assert verdict.passed
    assert verdict.failed_warnings == ("amount_minor <= 1,000,000,000",)
    assert "quality warning for silver.events (batch 1): amount_minor <= 1,000,000,000" in capsys.readouterr().out
    lines = summary_lines(settings, datetime.now(UTC).date().isoformat())
    assert any(line.startswith("warnings (written):") for line in lines)
    assert any("silver.events (batch 1): amount_minor <= 1,000,000,000" in line for line in lines)


@pytest.mark.integration
def test_a_gold_slice_that_fails_its_gate_is_not_written_and_the_cli_says_why(spark, settings, tmp_path):
    hour = datetime(2026, 11, 24, 13, tzinfo=UTC)
    config = GeneratorConfig(events=400, hours=1, start=hour, merchants=5, seed=3)
    write_hour_files(tmp_path / "landing", config, EventGenerator(config).records_by_arrival_hour())
    pipeline.run(spark, settings, FileSource(str(tmp_path / "landing")))
    # An upstream bug lets a lower-case currency into silver (validation would have quarantined it).
    bad = silver_rows(spark, [order(event_id="bug-1", occurred_at="2026-11-24T13:30:00Z")]).withColumn(
        "currency", F.lit("eur")
    )
    bad.write.format("delta").mode("append").save(settings.table_path("silver.events"))
    versions = {table: table_version(spark, settings, table) for table in gold.GOLD_TABLES}
    command = [str(BIN / "lakehouse"), "gold", "--date", "2026-11-24", "--hour", "13"]
    command += ["--warehouse", settings.warehouse, "--checkpoints", settings.checkpoints, "--master", "local[1]"]

    failed = subprocess.run(command, capture_output=True, text=True)

    assert failed.returncode == 3
    reason = [line for line in failed.stderr.splitlines() if line.startswith("lakehouse gold:")]
    assert reason == [
        "lakehouse gold: quality gate failed for gold.merchant_hourly_sales (rerun: hour 2026-11-24 13:00): "
        "currency is three capital letters"
    ]
    assert {table: table_version(spark, settings, table) for table in gold.GOLD_TABLES} == versions
    sales = read_table(spark, settings, "gold.merchant_hourly_sales")
    assert sales.filter(F.col("currency") == "eur").count() == 0
    kept = json.dumps(quality.day_results(settings, datetime.now(UTC).date().isoformat()))
    assert "currency is three capital letters" in kept
