"""ops.batch_health: a row per stage and batch that holds what the run was fed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from pyspark.sql import functions as F
from testkit.events import event, order

from jobs import pipeline
from jobs.sources import FileSource
from jobs.storage.delta import read_table
from jobs.storage.tables import GOLD_TABLES


def test_batch_health_holds_what_the_run_was_fed(spark, settings, tmp_path):
    now = datetime.now(UTC)
    three_hours_ago = (now - timedelta(hours=3)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    recent = (now - timedelta(seconds=1)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    fresh = [event(event_id=f"e-{n}", occurred_at=recent) for n in range(6)]
    late = [order(event_id=f"late-{n}", occurred_at=three_hours_ago) for n in range(4)]
    copies = [fresh[0], late[0]]
    bad = ["not json", json.dumps(event(event_id="x-1", event_type="teleport"))]
    lines = [json.dumps(e) for e in fresh + late + copies] + bad
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "events.jsonl").write_text("\n".join(lines) + "\n")

    started = datetime.now(UTC)
    pipeline.run(spark, settings, FileSource(str(landing)))
    finished = datetime.now(UTC)

    rows = read_table(spark, settings, "ops.batch_health").collect()
    health = {row["stage"]: row.asDict() for row in rows}
    assert sorted(row["stage"] for row in rows) == ["bronze", "gold", "silver"]
    assert (health["bronze"]["rows_in"], health["bronze"]["rows_out"]) == (14, 14)
    silver = health["silver"]
    assert (silver["rows_in"], silver["rows_out"], silver["copies_dropped"]) == (14, 10, 2)
    assert silver["quarantined"] == {"malformed_json": 1, "unknown_event_type": 1}
    # The fresh events (landed in one micro-batch) turn late too if they landed after the top of their hour.
    fresh_hour_end = (now - timedelta(seconds=1)).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    possible = {4} if finished < fresh_hour_end else {10} if started >= fresh_hour_end else {4, 10}
    assert silver["late_events"] in possible
    waited = (finished - started).total_seconds()
    for figure in ("lateness_max_seconds", "lateness_p95_seconds"):
        assert 3 * 3600 <= silver[figure] <= 3 * 3600 + waited + 1
    gold_rows = sum(read_table(spark, settings, table).count() for table in GOLD_TABLES)
    assert (health["gold"]["rows_in"], health["gold"]["rows_out"]) == (10, gold_rows)
    for row in health.values():
        assert started - timedelta(seconds=1) <= row["started_at"].astimezone(UTC) <= finished
        assert 0 < row["seconds"] <= waited
        assert row["date"] == row["started_at"].date()
    assert read_table(spark, settings, "ops.batch_health").filter(F.col("batch").isNull()).count() == 0


def test_a_second_run_records_only_its_own_bronze_batches(spark, settings, tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "a.jsonl").write_text("".join(json.dumps(event(event_id=f"a-{n}")) + "\n" for n in range(5)))
    pipeline.run(spark, settings, FileSource(str(landing)))
    (landing / "b.jsonl").write_text("".join(json.dumps(event(event_id=f"b-{n}")) + "\n" for n in range(3)))
    pipeline.run(spark, settings, FileSource(str(landing)))

    bronze = read_table(spark, settings, "ops.batch_health").filter(F.col("stage") == "bronze")
    assert sorted((row["batch"], row["rows_in"]) for row in bronze.collect()) == [
        ("micro-batch 0", 5),
        ("micro-batch 1", 3),
    ]
