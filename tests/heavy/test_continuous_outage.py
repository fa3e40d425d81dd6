"""Publishing through an outage: a continuous run publishes what gold recomputes and rides out a sink's outage
(about 4 minutes of cold JVMs, so in the heavy tier; a server stopped mid-publish:
tests/slow/test_publish_outages.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from datetime import date
from pathlib import Path

from jobs import services
from jobs.devtools.chaos import pipeline_command
from jobs.devtools.generate import write_hour_files
from jobs.devtools.synthetic import EventGenerator
from jobs.runtime.waiting import wait_until
from jobs.sinks import influx, search
from jobs.sinks.influx import MEASUREMENTS
from jobs.sinks.search import INDICES
from jobs.storage.delta import read_table
from testkit.lakehouses import SMALL_CONFIG
from testkit.published import first_difference, gold_documents, gold_points, influx_points, search_documents

LATE_DAY = date(2026, 11, 22)


def eventually(condition, what: str, log: Path, timeout: float = 240.0) -> None:
    """Poll `condition` every 3 s. While the run is starting, a read may fail (a table without its first commit,
    a database or index not created yet), and a sink may not hold gold's rows yet: that counts as "not yet", and the
    last such error or difference is shown on timeout."""
    errors: list[Exception] = []

    def holds() -> bool:
        try:
            return bool(condition())
        except Exception as error:  # not yet; reported below if the condition never holds
            errors.append(error)
            return False

    if not wait_until(holds, timeout, interval=3):
        last = errors[-1] if errors else None
        raise AssertionError(f"not within {timeout:.0f} s: {what} (last error: {last}); see {log}")


def equal(sink: dict, gold: dict) -> bool:
    """True when the sink holds what gold does; otherwise the first difference is raised, for `eventually` to
    show if it lasts."""
    difference = first_difference(sink, gold)
    if difference:
        raise AssertionError(difference)
    return True


def test_a_continuous_run_publishes_what_gold_recomputes_and_rides_out_a_sink_outage(
    spark, published, tmp_path, session_service_settings
):
    landing = tmp_path / "landing"
    write_hour_files(landing, SMALL_CONFIG, EventGenerator(SMALL_CONFIG).records_by_arrival_hour())
    env = {
        **os.environ,
        "LAKEHOUSE_SINKS": "influxdb,opensearch",
        "LAKEHOUSE_INFLUXDB_URL": published.influxdb_url,
        "LAKEHOUSE_INFLUXDB_DATABASE": published.influxdb_database,
        "LAKEHOUSE_OPENSEARCH_URL": published.opensearch_url,
        "LAKEHOUSE_OPENSEARCH_PREFIX": published.opensearch_prefix,
        "LAKEHOUSE_PUBLISH_MAX_WAIT_SECONDS": "1",
        "LAKEHOUSE_SHUFFLE_PARTITIONS": "1",
        "LAKEHOUSE_DRIVER_MEMORY": "1g",
    }
    client = influx.client(published.influxdb_url, published.influxdb_login)
    searcher = search.client(published.opensearch_url)

    def gold_exists() -> bool:  # the run creates the tables once Spark has started
        first_commit = Path("_delta_log", "00000000000000000000.json")
        return all((Path(published.table_path(table)) / first_commit).is_file() for table in [*MEASUREMENTS, *INDICES])

    def influx_equals_gold() -> bool:
        if not gold_exists() or not gold_points(spark, published)["gold.merchant_hourly"]:
            return False
        return equal(influx_points(client, published.influxdb_database), gold_points(spark, published))

    def search_equals_gold() -> bool:
        if not gold_exists() or not gold_documents(spark, published)["gold.product_daily"]:
            return False
        return equal(search_documents(searcher, published.opensearch_prefix), gold_documents(spark, published))

    log = tmp_path / "run.log"
    # InfluxDB is the one down (it restarts in a second; OpenSearch's restart is proven above).
    services.down(["influxdb"], settings=session_service_settings, quiet=True)  # down when the run starts
    command = pipeline_command(f"files:{landing}", published, "2 seconds")
    with log.open("w") as output:
        run = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        eventually(search_equals_gold, "OpenSearch equals gold while InfluxDB is down", log)
        assert "publish: influxdb failed, its changes stay pending" in log.read_text()

        services.up(["influxdb"], settings=session_service_settings, quiet=True)
        eventually(influx_equals_gold, "InfluxDB equals gold once it is back", log)
        eventually(lambda: "publish: influxdb is back after" in log.read_text(), "the recovery is reported", log)
        assert log.read_text().count("publish: influxdb failed") == 1  # once per outage, not at every attempt

        daily = read_table(spark, published, "gold.merchant_daily")
        merchant = daily.filter("date = DATE '2026-11-22'").first()["merchant_id"]
        before = gold_documents(spark, published)["gold.merchant_daily"][(merchant, LATE_DAY)]["events"]
        late = {
            "event_id": "late-continuous",
            "event_type": "page_view",
            "merchant_id": merchant,
            "occurred_at": "2026-11-22T23:10:00Z",
            "schema_version": 1,
        }
        (landing / "zz-late.jsonl").write_text(json.dumps(late) + "\n")

        def late_event_published() -> bool:
            documents = search_documents(searcher, published.opensearch_prefix)["gold.merchant_daily"]
            return documents[(merchant, LATE_DAY)]["events"] == before + 1 and search_equals_gold()

        eventually(late_event_published, "the late event's day reaches OpenSearch", log)
        eventually(influx_equals_gold, "the late event's hour and day reach InfluxDB", log)
        assert run.poll() is None, "the run stopped by itself"
    finally:
        services.up(["influxdb"], settings=session_service_settings, quiet=True)
        if run.poll() is None:
            run.send_signal(signal.SIGTERM)  # to the driver only: the JVM would stop Spark under the queries
        try:
            run.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(run.pid, signal.SIGKILL)
            raise
    assert run.returncode == 0 and "stopped; a micro-batch cut short is redone" in log.read_text()
