"""The lakehouse command: bad arguments exit 2 with one line and no traceback; a real run prints one line a stage."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from jobs.entry import first_line


def lakehouse(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "jobs.cli", *args], capture_output=True, text=True, cwd=cwd, timeout=600, check=False
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["gold", "--date", "2026-13-01"], "not a date"),
        (["gold", "--date", "2026-11-24", "--hour", "24"], "hour must be an integer from 0 to 23"),
        (["silver", "--hour", "3"], "--hour needs --date"),
        (["run", "--source", "ftp:/data"], "bad source 'ftp:/data'"),
        (["run", "--source", "files:/no/such/folder"], "source folder does not exist"),
        (["run", "--trigger", "often"], "expected 'available-now' or '<n> seconds'"),
        (["silver", "--trigger", "5 seconds", "--date", "2026-11-24"], "cannot be combined with --date"),
        (["produce", "--source", "files:/tmp", "--rate", "10"], "produce sends to kafka:<servers>/<topic> or kinesis"),
        (["generate", "--events", "-5"], "expected a positive integer"),
        (["launch"], "unknown command 'launch'"),
        (["gold", "--no-such-flag"], "unrecognized arguments"),
        (["replay-quarantine", "--from", "2026-11-25", "--to", "2026-11-24"], "--to 2026-11-24 is before --from"),
        (["replay-quarantine", "--from", "2026-11-24"], "the following arguments are required: --to"),
        (["replay-quarantine", "--from", "monday", "--to", "2026-11-24"], "not a date (YYYY-MM-DD): 'monday'"),
        (["publish"], "no sink to publish to: set --sinks influxdb,opensearch or LAKEHOUSE_SINKS"),
        (["run", "--sinks", "influxdb,elastic"], "unknown sink 'elastic'"),
        (["run", "--schemas", "."], "no event schema (v<N>.json) in the schema registry folder"),
        (["backfill", "--from", "2026-11-25", "--to", "2026-11-24"], "--to 2026-11-24 is before --from"),
        (["backfill", "--from", "2026-11-24", "--to", "2026-11-24", "--stages", "gold,bronze"], "--stages takes"),
        (["backfill", "--from", "2024-01-01", "--to", "2026-11-24"], "a backfill covers at most 366 days"),
        (["backfill", "--to", "2026-11-24"], "the following arguments are required: --from"),
        (["sql", "SELECT 1", "--limit", "0"], "--limit must be a positive integer, got '0'"),
        (["sql", "SELECT 1", "--trino-url", "ftp://host"], "LAKEHOUSE_TRINO_URL must be http(s)://host:port"),
        (["sql", "SELECT 1", "--format", "xml"], "invalid choice: 'xml'"),
        (["notebooks", "sales_forecast"], "unknown notebook 'sales_forecast'"),
        (["check", "staleness", "--date", "2026-11-24", "--hour", "3"], "invalid choice: 'staleness'"),
        (["check", "quarantine", "--date", "2026-11-24", "--hour", "3", "--max-share", "2"], "--max-share must be"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(args, message, tmp_path):
    result = lakehouse(*args, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.integration
def test_generate_then_run_prints_a_line_per_stage(tmp_path):
    generated = lakehouse(
        "generate", "--out", "landing", "--events", "500", "--hours", "2", "--merchants", "5", cwd=tmp_path
    )
    assert generated.returncode == 0, generated.stderr
    assert len(list((tmp_path / "landing").glob("*.jsonl"))) == 2
    result = lakehouse("run", "--source", "files:landing", "--master", "local[1]", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    stages = [
        line.split()[0] for line in result.stdout.splitlines() if line.split()[:1] in (["bronze"], ["silver"], ["gold"])
    ]
    assert stages == ["bronze", "silver", "gold"]
    assert (tmp_path / "warehouse" / "gold" / "merchant_hourly" / "_delta_log").is_dir()


def test_generator_is_deterministic_per_seed(tmp_path):
    for name in ("a", "b"):
        assert (
            lakehouse(
                "generate", "--out", name, "--events", "2000", "--hours", "3", "--seed", "5", cwd=tmp_path
            ).returncode
            == 0
        )
    files_a = sorted((tmp_path / "a").iterdir())
    assert [f.name for f in files_a] == [f.name for f in sorted((tmp_path / "b").iterdir())]
    assert all(f.read_bytes() == (tmp_path / "b" / f.name).read_bytes() for f in files_a)
    other = lakehouse("generate", "--out", "c", "--events", "2000", "--hours", "3", "--seed", "6", cwd=tmp_path)
    assert other.returncode == 0
    assert (tmp_path / "c" / files_a[0].name.replace("-s5", "-s6")).read_bytes() != files_a[0].read_bytes()


def test_a_python_error_in_a_spark_task_is_reported_by_its_own_line(spark):
    def _fail_in_task(_row):  # defined here: Spark's workers get it by value, they cannot import tests
        raise RuntimeError("InfluxDB at http://127.0.0.1:1: connection refused")

    with pytest.raises(Exception) as failure:
        spark.sparkContext.parallelize([1], 1).map(_fail_in_task).collect()
    assert str(failure.value).splitlines()[0] != "RuntimeError: InfluxDB at http://127.0.0.1:1: connection refused"
    assert first_line(failure.value) == "RuntimeError: InfluxDB at http://127.0.0.1:1: connection refused"
    assert first_line(ValueError("one\ntwo")) == "one"
