"""`lakehouse services`: bad arguments exit 2 with one line; ports and run dir come from the environment."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from jobs.runtime.settings import UsageError, service_settings
from jobs.services import kafka, kinesis


def lakehouse_services(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "jobs.cli", "services", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300, check=False)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["up", "nosuch"], "unknown service 'nosuch' (one of: kafka, kinesis, influxdb, opensearch, trino, s3)"),
        (["sideways"], "invalid choice: 'sideways'"),
        (["down", "--timeout", "0"], "expected a positive number of seconds"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(args, message, tmp_path):
    result = lakehouse_services(*args, env={**os.environ, "LAKEHOUSE_RUN_DIR": str(tmp_path)})
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert message in line


def test_ports_and_run_dir_come_from_the_environment(tmp_path):
    settings = service_settings({"LAKEHOUSE_RUN_DIR": str(tmp_path), "LAKEHOUSE_KAFKA_PORT": "29092"})
    assert kafka.bootstrap_servers(settings) == "127.0.0.1:29092"
    assert kinesis.endpoint_url(settings) == "http://127.0.0.1:14567"
    assert kafka.KafkaService.configured(settings).home == tmp_path / "kafka"
    with pytest.raises(UsageError, match="LAKEHOUSE_KINESIS_PORT must be a port number"):
        service_settings({"LAKEHOUSE_KINESIS_PORT": "70000"})
