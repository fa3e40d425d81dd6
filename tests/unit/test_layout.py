"""The tree under jobs/ can run as scripts: `spark-submit jobs/<stage>.py` puts jobs/ first on Python's path, where
a module or package named like one of the standard library's would stand in for it (a `platform/` folder breaks
pyspark's own imports)."""

from __future__ import annotations

import sys

from jobs.runtime.settings import REPO_ROOT


def test_nothing_directly_under_jobs_is_named_like_a_standard_library_module():
    names = {path.stem for path in (REPO_ROOT / "jobs").iterdir() if path.suffix == ".py" or path.is_dir()}
    assert names & set(sys.stdlib_module_names) == set()
