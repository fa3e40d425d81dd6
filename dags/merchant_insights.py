"""The Merchant Insights DAGs: merchant_insights_hourly and merchant_insights_backfill.

merchant_insights_hourly: one run per UTC hour, bronze -> silver -> quarantine gate -> gold -> publish (one task per
sink) -> freshness check. The stages drain what is new since their checkpoint (Delta streams with an available-now
trigger), so each record is processed once however runs are retried, delayed or caught up; records land in bronze
stamped with the time they arrived, not with a run's hour. The quarantine gate checks the records this run's silver
took in (a failure stops the line until cleared); the run's hour keys the freshness check, that the hour's gold is
complete and published to every sink; then maintenance (`lakehouse maintain`: closed days compacted, expired files
vacuumed). A failed check, or a run still going 55 minutes after its hour ended, raises the alert
(`alert_stale_hour`). Beside them, after gold, `report_lag` measures how far gold trails bronze (`lakehouse lag`) and
sends it to CloudWatch when LAKEHOUSE_METRICS_NAMESPACE is set, where an alarm watches it.

merchant_insights_backfill: rebuild silver and gold of a date range from bronze and republish, on demand:
`airflow dags trigger merchant_insights_backfill --conf '{"from": "2026-11-20", "to": "2026-11-22"}'` (UTC dates,
both included); `stages` narrows it (a changed metric needs only `gold,publish`). It runs `lakehouse backfill`,
which prints a line per day to the task log. Airflow's own backfill of merchant_insights_hourly would only rerun the
hourly drains and checks of those hours: it recomputes nothing already processed.

Everything that differs between this machine and AWS comes from the workers' environment or an Airflow connection,
read when this file is parsed (it imports nothing heavy, so parsing stays fast):
- connection LAKEHOUSE_SPARK_CONN_ID (default `spark_lakehouse`): the Spark master spark-submit submits to, `local[2]`
  here, the cluster in AWS (Spark on Kubernetes, or YARN on EMR). `spark-submit` must be on the workers' PATH.
- LAKEHOUSE_JOBS_DIR: where jobs/*.py are, default this repository's jobs/ folder (an image path or s3:// in AWS).
- LAKEHOUSE_SINKS: the sinks to publish to, one task each.
- every LAKEHOUSE_* variable (warehouse, checkpoints, source, sinks, sink URLs) is handed to the jobs unchanged,
  which is how they are configured anywhere.
- LAKEHOUSE_DAGS_START_DATE (default 2026-11-25): the first hour the hourly DAG runs for; catchup runs every hour
  since, so on a new deployment set it to the deployment day.
- LAKEHOUSE_ALERTS_FILE: where a stale hour is also written, one JSON line per alert (besides the task log).
- LAKEHOUSE_STREAMING=1: a streaming job (`lakehouse run --trigger`) runs the stages and publishes, and reports the
  lag itself. Its checkpoints are the drains' own, so the hourly run leaves bronze, silver, gold, the publishes and
  report_lag out and only checks the hour (the quarantine share of the records ingested in it, then its freshness,
  retried) and maintains the days two days closed. That needs Delta's multi-writer log store on S3
  (docs/deploy.md): maintenance commits beside the streaming job. Any other value than 1 is off.
- the pool `lakehouse_writes` with two slots (`airflow pools set lakehouse_writes 2 "lakehouse writers"`; `lakehouse
  airflow` creates it): an hourly run's writing tasks take one slot each, the backfill both.
- LAKEHOUSE_WAREHOUSE on S3 (`s3a://...`): Delta commits there through its S3SingleDriverLogStore, which is safe for
  one writing driver per table at a time only (S3 has no put-if-absent that it uses). The publish tasks, which both
  commit to ops.publish_progress, then take both slots each and so run one after the other; every other writer
  already runs alone. More writers at once need Delta's DynamoDB log store (docs/s3.md).
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.sdk import DAG, Param
from airflow.timetables.interval import CronDataIntervalTimetable

JOBS_DIR = os.environ.get("LAKEHOUSE_JOBS_DIR", str(Path(__file__).resolve().parents[1] / "jobs"))
SPARK_CONN_ID = os.environ.get("LAKEHOUSE_SPARK_CONN_ID", "spark_lakehouse")
START_DATE = datetime.fromisoformat(os.environ.get("LAKEHOUSE_DAGS_START_DATE", "2026-11-25")).replace(tzinfo=UTC)
SINKS = [name for name in os.environ.get("LAKEHOUSE_SINKS", "").split(",") if name]
# The tasks that write the lakehouse share a pool of two slots: an hourly task takes one (its two publishes run side
# by side), the backfill both, so a backfill and an hourly stage never commit to the same tables at once (the loser
# of a conflicting Delta commit would fail). The checks only read, and run in the default pool.
WRITES_POOL = "lakehouse_writes"
WRITES_POOL_SLOTS = 2
READS_POOL = "default_pool"
# On S3 one driver at a time may commit to a table (see above): the publishes then run one after the other.
ON_S3 = os.environ.get("LAKEHOUSE_WAREHOUSE", "").startswith("s3a://")
PUBLISH_POOL_SLOTS = WRITES_POOL_SLOTS if ON_S3 else 1
STREAMING = os.environ.get("LAKEHOUSE_STREAMING", "0") == "1"

DEFAULT_ARGS = {
    "owner": "merchant-insights",
    "retries": 3,
    "retry_delay": timedelta(minutes=2),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=20),
}

# The hour a run covers, for a job's --date/--hour: always the run's data interval, never the clock.
INTERVAL_HOUR = ["--date", "{{ data_interval_start.strftime('%Y-%m-%d') }}", "--hour", "{{ data_interval_start.hour }}"]

MAINTAIN_BEFORE = (
    "{{ (data_interval_end - macros.timedelta(days=2)).strftime('%Y-%m-%d') }}"
    if STREAMING
    else "{{ data_interval_end.strftime('%Y-%m-%d') }}"
)

log = logging.getLogger(__name__)


def lakehouse_job(task_id: str, job: str, args: list[str] | None = None, **task_options) -> SparkSubmitOperator:
    """A task that runs `spark-submit <jobs dir>/<job>.py <args>` with the lakehouse settings of this deployment."""
    task_options.setdefault("pool", WRITES_POOL)
    return SparkSubmitOperator(
        task_id=task_id,
        application=f"{JOBS_DIR}/{job}.py",
        application_args=args or [],
        conn_id=SPARK_CONN_ID,
        name=f"merchant-insights-{task_id}",
        env_vars={name: value for name, value in os.environ.items() if name.startswith("LAKEHOUSE_")},
        **task_options,
    )


def alert_stale_hour(context: dict) -> None:
    """on_failure_callback of the freshness check and of the hourly run (which fails when it has not ended an hour
    after its hour did): the seed's one-hour promise is broken for this hour."""
    raise_alert(context, "merchant insights hour not published in time")


def alert_quarantine_share(context: dict) -> None:
    """on_failure_callback of the quarantine gate beside a streaming job, whose failure ends no run: gold is already
    out, and a share over the gate is for people to look at."""
    raise_alert(context, "merchant insights quarantined more of an hour's records than the gate allows")


def raise_alert(context: dict, what: str) -> None:
    """Log `what` as an ALERT line (a JSON object naming the DAG, the hour, the task and the reason), and append it
    to LAKEHOUSE_ALERTS_FILE when set."""
    dag_run = context.get("dag_run")
    hour = context.get("data_interval_start") or dag_run.data_interval_start
    task = context.get("task_instance")
    alert = {
        "alert": what,
        "dag_id": context["dag"].dag_id,
        "hour": hour.isoformat(),
        "task": task.task_id if task else None,
        "reason": str(context.get("reason") or context.get("exception") or "task failed"),
    }
    log.error("ALERT %s", json.dumps(alert))
    alerts_file = os.environ.get("LAKEHOUSE_ALERTS_FILE")
    if alerts_file:
        with open(alerts_file, "a", encoding="utf-8") as alerts:
            alerts.write(json.dumps(alert) + "\n")


with DAG(
    dag_id="merchant_insights_hourly",
    description="Hourly per-merchant metrics: bronze to published gold, with a freshness deadline",
    # Hour-long data intervals: the run for 13:00 covers [13:00, 14:00) and starts at 14:00.
    schedule=CronDataIntervalTimetable("0 * * * *", timezone="UTC"),
    start_date=START_DATE,
    catchup=True,
    # The stages share stream checkpoints: two runs at once would only wait for each other's Delta commits.
    max_active_runs=1,
    max_active_tasks=4,
    default_args=DEFAULT_ARGS,
    # A run starts when its hour ends; one still going 55 minutes later has missed the one-hour promise.
    dagrun_timeout=timedelta(minutes=55),
    on_failure_callback=alert_stale_hour,
    tags=["merchant-insights"],
) as dag:
    freshness = lakehouse_job(
        "freshness",
        "hour_checks",
        ["freshness", *INTERVAL_HOUR],
        pool=READS_POOL,
        # Runs when the publishes have failed too: a stale hour must be reported, not skipped. No retries when the
        # run drains: nothing else runs in it, and the next run cannot start before it ends. Beside a streaming job,
        # retried: its last micro-batches of the hour may still be under way when the run starts.
        trigger_rule="all_done",
        retries=3 if STREAMING else 0,
        retry_delay=timedelta(minutes=5),
        retry_exponential_backoff=False,
        on_failure_callback=alert_stale_hour,
    )
    # After the hour is out: compaction of the days before the run's interval end (the run of 23:00 compacts its
    # day) and a vacuum. It rewrites files the writers read, so it takes both slots: no backfill runs beside it.
    # Beside a streaming job, which merges late events into their days as they come, only days two days closed are
    # compacted: a compaction and a merge into the same day's files cannot both commit.
    maintain = lakehouse_job(
        "maintain",
        "maintain",
        ["--before", MAINTAIN_BEFORE, "--vacuum"],
        pool_slots=WRITES_POOL_SLOTS,
    )
    if STREAMING:
        # The streaming job drains and publishes the hour: the gate checks the records ingested in it, and a share
        # over it is an alert, as gold is already out.
        quarantine_gate = lakehouse_job(
            "quarantine_gate",
            "hour_checks",
            ["quarantine", *INTERVAL_HOUR],
            retries=0,
            pool=READS_POOL,
            on_failure_callback=alert_quarantine_share,
        )
        quarantine_gate >> freshness >> maintain
    else:
        bronze = lakehouse_job("bronze", "bronze")
        silver = lakehouse_job("silver", "silver")
        # The gate checks the records of silver's batches since the run started (the interval's ingest hour would
        # miss what landed after it and check again what an earlier run's gold already has). A failed gate stops the
        # line: later runs wait at their gate (depends_on_past) until it is cleared or marked successful, so gold
        # does not drain the suspect records in the next run.
        quarantine_gate = lakehouse_job(
            "quarantine_gate",
            "hour_checks",
            ["quarantine", "--since", "{{ dag_run.start_date.isoformat() }}"],
            retries=0,
            pool=READS_POOL,
            depends_on_past=True,
        )
        gold = lakehouse_job("gold", "gold")
        publishes = [
            lakehouse_job(f"publish_{sink}", "publish", ["--sinks", sink], pool_slots=PUBLISH_POOL_SLOTS)
            for sink in SINKS
        ]
        # Also when gold or a stage before it failed: that is when the lag grows, and the alarm must see it. Before
        # the freshness check, so that the run's state is the check's: a lag that could not be sent fails its own
        # task, not the hour.
        report_lag = lakehouse_job("report_lag", "lag", pool=READS_POOL, trigger_rule="all_done", retries=1)
        bronze >> silver >> quarantine_gate >> gold >> [*publishes, report_lag] >> freshness >> maintain

with DAG(
    dag_id="merchant_insights_backfill",
    description="Rebuild silver and gold of a date range from bronze, and republish",
    schedule=None,
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    params={
        "from": Param(type="string", format="date", description="first UTC date, YYYY-MM-DD"),
        "to": Param(type="string", format="date", description="last UTC date, included"),
        "stages": Param(
            "silver,gold,publish", type="string", pattern=r"^(silver|gold|publish)(,(silver|gold|publish))*$"
        ),
    },
    tags=["merchant-insights"],
) as dag:
    lakehouse_job(
        "backfill",
        "backfill",
        ["--from", "{{ params['from'] }}", "--to", "{{ params['to'] }}", "--stages", "{{ params.stages }}"],
        pool_slots=WRITES_POOL_SLOTS,
    )
