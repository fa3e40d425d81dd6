"""A gold slice that fails its gate is not written, and `lakehouse gold` exits 3 saying why."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from pyspark.sql import functions as F

from jobs import gold
from jobs.quality.gate import day_results
from jobs.storage.delta import read_table, table_version
from jobs.storage.tables import GOLD_TABLES, SILVER_EVENTS
from testkit.events import bronze_records, order
from testkit.lakehouses import copy_of


def silver_rows(spark, events: list[dict]):
    """Silver rows for these events, typed the way silver types them (through validation)."""
    from jobs.transforms.validation import accepted_events, validate_events

    return (
        bronze_records(spark, events).transform(validate_events).transform(accepted_events).select(*SILVER_EVENTS.names)
    )


def test_a_gold_slice_that_fails_its_gate_is_not_written_and_the_cli_says_why(
    spark, small_lakehouse, settings, tmp_path, mains_use_this_session, capsys
):
    settings = copy_of(small_lakehouse, tmp_path, onto=settings)
    # An upstream bug lets a lower-case currency into silver (validation would have quarantined it).
    bad = silver_rows(spark, [order(event_id="bug-1", occurred_at="2026-11-22T23:30:00Z")]).withColumn(
        "currency", F.lit("eur")
    )
    bad.write.format("delta").mode("append").save(settings.table_path("silver.events"))
    versions = {table: table_version(spark, settings, table) for table in GOLD_TABLES}
    arguments = ["--date", "2026-11-22", "--hour", "23", "--warehouse", settings.warehouse]

    assert gold.main([*arguments, "--checkpoints", settings.checkpoints]) == 3
    reason = [line for line in capsys.readouterr().err.splitlines() if line.startswith("lakehouse gold:")]
    assert reason == [
        "lakehouse gold: quality gate failed for gold.merchant_hourly_sales (rerun: hour 2026-11-22 23:00): "
        "currency is three capital letters"
    ]
    assert {table: table_version(spark, settings, table) for table in GOLD_TABLES} == versions
    sales = read_table(spark, settings, "gold.merchant_hourly_sales")
    assert sales.filter(F.col("currency") == "eur").count() == 0
    kept = json.dumps(day_results(settings, datetime.now(UTC).date().isoformat()))
    assert "currency is three capital letters" in kept
