"""Kill drill: SIGKILL of the continuously running pipeline (driver and JVM) at a random moment loses and doubles
nothing once it restarts from its checkpoints, here from Kafka with the warehouse and checkpoints on S3 (the local S3
server). One kill: a cold JVM costs about a minute and a half on these two cores, so the drills are in the heavy tier
(`make test-kill` runs them alone; test_kinesis_kill_drill.py has Kinesis's), and `make chaos` runs twenty."""

from __future__ import annotations

import random

import pytest

from jobs.devtools.produce import KafkaSink
from jobs.services import kafka
from jobs.sources import KafkaSource
from testkit.drills import sigkill_drill
from testkit.lakehouses import on_s3


@pytest.mark.kill
def test_sigkill_of_the_driver_on_s3_loses_nothing_and_doubles_nothing(
    spark, settings, tmp_path, s3_service, kafka_service
):
    # The S3 server's endpoint and identity reach the killed run through the environment.
    settings = on_s3(settings, f"killed-{random.randrange(1_000_000)}")
    kafka.create_topic("killed", 3, servers=kafka_service)
    sink = KafkaSink(KafkaSource(kafka_service, "killed"))
    sigkill_drill(spark, settings, sink, f"kafka:{kafka_service}/killed", tmp_path / "oracle")
