"""Kill drill from Kinesis on the local disk (test_kafka_kill_drill_on_s3.py has the one from Kafka on S3): its cold
JVM costs a minute and a half, so it runs in the heavy tier and in `make test-kill`."""

from __future__ import annotations

import pytest

from jobs.devtools.produce import KinesisSink
from jobs.services import kinesis
from jobs.sources import KinesisSource
from testkit.drills import sigkill_drill


@pytest.mark.kill
def test_sigkill_of_the_driver_reading_kinesis_loses_nothing_and_doubles_nothing(
    spark, settings, tmp_path, kinesis_service
):
    kinesis.create_stream("killed", 3, url=kinesis_service)
    sigkill_drill(spark, settings, KinesisSink(KinesisSource("killed")), "kinesis:killed", tmp_path / "oracle")
