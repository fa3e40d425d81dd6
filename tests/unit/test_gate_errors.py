"""A failed quality gate is recognised inside the error a streaming query wraps it in."""

from __future__ import annotations

from jobs.runtime.exits import quality_gate_failure


def test_a_gate_failure_is_found_inside_the_error_a_streaming_query_wraps_it_in():
    wrapped = RuntimeError(
        "[FOREACH_BATCH_USER_FUNCTION_ERROR] An error occurred in the user provided function in foreach batch sink. "
        "Reason: An exception was raised by the Python Proxy. Return Message: Traceback (most recent call last):\n"
        '  File "/work/main/jobs/quality/gate.py", line 130, in check\n'
        "jobs.quality.QualityGateFailed: quality gate failed for silver.events (micro-batch 3): event_id unique\n"
        "\tat org.apache.spark.sql.execution.streaming.sources.ForeachBatchSink.addBatch(ForeachBatchSink.scala:49)"
    )
    assert quality_gate_failure(wrapped) == "quality gate failed for silver.events (micro-batch 3): event_id unique"
    assert quality_gate_failure(RuntimeError("[DELTA_TABLE_NOT_FOUND] no table")) is None
