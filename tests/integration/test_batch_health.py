"""`lakehouse run` prints a line per stage, and ops.batch_health holds a row per stage and batch with what the run
was fed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from pyspark.sql import functions as F

from jobs import bronze, cli
from jobs.sources import FileSource
from jobs.storage.delta import read_table
from jobs.storage.tables import GOLD_TABLES
from testkit.events import event, order


def test_a_run_prints_a_line_per_stage_and_batch_health_holds_what_it_was_fed(
    spark, settings, tmp_path, mains_use_this_session, capsys
):
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
    command = ["run", "--source", f"files:{landing}", "--warehouse", settings.warehouse]
    assert cli.main([*command, "--checkpoints", settings.checkpoints]) == 0
    finished = datetime.now(UTC)
    printed = [line.split()[:5] for line in capsys.readouterr().out.splitlines()]
    stages = [words for words in printed if words[:1] in (["bronze"], ["silver"], ["gold"])]
    assert stages == [
        ["bronze", "in", "14", "out", "14"],
        ["silver", "in", "14", "out", "10"],
        ["gold", "in", "10", "out", str(sum(read_table(spark, settings, t).count() for t in GOLD_TABLES))],
    ]

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
    bronze.run(spark, settings, FileSource(str(landing)))
    (landing / "b.jsonl").write_text("".join(json.dumps(event(event_id=f"b-{n}")) + "\n" for n in range(3)))
    bronze.run(spark, settings, FileSource(str(landing)))

    recorded = read_table(spark, settings, "ops.batch_health").filter(F.col("stage") == "bronze")
    assert sorted((row["batch"], row["rows_in"]) for row in recorded.collect()) == [
        ("micro-batch 0", 5),
        ("micro-batch 1", 3),
    ]
