"""The Airflow DAGs load cleanly, fast and as designed, and the stale-hour callback writes an alert."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from jobs.devtools.airflow import AIRFLOW, WRITES_POOL, WRITES_POOL_SLOTS, airflow_env
from jobs.runtime.settings import REPO_ROOT

AIRFLOW_PYTHON = AIRFLOW.parent / "python"


HOURLY_TASKS = {
    "bronze",
    "silver",
    "quarantine_gate",
    "gold",
    "publish_influxdb",
    "publish_opensearch",
    "freshness",
    "maintain",
    "report_lag",
}


def load_dags(tmp_path: Path, **variables: str) -> dict:
    env = airflow_env(tmp_path / "airflow", {**os.environ, "LAKEHOUSE_SINKS": "influxdb,opensearch", **variables})
    loaded = subprocess.run(
        [
            str(AIRFLOW_PYTHON),
            str(REPO_ROOT / "tests" / "integration" / "airflow" / "dagbag.py"),
            str(REPO_ROOT / "dags"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    return json.loads(loaded.stdout.strip().splitlines()[-1])


def test_the_dags_load_without_errors_quickly_and_as_designed(tmp_path):
    found = load_dags(tmp_path)
    assert found["errors"] == {}
    assert all(seconds < 2 for seconds in found["seconds"].values()), found["seconds"]
    hourly, backfill = found["dags"]["merchant_insights_hourly"], found["dags"]["merchant_insights_backfill"]
    assert (hourly["timetable"], hourly["cron"], hourly["catchup"], hourly["max_active_runs"]) == (
        "CronDataIntervalTimetable",
        "0 * * * *",
        True,
        1,
    )
    tasks = hourly["tasks"]
    assert set(tasks) == HOURLY_TASKS
    assert [tasks[name]["upstream"] for name in ("silver", "quarantine_gate", "gold", "publish_opensearch")] == [
        ["bronze"],
        ["silver"],
        ["quarantine_gate"],
        ["gold"],
    ]
    freshness = tasks["freshness"]
    assert freshness["upstream"] == ["publish_influxdb", "publish_opensearch", "report_lag"]
    assert (freshness["trigger_rule"], freshness["alerts"]) == ("all_done", True)
    # The lag is reported after gold also when gold failed: that is when it grows; and before the freshness check,
    # whose state is the run's, so that a lag not sent does not fail the hour.
    assert (tasks["report_lag"]["upstream"], tasks["report_lag"]["trigger_rule"]) == (["gold"], "all_done")
    assert (tasks["gold"]["retries"], tasks["quarantine_gate"]["depends_on_past"]) == (3, True)
    assert (hourly["timeout_minutes"], hourly["alerts"]) == (55, True), "a run still going at the deadline alerts"
    assert backfill["params"] == ["from", "stages", "to"] and set(backfill["tasks"]) == {"backfill"}
    # The writers share the pool: the backfill takes all of it, so it never writes while an hourly stage does.
    slots = {name: (task["pool"], task["pool_slots"]) for name, task in tasks.items()}
    readers = {"quarantine_gate", "freshness", "report_lag"}
    writers = HOURLY_TASKS - readers - {"maintain"}
    assert {name: slots[name] for name in writers} == dict.fromkeys(writers, (WRITES_POOL, 1))
    # Maintenance rewrites files that the writers read: it too takes the whole pool, after the hour's checks.
    assert (tasks["maintain"]["upstream"], slots["maintain"]) == (["freshness"], (WRITES_POOL, WRITES_POOL_SLOTS))
    assert {slots[name][0] for name in readers} == {"default_pool"}
    assert (backfill["tasks"]["backfill"]["pool"], backfill["tasks"]["backfill"]["pool_slots"]) == (
        WRITES_POOL,
        WRITES_POOL_SLOTS,
    )


def test_on_s3_the_publishes_commit_one_after_the_other(tmp_path):
    """Delta's log store for S3 is safe for one writing driver per table: both publishes commit to
    ops.publish_progress, so on S3 each takes the whole writers' pool."""
    tasks = load_dags(tmp_path, LAKEHOUSE_WAREHOUSE="s3a://lake/warehouse")["dags"]["merchant_insights_hourly"]["tasks"]
    slots = {name: (task["pool"], task["pool_slots"]) for name, task in tasks.items()}
    assert slots["publish_influxdb"] == slots["publish_opensearch"] == (WRITES_POOL, WRITES_POOL_SLOTS)
    assert slots["gold"] == (WRITES_POOL, 1)


def test_beside_a_streaming_job_the_hourly_run_only_checks_and_maintains(tmp_path):
    """A streaming job drains and publishes with the drains' own checkpoints: the hourly run must not drain too."""
    tasks = load_dags(tmp_path, LAKEHOUSE_STREAMING="1")["dags"]["merchant_insights_hourly"]["tasks"]
    assert set(tasks) == {"quarantine_gate", "freshness", "maintain"}
    assert (tasks["freshness"]["upstream"], tasks["maintain"]["upstream"]) == (["quarantine_gate"], ["freshness"])
    assert tasks["quarantine_gate"]["upstream"] == []
    # A share over the gate alerts though it ends no run; the freshness check waits out the last micro-batches.
    assert tasks["quarantine_gate"]["alerts"] and tasks["freshness"]["retries"] == 3


def test_lakehouse_airflow_makes_the_writers_pool_with_room_for_the_backfill_only(tmp_path):
    listed = subprocess.run(
        [str(REPO_ROOT / ".venv" / "bin" / "lakehouse"), "airflow", "pools", "get", WRITES_POOL, "-o", "json"],
        env={**os.environ, "LAKEHOUSE_AIRFLOW_HOME": str(tmp_path / "airflow")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert listed.returncode == 0, listed.stderr[-3000:]
    [pool] = json.loads(listed.stdout[listed.stdout.index("[") :])
    assert (pool["pool"], int(pool["slots"])) == (WRITES_POOL, WRITES_POOL_SLOTS)


CALL_ALERT = """
import datetime, sys, types
sys.path.insert(0, sys.argv[1])
from merchant_insights import alert_stale_hour
hour = datetime.datetime(2026, 11, 26, 10, tzinfo=datetime.timezone.utc)
dag = types.SimpleNamespace(dag_id="merchant_insights_hourly")
# as a task's callback, then as the run's (a timed-out run has no failed task)
alert_stale_hour({"dag": dag, "data_interval_start": hour, "task_instance": types.SimpleNamespace(task_id="freshness")})
alert_stale_hour({"dag": dag, "dag_run": types.SimpleNamespace(data_interval_start=hour), "reason": "timed_out"})
"""


def test_the_stale_hour_callback_writes_an_alert(tmp_path):
    alerts = tmp_path / "alerts.jsonl"
    env = airflow_env(tmp_path / "airflow", {**os.environ, "LAKEHOUSE_ALERTS_FILE": str(alerts)})
    ran = subprocess.run(
        [str(AIRFLOW_PYTHON), "-c", CALL_ALERT, str(REPO_ROOT / "dags")], env=env, capture_output=True, text=True
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    task_alert, run_alert = map(json.loads, alerts.read_text().splitlines())
    assert (task_alert["dag_id"], task_alert["hour"], task_alert["task"]) == (
        "merchant_insights_hourly",
        "2026-11-26T10:00:00+00:00",
        "freshness",
    )
    assert (run_alert["hour"], run_alert["task"], run_alert["reason"]) == (
        "2026-11-26T10:00:00+00:00",
        None,
        "timed_out",
    )
