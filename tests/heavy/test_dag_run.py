"""A real run of the hourly DAG (`airflow dags test`, SQLite metadata, spark-submit on a local master) takes an hour's
events to gold that is published and checked fresh."""

from __future__ import annotations

import json
import os
import subprocess
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from pyspark.sql import functions as F

from jobs import gold
from jobs.hour_checks import StaleHour, check_freshness
from jobs.runtime.arguments import Slice
from jobs.runtime.settings import REPO_ROOT
from jobs.services.influxdb import PIPELINE
from jobs.storage.delta import read_table
from jobs.storage.tables import MERCHANT_HOURLY
from testkit.events import event, order


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


def test_an_hourly_dag_run_takes_the_hours_events_to_fresh_published_gold(tmp_path, spark, settings, influxdb_service):
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    influxdb_service.create_database("dag_run")
    landing = tmp_path / "landing"
    landing.mkdir()
    payloads = hour_events(hour)
    lines = [payload if isinstance(payload, str) else json.dumps(payload) for payload in payloads]
    (landing / "events.jsonl").write_text("\n".join(lines) + "\n")
    lakehouse_env = {
        "LAKEHOUSE_WAREHOUSE": settings.warehouse,
        "LAKEHOUSE_CHECKPOINTS": settings.checkpoints,
        "LAKEHOUSE_SOURCE": f"files:{landing}",
        # One sink: each task is a spark-submit of its own, a cold JVM of 50-70 s on these two cores
        # (the DAG's one task per sink is checked in integration/test_dags.py).
        "LAKEHOUSE_SINKS": "influxdb",
        "LAKEHOUSE_INFLUXDB_URL": influxdb_service.url,
        "LAKEHOUSE_INFLUXDB_DATABASE": "dag_run",
        "LAKEHOUSE_MASTER": "local[2]",
        "LAKEHOUSE_SHUFFLE_PARTITIONS": "1",
        "LAKEHOUSE_DRIVER_MEMORY": "1g",
        "LAKEHOUSE_AIRFLOW_HOME": str(tmp_path / "airflow"),
        "LAKEHOUSE_ALERTS_FILE": str(tmp_path / "alerts.jsonl"),
        # The client compiler only: a task's JVM lives a minute over a few dozen events, too short for the server
        # compiler's work on two cores to pay off.
        "JDK_JAVA_OPTIONS": "-XX:TieredStopAtLevel=1",
    }
    run = lakehouse(
        lakehouse_env, "airflow", "dags", "test", "merchant_insights_hourly", hour.isoformat(), timeout=1200
    )
    assert run.returncode == 0, (run.stdout + run.stderr)[-5000:]
    # The gate checked the records this run's silver took in: all 40 lines of the file, the malformed one quarantined.
    assert "check quarantine: ok: 1 of 40 records silver took in since" in run.stdout + run.stderr
    states = lakehouse(
        lakehouse_env, "airflow", "dags", "list-runs", "merchant_insights_hourly", "-o", "json", timeout=120
    )
    runs = json.loads(states.stdout.strip().splitlines()[-1])
    assert [(r["logical_date"][:19], r["state"]) for r in runs] == [(hour.strftime("%Y-%m-%dT%H:%M:%S"), "success")]
    assert not (tmp_path / "alerts.jsonl").exists()

    expected = Counter(p["merchant_id"] for p in payloads[:38])
    hourly = read_table(spark, settings, MERCHANT_HOURLY.name).filter(F.col("hour_start") == F.lit(hour)).collect()
    assert {row["merchant_id"]: row["events"] for row in hourly} == expected
    assert {row["merchant_id"]: row["orders"] for row in hourly} == Counter(
        p["merchant_id"] for p in payloads[:38] if p["event_type"] == "order_placed"
    )

    # The freshness check itself: gold that changed after the publish makes the hour stale, naming the sink.
    published = replace(
        settings,
        sinks=("influxdb",),
        influxdb_database="dag_run",
        influxdb_url=influxdb_service.url,
        influxdb_login=influxdb_service.login(PIPELINE),
    )
    assert "is published" in check_freshness(spark, published, Slice(hour.date(), hour.hour))
    gold.recompute(spark, published, [hour], "a rerun nobody published")
    with pytest.raises(StaleHour, match=r"influxdb gold\.merchant_hourly"):
        check_freshness(spark, published, Slice(hour.date(), hour.hour))
