"""The lakehouse command end to end: generate, then run, prints one line a stage."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def lakehouse(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "jobs.cli", *args], capture_output=True, text=True, cwd=cwd, timeout=600, check=False
    )


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
