"""`lakehouse airflow <airflow arguments>`: the Airflow CLI of .venv-airflow, set up to run this repository's DAGs.

Airflow lives in its own venv (requirements-airflow.txt, made by `make setup`). This sets what a local Airflow
needs and Airflow cannot guess: its home (LAKEHOUSE_AIRFLOW_HOME, default <repo>/.airflow) with a SQLite metadata
database migrated and the `lakehouse_writes` pool made on first use, the dags/ folder, no example DAGs, the
`spark_lakehouse` connection to a local[2] master, and this venv's bin first on PATH so that tasks find its
spark-submit. The LAKEHOUSE_* settings pass through to the jobs.
Example: `lakehouse airflow dags test merchant_insights_hourly 2026-11-26T10:00:00+00:00`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from jobs.runtime.settings import REPO_ROOT

AIRFLOW = REPO_ROOT / ".venv-airflow" / "bin" / "airflow"
# The pool of the tasks that write the lakehouse (dags/merchant_insights.py): an hourly task takes one of its two
# slots, a backfill both, so the two never write at the same time.
WRITES_POOL, WRITES_POOL_SLOTS = "lakehouse_writes", 2
WRITES_POOL_DESCRIPTION = "lakehouse writers: an hourly task takes one slot, a backfill both"


def airflow_env(home: Path, base: Mapping[str, str]) -> dict[str, str]:
    return {
        **base,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW_CONN_SPARK_LAKEHOUSE": json.dumps({"conn_type": "spark", "host": "local[2]"}),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{base.get('PATH', '')}",
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not AIRFLOW.exists():
        print(f"lakehouse airflow: error: {AIRFLOW} not found: run `make setup`", file=sys.stderr)
        return 2
    home = Path(os.environ.get("LAKEHOUSE_AIRFLOW_HOME") or REPO_ROOT / ".airflow").resolve()
    home.mkdir(parents=True, exist_ok=True)
    env = airflow_env(home, os.environ)
    prepared_stamp = home / ".prepared"
    if not prepared_stamp.exists():
        for step in (["db", "migrate"], ["pools", "set", WRITES_POOL, str(WRITES_POOL_SLOTS), WRITES_POOL_DESCRIPTION]):
            done = subprocess.run([str(AIRFLOW), *step], env=env, capture_output=True, text=True)
            if done.returncode != 0:
                print(done.stdout + done.stderr, file=sys.stderr)
                print(f"lakehouse airflow: error: `airflow {' '.join(step[:2])}` failed in {home}", file=sys.stderr)
                return 1
        prepared_stamp.touch()
    return subprocess.run([str(AIRFLOW), *argv], env=env).returncode
