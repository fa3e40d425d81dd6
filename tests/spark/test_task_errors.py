"""An error raised inside a Spark task is reported by its own line, not Spark's wrapper."""

from __future__ import annotations

import pytest

from jobs.runtime.exits import first_line


def test_a_python_error_in_a_spark_task_is_reported_by_its_own_line(spark):
    def _fail_in_task(_row):  # defined here: Spark's workers get it by value, they cannot import tests
        raise RuntimeError("InfluxDB at http://127.0.0.1:1: connection refused")

    with pytest.raises(Exception) as failure:
        spark.sparkContext.parallelize([1], 1).map(_fail_in_task).collect()
    assert str(failure.value).splitlines()[0] != "RuntimeError: InfluxDB at http://127.0.0.1:1: connection refused"
    assert first_line(failure.value) == "RuntimeError: InfluxDB at http://127.0.0.1:1: connection refused"
    assert first_line(ValueError("one\ntwo")) == "one"
