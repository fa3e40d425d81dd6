"""A session refuses to start without the jars `make setup` puts in the jar folder, and says what to run; on a
cluster it keeps spark-submit's master and jars."""

from __future__ import annotations

import argparse

import pytest

from jobs.runtime.session import VALIDATOR_JAR, jar_paths, session_config
from jobs.runtime.settings import FROM_SPARK_SUBMIT, UsageError, settings_from


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


def test_master_and_jars_set_to_spark_submit_are_left_to_spark_submit(tmp_path):
    """On a cluster the service starts the driver with its own --master and --jars (EMR Serverless, docs/deploy.md):
    a session that set its own would run on the driver alone, or look for a local jar folder."""
    env = {"LAKEHOUSE_WAREHOUSE": str(tmp_path / "w"), "LAKEHOUSE_CHECKPOINTS": str(tmp_path / "c")}
    on_a_cluster = settings_from(
        argparse.Namespace(), {**env, "LAKEHOUSE_MASTER": FROM_SPARK_SUBMIT, "LAKEHOUSE_JARS": FROM_SPARK_SUBMIT}
    )
    assert (on_a_cluster.master, on_a_cluster.jars) == (FROM_SPARK_SUBMIT, FROM_SPARK_SUBMIT)
    assert not {"spark.master", "spark.jars"} & set(session_config(on_a_cluster))

    (tmp_path / "delta-spark_2.13-4.0.0.jar").touch()
    (tmp_path / VALIDATOR_JAR).touch()
    here = settings_from(argparse.Namespace(), {**env, "LAKEHOUSE_MASTER": "local[2]", "LAKEHOUSE_JARS": str(tmp_path)})
    config = session_config(here)
    assert config["spark.master"] == "local[2]"
    assert config["spark.jars"].split(",") == [
        str(tmp_path / "delta-spark_2.13-4.0.0.jar"),
        str(tmp_path / VALIDATOR_JAR),
    ]
    assert config["spark.driver.host"] == "127.0.0.1"
