"""The ingestion API's and the portal's processes hold no JVM and load no Spark (DESIGN.md §10): each starts in a
second, and a bug in a stage's imports cannot take the front doors down."""

from __future__ import annotations

import subprocess
import sys


def test_the_serving_modules_and_the_command_line_load_no_pyspark():
    modules = (
        "jobs.cli, jobs.serving.cli, jobs.serving.ingest, jobs.serving.keys, jobs.serving.streams, jobs.serving.portal"
    )
    check = f"import sys, {modules}; print('pyspark' in sys.modules, 'py4j' in sys.modules)"
    loaded = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True)
    assert loaded.stdout.split() == ["False", "False"]
