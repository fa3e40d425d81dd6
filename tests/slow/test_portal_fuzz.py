"""Schemathesis against the live portal: requests generated from its own OpenAPI document (valid ones and invalid
ones), each answered as the document says and none with a 5xx."""

from __future__ import annotations

import re
import subprocess

from jobs.runtime.settings import REPO_ROOT

EXAMPLES_PER_OPERATION = 150
# What every answer is checked for: never a server error, a status and a body the document declares, and a refusal
# of what the document calls invalid.
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,"
    "negative_data_rejection"
)


def test_schemathesis_finds_no_server_error_and_no_answer_outside_the_document(portal, tmp_path):
    run = subprocess.run(
        [
            str(REPO_ROOT / ".venv" / "bin" / "schemathesis"),
            "run",
            f"{portal.url}/openapi.json",
            "--header",
            f"Authorization: Bearer {portal.key}",
            "--checks",
            CHECKS,
            "--mode",
            "all",
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            str(EXAMPLES_PER_OPERATION),
            "--seed",
            "20261206",
            "--generation-deterministic",
            "--request-timeout",
            "10",
            "--no-color",
            "--report-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    summary = run.stdout[-4000:]
    assert run.returncode == 0, summary
    counted = re.search(r"(\d+) generated, (\d+) passed", summary)
    assert counted and int(counted[1]) == int(counted[2]) > 500, summary
    assert "Examples (in" in summary and "4 passed" in summary.split("Examples (in")[1][:80], summary
    assert portal.other not in run.stdout
