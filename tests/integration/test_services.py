"""The local services for real: up, status, a client round trip each, down; a service that cannot start names its
log; the session fixtures hand tests live ones."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from dataclasses import replace
from pathlib import Path

import pytest
import trino
from confluent_kafka import Consumer, Producer
from trino.auth import BasicAuthentication

from jobs.analysts import sql
from jobs.runtime.settings import Login, Secret, service_settings
from jobs.runtime.waiting import wait_until
from jobs.services import kafka, kinesis
from jobs.services.base import LOOPBACK, free_port
from jobs.services.influxdb import PIPELINE, READER, InfluxService
from jobs.services.s3 import IDENTITY as S3_IDENTITY
from jobs.services.trino import PIPELINE as TRINO_PIPELINE
from jobs.services.trino import TrinoService
from jobs.sinks import influx, search
from jobs.storage.files import s3_filesystem


def lakehouse_services(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "jobs.cli", "services", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300, check=False)


def states(stdout: str) -> dict[str, list[str]]:
    """`status` lines by service name: `kafka up pid 123 127.0.0.1:19092` -> {"kafka": ["up", "pid", "123", ...]}."""
    return {words[0]: words[1:] for words in (line.split() for line in stdout.splitlines()) if words}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def assert_kafka_round_trip(servers: str) -> None:
    """A topic with two partitions takes one message in each, and a consumer group reads both back."""
    topic = unique("round-trip")
    kafka.create_topic(topic, partitions=2, servers=servers)
    producer = Producer({"bootstrap.servers": servers})
    for partition in (0, 1):
        producer.produce(topic, value=f"hello {partition}".encode(), key=b"k", partition=partition)
    assert producer.flush(30) == 0
    consumer = Consumer({"bootstrap.servers": servers, "group.id": unique("group"), "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    received: dict[int, bytes] = {}

    def both_received() -> bool:
        message = consumer.poll(1.0)
        if message is not None and message.error() is None:
            received[message.partition()] = message.value()
        return len(received) == 2

    wait_until(both_received, 60, 0)
    consumer.close()
    assert received == {0: b"hello 0", 1: b"hello 1"}


def assert_kinesis_round_trip(url: str) -> None:
    """A stream with two shards takes a record, and GetRecords returns it from its shard."""
    stream = unique("round-trip")
    kinesis.create_stream(stream, shards=2, url=url)
    client = kinesis.client(url)
    assert len(client.list_shards(StreamName=stream)["Shards"]) == 2
    put = client.put_record(StreamName=stream, Data=b'{"event_id": "e-1"}', PartitionKey="m-1")
    iterator = client.get_shard_iterator(
        StreamName=stream,
        ShardId=put["ShardId"],
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        StartingSequenceNumber=put["SequenceNumber"],
    )["ShardIterator"]
    records = client.get_records(ShardIterator=iterator)["Records"]
    assert [(r["Data"], r["SequenceNumber"]) for r in records] == [(b'{"event_id": "e-1"}', put["SequenceNumber"])]


def assert_influxdb_round_trip(service: InfluxService) -> None:
    """Line protocol in as the pipeline, InfluxQL out as the reader, and the same point written again overwrites it."""
    service.create_database("roundtrip")
    writer = influx.client(service.url, service.login(PIPELINE))
    for value in (1, 2):
        lines = [f"sales,merchant_id=m-1 orders={value}i 1700000000"]
        writer.write_points(lines, database="roundtrip", protocol="line", time_precision="s")
    reader = influx.client(service.url, service.login(READER))
    points = list(reader.query("SELECT * FROM sales", database="roundtrip").get_points())
    assert points == [{"time": "2023-11-14T22:13:20Z", "merchant_id": "m-1", "orders": 2}]


def assert_opensearch_round_trip(url: str) -> None:
    """A document in, found by a full-text query on one of its words; the same id written again overwrites it."""
    client = search.client(url)
    index = unique("round-trip")
    for units in (1, 2):
        client.index(index=index, id="m-1|sku-1", body={"name": "Blue Linen Shirt", "units": units}, refresh=True)
    hits = client.search(index=index, body={"query": {"match": {"name": "linen"}}})["hits"]["hits"]
    assert [(hit["_id"], hit["_source"]["units"]) for hit in hits] == [("m-1|sku-1", 2)]


def assert_trino_round_trip(service: TrinoService) -> None:
    """Over HTTPS, its certificate verified, logged in as the pipeline; a request without a login is refused."""
    login = service.login(TRINO_PIPELINE)
    cursor = trino.dbapi.connect(
        host=LOOPBACK,
        port=service.https_port,
        http_scheme="https",
        user=login.user,
        auth=BasicAuthentication(login.user, login.password.reveal()),
        http_session=sql.https_session(str(service.ca_file)),
    ).cursor()
    cursor.execute("SELECT node_version, coordinator FROM system.runtime.nodes")
    assert cursor.fetchall() == [["476", True]]
    for port, scheme in ((service.https_port, "https"), (service.port, "http")):
        anonymous = trino.dbapi.connect(
            host=LOOPBACK,
            port=port,
            http_scheme=scheme,
            user=TRINO_PIPELINE,
            http_session=sql.https_session(str(service.ca_file)),
        ).cursor()
        with pytest.raises(trino.exceptions.HttpError, match=r"error 40[13]"):
            anonymous.execute("SELECT 1")


@pytest.fixture
def private_env(tmp_path: Path) -> dict[str, str]:
    """An environment whose services live in this test's folder, on free ports: no other test or developer sees them.
    Whatever the test leaves running is stopped at the end."""
    env = {
        **os.environ,
        "LAKEHOUSE_RUN_DIR": str(tmp_path / "run"),
        "LAKEHOUSE_KAFKA_PORT": str(free_port(span=2)),
        "LAKEHOUSE_KINESIS_PORT": str(free_port()),
        "LAKEHOUSE_INFLUXDB_PORT": str(free_port(span=2)),  # its RPC service takes the next port
        "LAKEHOUSE_OPENSEARCH_PORT": str(free_port(span=2)),  # its transport takes the next port
        "LAKEHOUSE_TRINO_PORT": str(free_port(span=2)),  # its HTTPS port is the next one
        "LAKEHOUSE_S3_PORT": str(free_port(span=2)),  # its metrics take the next port
    }
    yield env
    lakehouse_services("down", env=env)


# The command on three of the six services: OpenSearch and Trino take a JVM each and half a minute of these two cores
# to start, and the session fixtures (below) start them through the same code.
NAMES = ("kafka", "kinesis", "influxdb")


def test_up_status_use_down(private_env, tmp_path):
    kafka_address = f"{LOOPBACK}:{private_env['LAKEHOUSE_KAFKA_PORT']}"
    kinesis_address = f"{LOOPBACK}:{private_env['LAKEHOUSE_KINESIS_PORT']}"

    up = lakehouse_services("up", *NAMES, env=private_env)
    assert up.returncode == 0, up.stderr
    assert {name: words[0] for name, words in states(up.stdout).items()} == dict.fromkeys(NAMES, "up")

    status = states(lakehouse_services("status", env=private_env).stdout)
    assert status["kafka"][:2] == ["up", "pid"] and status["kafka"][3] == kafka_address
    assert status["kinesis"][:2] == ["up", "pid"] and status["kinesis"][3] == kinesis_address
    run_dir = tmp_path / "run"
    assert (run_dir / "kafka" / "kafka.pid").read_text().split()[0] == status["kafka"][2]
    assert (run_dir / "kafka" / "kafka.log").stat().st_size > 0

    again = lakehouse_services("up", *NAMES, env=private_env)
    assert again.returncode == 0 and "started" not in again.stdout  # already healthy: left alone
    assert states(again.stdout)["kafka"][2] == status["kafka"][2]

    assert_kafka_round_trip(kafka_address)
    assert_kinesis_round_trip(f"http://{kinesis_address}")
    private_services = service_settings(private_env)
    assert_influxdb_round_trip(InfluxService.configured(private_services))

    down = lakehouse_services("down", env=private_env)
    assert down.returncode == 0, down.stderr
    after = states(lakehouse_services("status", env=private_env).stdout)
    assert {name: words[:3] for name, words in after.items()} == {
        name: ["down", "pid", "-"] for name in ("kafka", "kinesis", "influxdb", "opensearch", "trino", "s3")
    }
    assert not (run_dir / "kafka" / "kafka.pid").exists() and not (run_dir / "kinesis" / "kinesis.pid").exists()


def test_service_that_cannot_start_exits_1_naming_its_log(private_env, tmp_path):
    with socket.socket() as squatter:  # something else already listens on the port
        squatter.bind((LOOPBACK, int(private_env["LAKEHOUSE_KINESIS_PORT"])))
        squatter.listen()
        result = lakehouse_services("up", "kinesis", env=private_env)
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert "kinesis exited with status 1 before it was healthy" in line
    assert str(tmp_path / "run" / "kinesis" / "kinesis.log") in line


def test_kafka_fixture_gives_a_live_broker(kafka_service):
    assert_kafka_round_trip(kafka_service)


def test_influxdb_fixture_gives_a_live_server(influxdb_service):
    assert os.environ["LAKEHOUSE_INFLUXDB_URL"] == influxdb_service.url
    assert_influxdb_round_trip(influxdb_service)


def test_opensearch_fixture_gives_a_live_node(opensearch_service):
    assert os.environ["LAKEHOUSE_OPENSEARCH_URL"] == opensearch_service
    assert_opensearch_round_trip(opensearch_service)


def test_trino_fixture_gives_a_live_server(trino_service):
    assert os.environ["LAKEHOUSE_TRINO_URL"] == trino_service.client_url
    assert_trino_round_trip(trino_service)


def test_s3_fixture_gives_a_live_server_that_refuses_strangers(s3_service, tmp_path):
    assert os.environ["LAKEHOUSE_S3_ENDPOINT"] == s3_service.url
    filesystem = s3_service.filesystem()
    before = s3_service.request_counts()
    with filesystem.open_output_stream("lakehouse/fixture-check/hello.txt") as output:
        output.write(b"hello")
    assert (s3_service.data_dir / "lakehouse" / "fixture-check" / "hello.txt").read_bytes() == b"hello"
    written = s3_service.request_counts() - before  # its metrics count each request by S3 operation
    assert written["CompleteMultipartUpload"] + written["PutObject"] == 1
    stranger = replace(s3_service.login(S3_IDENTITY), password=Secret("not-the-secret"))
    with pytest.raises(OSError, match=r"SignatureDoesNotMatch|InvalidAccessKeyId|Forbidden|ACCESS_DENIED"):
        s3_filesystem(s3_service.url, "us-east-1", stranger).open_input_stream("lakehouse/fixture-check/hello.txt")
    anonymous = s3_filesystem(s3_service.url, "us-east-1", Login(), anonymous=True)
    with pytest.raises(OSError, match=r"ACCESS_DENIED|AccessDenied|Forbidden"):
        anonymous.open_input_stream("lakehouse/fixture-check/hello.txt")


def test_kinesis_fixture_points_boto3_at_kinesalite(kinesis_service):
    assert os.environ["AWS_ENDPOINT_URL_KINESIS"] == kinesis_service  # what jobs/sources/kinesis.py's client reads
    assert_kinesis_round_trip(kinesis_service)
