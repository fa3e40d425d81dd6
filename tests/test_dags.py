"""The Airflow DAGs: they load cleanly and fast, and a real run of the hourly DAG (`airflow dags test`, SQLite
metadata, spark-submit on a local master) takes an hour's events to gold that is published and checked fresh."""

from __future__ import annotations

import json
import os
import subprocess
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import event, order
from pyspark.sql import functions as F

from jobs import gold
from jobs.airflow_local import AIRFLOW, airflow_env
from jobs.checks import StaleHour, check_freshness
from jobs.settings import REPO_ROOT, Slice
from jobs.tables import read_table

pytestmark = pytest.mark.integration

AIRFLOW_PYTHON = AIRFLOW.parent / "python"
HOURLY_TASKS = {"bronze", "silver", "quarantine_gate", "gold", "publish_influxdb", "publish_opensearch", "freshness"}


def load_dags(tmp_path: Path) -> dict:
    env = airflow_env(tmp_path / "airflow", {**os.environ, "LAKEHOUSE_SINKS": "influxdb,opensearch"})
    loaded = subprocess.run(
        [str(AIRFLOW_PYTHON), str(REPO_ROOT / "tests" / "airflow" / "dagbag.py"), str(REPO_ROOT / "dags")],
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
    assert freshness["upstream"] == ["publish_influxdb", "publish_opensearch"]
    assert (freshness["trigger_rule"], freshness["alerts"]) == ("all_done", True)
    assert (tasks["gold"]["retries"], tasks["quarantine_gate"]["depends_on_past"]) == (3, True)
    assert (hourly["timeout_minutes"], hourly["alerts"]) == (55, True), "a run still going at the deadline alerts"
    assert backfill["params"] == ["from", "stages", "to"] and set(backfill["tasks"]) == {"backfill"}


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


def lakehouse(env: dict, *args: str, timeout: float) -> subprocess.CompletedProcess:
    command = [str(REPO_ROOT / ".venv" / "bin" / "lakehouse"), *args]
    return subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True, timeout=timeout)


def hour_events(hour: datetime) -> list:
    """Events of three merchants in the hour, orders among them, a copy and a malformed record (1 of 41: under
    the quarantine gate's 5%)."""
    payloads = []
    for n in range(38):
        occurred = (hour + timedelta(seconds=n)).strftime("%Y-%m-%dT%H:%M:%SZ")
        fields = {"event_id": f"af-{n}", "merchant_id": f"m-{n % 3}", "occurred_at": occurred}
        payloads.append(order(order_id=f"o-{n}", **fields) if n % 5 == 0 else event(**fields))
    return [*payloads, payloads[0], "{not json"]


def test_an_hourly_dag_run_takes_the_hours_events_to_fresh_published_gold(
    tmp_path, spark, settings, influxdb_service, opensearch_service
):
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    landing = tmp_path / "landing"
    landing.mkdir()
    payloads = hour_events(hour)
    lines = [payload if isinstance(payload, str) else json.dumps(payload) for payload in payloads]
    (landing / "events.jsonl").write_text("\n".join(lines) + "\n")
    lakehouse_env = {
        "LAKEHOUSE_WAREHOUSE": settings.warehouse,
        "LAKEHOUSE_CHECKPOINTS": settings.checkpoints,
        "LAKEHOUSE_SOURCE": f"files:{landing}",
        "LAKEHOUSE_SINKS": "influxdb,opensearch",
        "LAKEHOUSE_INFLUXDB_URL": influxdb_service,
        "LAKEHOUSE_OPENSEARCH_URL": opensearch_service,
        "LAKEHOUSE_OPENSEARCH_PREFIX": "dag-run",
        "LAKEHOUSE_INFLUXDB_DATABASE": "dag_run",
        "LAKEHOUSE_MASTER": "local[2]",
        "LAKEHOUSE_SHUFFLE_PARTITIONS": "2",
        "LAKEHOUSE_DRIVER_MEMORY": "1g",
        "LAKEHOUSE_AIRFLOW_HOME": str(tmp_path / "airflow"),
        "LAKEHOUSE_ALERTS_FILE": str(tmp_path / "alerts.jsonl"),
    }
    run = lakehouse(
        lakehouse_env, "airflow", "dags", "test", "merchant_insights_hourly", hour.isoformat(), timeout=1200
    )
    assert run.returncode == 0, (run.stdout + run.stderr)[-5000:]
    states = lakehouse(
        lakehouse_env, "airflow", "dags", "list-runs", "merchant_insights_hourly", "-o", "json", timeout=120
    )
    runs = json.loads(states.stdout.strip().splitlines()[-1])
    assert [(r["logical_date"][:19], r["state"]) for r in runs] == [(hour.strftime("%Y-%m-%dT%H:%M:%S"), "success")]
    assert not (tmp_path / "alerts.jsonl").exists()

    expected = Counter(p["merchant_id"] for p in payloads[:38])
    hourly = read_table(spark, settings, gold.HOURLY).filter(F.col("hour_start") == F.lit(hour)).collect()
    assert {row["merchant_id"]: row["events"] for row in hourly} == expected
    assert {row["merchant_id"]: row["orders"] for row in hourly} == Counter(
        p["merchant_id"] for p in payloads[:38] if p["event_type"] == "order_placed"
    )

    # The freshness check itself: gold that changed after the publish makes the hour stale, naming the sink.
    published = replace(settings, sinks=("influxdb",), influxdb_database="dag_run", influxdb_url=influxdb_service)
    assert "is published" in check_freshness(spark, published, Slice(hour.date(), hour.hour))
    gold.recompute(spark, published, [hour], "a rerun nobody published")
    with pytest.raises(StaleHour, match=r"influxdb gold\.merchant_hourly"):
        check_freshness(spark, published, Slice(hour.date(), hour.hour))
