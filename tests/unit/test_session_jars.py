"""A session refuses to start without the jars `make setup` puts in the jar folder, and says what to run."""

from __future__ import annotations

import pytest

from jobs.runtime.session import VALIDATOR_JAR, jar_paths
from jobs.runtime.settings import UsageError


def test_the_jar_folder_needs_delta_and_the_event_validator(tmp_path):
    (tmp_path / "delta-spark_2.13-4.0.0.jar").touch()
    with pytest.raises(UsageError, match=f"{VALIDATOR_JAR} not found .* run `make setup`"):
        jar_paths(str(tmp_path))
    (tmp_path / VALIDATOR_JAR).touch()
    assert [path.rsplit("/", 1)[1] for path in jar_paths(str(tmp_path))] == [
        "delta-spark_2.13-4.0.0.jar",
        VALIDATOR_JAR,
    ]
    (tmp_path / "delta-spark_2.13-4.0.0.jar").unlink()
    with pytest.raises(UsageError, match="Delta jars not found"):
        jar_paths(str(tmp_path))
