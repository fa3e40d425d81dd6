"""The lakehouse command: bad arguments exit 2 with one line and no traceback; the generator is deterministic.

The argument checks run in this process (`cli.main`, as the console script calls it: argparse's own exit included);
one case runs the installed console script, which is what users type."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from jobs import cli
from jobs.runtime.settings import settings_from


def exit_status(args: list[str]) -> int:
    try:
        return cli.main(args)
    except SystemExit as stop:  # argparse's error(), as in the console script
        return int(stop.code)


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
        (["sql", "SELECT 1", "--limit", "0"], "argument --limit: expected a positive integer, got '0'"),
        (["sql", "SELECT 1", "--trino-url", "ftp://host"], "LAKEHOUSE_TRINO_URL must be http(s)://host:port"),
        (["sql", "SELECT 1", "--format", "xml"], "invalid choice: 'xml'"),
        (["notebooks", "sales_forecast"], "unknown notebook 'sales_forecast'"),
        (["check", "staleness", "--date", "2026-11-24", "--hour", "3"], "invalid choice: 'staleness'"),
        (["check", "quarantine", "--date", "2026-11-24", "--hour", "3", "--max-share", "2"], "--max-share must be"),
        (["check", "quarantine", "--since", "2026-11-24T14:00:00"], "not a time with an offset"),
        (["check", "quarantine", "--date", "2026-11-24"], "quarantine needs --date and --hour (or --since)"),
        (["check", "quarantine", "--since", "2026-11-24T14:00:00Z", "--date", "2026-11-24"], "not both"),
        (["maintain", "--retain-hours", "24"], "--retain-hours 24 is under 168"),
        (["maintain", "--days", "0"], "argument --days: expected a positive integer, got '0'"),
        (["check", "freshness", "--since", "2026-11-24T14:00:00Z"], "--since is for the quarantine check"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(args, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert exit_status(args) == 2
    stderr = capsys.readouterr().err
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert message in lines[0]
    assert "Traceback" not in stderr


def test_the_console_script_exits_2_with_one_line(tmp_path):
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lakehouse"), "gold", "--date", "2026-13-01"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert (result.returncode, result.stderr) == (
        2,
        "lakehouse gold: error: argument --date: not a date (YYYY-MM-DD): '2026-13-01'\n",
    )


def test_generator_is_deterministic_per_seed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("a", "b"):
        assert exit_status(["generate", "--out", name, "--events", "2000", "--hours", "3", "--seed", "5"]) == 0
    files_a = sorted((tmp_path / "a").iterdir())
    assert [f.name for f in files_a] == [f.name for f in sorted((tmp_path / "b").iterdir())]
    assert all(f.read_bytes() == (tmp_path / "b" / f.name).read_bytes() for f in files_a)
    assert exit_status(["generate", "--out", "c", "--events", "2000", "--hours", "3", "--seed", "6"]) == 0
    assert (tmp_path / "c" / files_a[0].name.replace("-s5", "-s6")).read_bytes() != files_a[0].read_bytes()


@pytest.mark.parametrize("namespace", ["AWS/Kinesis", "merchant\tinsights", "march\u00e9", "   ", "x" * 256])
def test_a_namespace_cloudwatch_would_refuse_exits_2_before_spark_starts(namespace, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LAKEHOUSE_METRICS_NAMESPACE", namespace)
    assert exit_status(["lag"]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "LAKEHOUSE_METRICS_NAMESPACE must be a CloudWatch namespace" in line


def test_a_namespace_with_spaces_is_one_cloudwatch_takes(tmp_path):
    env = {"LAKEHOUSE_WAREHOUSE": str(tmp_path), "LAKEHOUSE_METRICS_NAMESPACE": "Merchant Insights/prod"}
    assert settings_from(argparse.Namespace(), env).metrics_namespace == "Merchant Insights/prod"
