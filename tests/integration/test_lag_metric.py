"""The lag reaches CloudWatch: `lakehouse lag` and the continuous run's reporter put GoldFreshnessSeconds to an AWS
emulator that speaks CloudWatch's wire protocol (moto's server, on loopback), and a CloudWatch that does not answer
fails the command in one line but never the continuous run."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto.server import ThreadedMotoServer

from jobs import lag
from jobs.runtime.waiting import wait_until
from jobs.services.base import free_port
from jobs.storage.delta import ensure_tables
from jobs.storage.tables import BRONZE_EVENTS, MERCHANT_HOURLY
from testkit.events import event
from testkit.lakehouses import gold_hours, land

NAMESPACE = "MerchantInsights/test"


@pytest.fixture
def cloudwatch(monkeypatch) -> Iterator[str]:
    """A CloudWatch of the test's own, and boto3 pointed at it as on AWS (region, endpoint, keys)."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    for variable, value in {
        "AWS_ENDPOINT_URL_CLOUDWATCH": endpoint,
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "LAKEHOUSE_METRICS_NAMESPACE": NAMESPACE,
    }.items():
        monkeypatch.setenv(variable, value)
    yield endpoint
    server.stop()


def sent_values(endpoint: str) -> list[float]:
    """Every GoldFreshnessSeconds value CloudWatch holds for the namespace, read back over its API."""
    client = boto3.session.Session().client("cloudwatch", endpoint_url=endpoint)
    now = datetime.now(UTC)
    answer = client.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "lag",
                "MetricStat": {
                    "Metric": {"Namespace": NAMESPACE, "MetricName": lag.METRIC},
                    "Period": 1,
                    "Stat": "Maximum",
                },
            }
        ],
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(minutes=1),
    )
    return answer["MetricDataResults"][0]["Values"]


@pytest.fixture
def lagging(spark, settings):
    """A lakehouse whose gold's newest hour ended 30 minutes before its newest bronze record arrived."""
    ensure_tables(spark, settings, [BRONZE_EVENTS.name, MERCHANT_HOURLY.name])
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    gold_hours(spark, settings, hour)
    land(spark, settings, [event()], ingested_at=hour + timedelta(minutes=90))
    return settings


def test_lakehouse_lag_sends_the_lag_to_cloudwatch(lagging, cloudwatch, mains_use_this_session, capsys):
    assert lag.main(["--warehouse", lagging.warehouse, "--checkpoints", lagging.checkpoints]) == 0
    assert capsys.readouterr().out.startswith("lag: 1,800 s: gold's newest hour ends")
    assert sent_values(cloudwatch) == [1800.0]


@pytest.mark.parametrize("fault", ["nothing listens", "no region"])
def test_a_cloudwatch_that_cannot_be_reached_fails_the_command_in_one_line(
    fault, lagging, cloudwatch, mains_use_this_session, monkeypatch, capsys, tmp_path
):
    if fault == "nothing listens":
        monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH", f"http://127.0.0.1:{free_port()}")
    else:
        for variable in ("AWS_REGION", "AWS_DEFAULT_REGION"):
            monkeypatch.delenv(variable, raising=False)
        monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    assert lag.main(["--warehouse", lagging.warehouse, "--checkpoints", lagging.checkpoints]) == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"lakehouse lag: failed: MetricNotSent: CloudWatch did not take {NAMESPACE}/")


def test_the_continuous_reporter_rides_out_an_outage_and_says_so_once(spark, lagging, cloudwatch, monkeypatch, capsys):
    settings = replace(lagging, metrics_namespace=NAMESPACE)
    printed: list[str] = []

    def output() -> str:
        """Everything the reporter printed so far (capsys hands each line over once)."""
        printed.append(capsys.readouterr().out)
        return "".join(printed)

    stop = threading.Event()
    reporter = threading.Thread(target=lag.report_continuously, args=(spark, settings, stop, 0.2), daemon=True)
    reporter.start()
    try:
        assert wait_until(lambda: sent_values(cloudwatch), 60), "no lag sent"
        monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH", f"http://127.0.0.1:{free_port()}")  # CloudWatch is gone
        assert wait_until(lambda: "lag: not reported" in output(), 60)
        measured = output().count("lag: 1,800 s")  # each attempt measures and prints before it sends
        assert wait_until(lambda: output().count("lag: 1,800 s") >= measured + 3, 60), "the reporter stopped"
        monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH", cloudwatch)
        assert wait_until(lambda: "lag: reported again" in output(), 60)
        assert reporter.is_alive()
    finally:
        stop.set()
        reporter.join(30)
    assert not reporter.is_alive(), "the reporter did not stop"
    # One line for the outage, however many attempts failed in it.
    assert output().count("lag: not reported, tried again every minute: ") == 1
    assert output().count("lag: reported again") == 1
