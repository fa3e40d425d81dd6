"""The ingestion API as a store meets it: a real `lakehouse serve ingest` process writing to the files stream, a
real Kafka broker and kinesalite. Every answer of DESIGN.md §6, nothing sent on for a refused request, and every
event answered 200 for in the stream, byte for byte, even when the server is killed."""

from __future__ import annotations

import json
import signal
import threading
import time
import uuid
from dataclasses import replace

import pytest
import requests
from confluent_kafka import Consumer, TopicPartition

from jobs import bronze, gold, silver
from jobs.runtime.streams import FileSource, kinesis_client
from jobs.services import kafka, kinesis
from jobs.serving.keys import KeyStore
from jobs.storage.delta import read_table
from jobs.storage.tables import GOLD_TABLES
from testkit.ingest import as_array, as_lines, ingest_server, landed_lines
from testkit.lakehouses import comparable_rows


def event(merchant: str, **fields: object) -> bytes:
    return json.dumps(
        {
            "event_id": fields.pop("event_id", str(uuid.uuid4())),
            "event_type": "page_view",
            "merchant_id": merchant,
            "occurred_at": "2026-12-06T10:15:00.000Z",
            "schema_version": 1,
            "session_id": "s-1",
            **fields,
        }
    ).encode()


@pytest.fixture
def keys(tmp_path) -> KeyStore:
    return KeyStore(tmp_path / "keys.sqlite")


def test_every_answer_of_the_contract_and_nothing_of_a_refused_request_is_written(tmp_path, keys):
    landing = tmp_path / "landing"
    landing.mkdir()
    _, key = keys.create("m-1", "ingest")
    _, read_key = keys.create("m-1", "read")
    revoked_id, revoked = keys.create("m-1", "ingest")
    keys.revoke(revoked_id)
    with ingest_server(f"files:{landing}", keys.path, tmp_path / "serve.log", rate=600) as server:
        refused = {
            "no key": server.post("", as_array([event("m-1")])),
            "unknown key": server.post("mik_000000000000_" + "A" * 43, as_array([event("m-1")])),
            "read key": server.post(read_key, as_array([event("m-1")])),
            "revoked key": server.post(revoked, as_array([event("m-1")])),
            "text/plain": server.post(key, as_array([event("m-1")]), "text/plain"),
            "not an array": server.post(key, event("m-1")),
            "bad line": server.post(key, event("m-1") + b"\nnot json\n", "application/x-ndjson"),
            "501 events": server.post(key, as_array([event("m-1")] * 501)),
            "over 1 MiB": server.post(key, as_array([event("m-1", url="x" * 1024 * 1024)])),
            "another merchant": server.post(key, as_array([event("m-1"), event("m-2")])),
            # Without a Content-Length: the body is cut off at the limit as it streams in
            "chunked, over 1 MiB": server.post(key, iter([b"[" + event("m-1") + b","] + [b" " * 65536] * 17 + [b"]"])),
            "an event over lines": server.post(key, b'[{"merchant_id": "m-1",\n "event_id": "x"}]'),
        }
        statuses = {name: answer.status_code for name, answer in refused.items()}
        assert statuses == {
            "no key": 401,
            "unknown key": 401,
            "read key": 401,
            "revoked key": 401,
            "text/plain": 415,
            "not an array": 400,
            "bad line": 400,
            "501 events": 413,
            "over 1 MiB": 413,
            "another merchant": 403,
            "chunked, over 1 MiB": 413,
            "an event over lines": 400,
        }
        for answer in refused.values():
            assert set(answer.json()) == {"error"} and "\n" not in answer.json()["error"]
        assert refused["no key"].headers["WWW-Authenticate"] == "Bearer"
        assert landed_lines(landing) == []

        assert server.post(key, b"[]").json() == {"accepted": 0}
        assert landed_lines(landing) == []
        sent = [event("m-1") for _ in range(500)]
        first = server.post(key, as_array(sent[:250]))
        second = server.post(key, as_lines(sent[250:]), "application/x-ndjson")
        assert (first.status_code, first.json(), second.status_code, second.json()) == (
            200,
            {"accepted": 250},
            200,
            {"accepted": 250},
        )
        # 600 events a second, bursts of 1,200: 500 were sent, 500 more fit, the next 500 do not
        assert server.post(key, as_array([event("m-1") for _ in range(500)])).status_code == 200
        over = server.post(key, as_array([event("m-1") for _ in range(500)]))
        assert over.status_code == 429 and 1 <= int(over.headers["Retry-After"]) <= 2
        assert server.get("/healthz").status_code == 200
        assert server.get("/readyz").json() == {"ready": True}
        assert server.get("/nowhere").status_code == 404 and "error" in server.get("/nowhere").json()
        metrics = server.get("/metrics").text
        assert 'ingest_requests_total{status="401"} 4.0' in metrics
        assert "ingest_events_accepted_total 1000.0" in metrics
    lines = landed_lines(landing)
    assert lines[:500] == sent and len(lines) == 1000
    assert not [path for path in landing.iterdir() if path.name.startswith(".")]  # no file left half written
    log = (tmp_path / "serve.log").read_text()
    for secret in (key, read_key, revoked):
        assert secret not in log
    assert sent[0].decode() not in log
    assert "stopped, every request answered" in log


def test_events_posted_land_in_bronze_byte_for_byte_and_in_silver_and_gold_as_from_a_file(
    spark, settings, small_lakehouse, tmp_path, keys
):
    """The shared small lakehouse's records (copies, late events, both schema versions) posted by their merchants
    give the tables the same records dropped as files gave; the API refuses only what it cannot route."""
    landing = tmp_path / "landing"
    landing.mkdir()
    by_merchant: dict[str, list[bytes]] = {}
    unroutable = 0
    for line in small_lakehouse.lines:
        try:
            merchant = json.loads(line)["merchant_id"]
        except (ValueError, TypeError, KeyError):
            unroutable += 1
            continue
        if not isinstance(merchant, str):
            unroutable += 1
            continue
        by_merchant.setdefault(merchant, []).append(line.encode())
    with ingest_server(f"files:{landing}", keys.path, tmp_path / "serve.log") as server:
        for merchant, records in by_merchant.items():
            _, key = keys.create(merchant, "ingest")
            for start in range(0, len(records), 100):
                answer = server.post(key, as_array(records[start : start + 100]))
                assert answer.status_code == 200, answer.text
    sent = [record for records in by_merchant.values() for record in records]

    api = replace(settings, source=f"files:{landing}")
    bronze.run(spark, api, FileSource(str(landing)))
    silver.run(spark, api)
    gold.run(spark, api)

    payloads = [row["payload"].encode() for row in read_table(spark, api, "bronze.events").collect()]
    assert sorted(payloads) == sorted(sent)
    assert 0 < unroutable < len(small_lakehouse.lines) / 10
    ingest_columns = ["ingested_at", "updated_at"]
    for table in ["silver.events", *GOLD_TABLES]:
        ours = read_table(spark, api, table).drop(*ingest_columns)
        shared = read_table(spark, small_lakehouse.settings, table).drop(*ingest_columns)
        assert comparable_rows(ours) == comparable_rows(shared), table


def _topic_records(servers: str, topic: str, partitions: int) -> list[tuple[bytes, bytes]]:
    consumer = Consumer({"bootstrap.servers": servers, "group.id": str(uuid.uuid4()), "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, partition, 0) for partition in range(partitions)])
    records = []
    try:
        while messages := consumer.consume(1000, timeout=3):
            records += [(message.key(), message.value()) for message in messages if message.error() is None]
    finally:
        consumer.close()
    return records


def test_kafka_gets_each_event_keyed_by_merchant_and_503_while_the_broker_is_down(
    tmp_path, keys, kafka_service, session_service_settings
):
    from jobs import services

    topic = f"ingest-{uuid.uuid4().hex[:8]}"
    kafka.create_topic(topic, 2, servers=kafka_service)
    _, key = keys.create("m-1", "ingest")
    sent = [event("m-1") for _ in range(200)]
    with ingest_server(f"kafka:{kafka_service}/{topic}", keys.path, tmp_path / "serve.log") as server:
        assert server.post(key, as_array(sent[:100])).status_code == 200
        assert server.get("/readyz").status_code == 200
        services.down(["kafka"], settings=session_service_settings, quiet=True)
        try:
            down = server.post(key, as_array(sent[100:]))
            assert down.status_code == 503 and int(down.headers["Retry-After"]) >= 1
            assert server.get("/readyz").status_code == 503
        finally:
            services.up(["kafka"], settings=session_service_settings, quiet=True)
        answers = []
        for _ in range(30):  # what a client does with a 503: send the request again after Retry-After
            answers.append(server.post(key, as_array(sent[100:])).status_code)
            if answers[-1] == 200:
                break
            time.sleep(1)
        assert answers[-1] == 200, answers
    records = _topic_records(kafka_service, topic, 2)
    assert {key for key, _ in records} == {b"m-1"}
    # The refused request may have reached the stream in part (the client resends it whole; silver drops copies)
    values = [value for _, value in records]
    assert set(values) == set(sent)
    assert [values.count(value) for value in sent[:100]] == [1] * 100  # acknowledged, never resent


def test_kinesis_gets_each_event_as_sent_keyed_by_merchant(tmp_path, keys, kinesis_service):
    stream = f"ingest-{uuid.uuid4().hex[:8]}"
    kinesis.create_stream(stream, 1, url=kinesis_service)
    _, key = keys.create("m-3", "ingest")
    sent = [event("m-3", url=f"https://shop.example/{n}") for n in range(300)]
    with ingest_server(f"kinesis:{stream}", keys.path, tmp_path / "serve.log") as server:
        assert server.post(key, as_lines(sent), "application/x-ndjson").status_code == 200
        assert server.get("/readyz").status_code == 200
    client = kinesis_client()
    shard = client.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
    iterator = client.get_shard_iterator(StreamName=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = client.get_records(ShardIterator=iterator["ShardIterator"], Limit=1000)["Records"]
    assert [record["Data"] for record in records] == sent
    assert {record["PartitionKey"] for record in records} == {"m-3"}


class Load(threading.Thread):
    """A store posting batches of 50 events as fast as the server answers; keeps what was answered 200."""

    def __init__(self, server, key: str, merchant: str):
        super().__init__(daemon=True)
        self.server, self.key, self.merchant = server, key, merchant
        self.acknowledged: list[bytes] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            batch = [event(self.merchant) for _ in range(50)]
            try:
                answer = self.server.post(self.key, as_array(batch))
            except requests.RequestException:
                continue  # the server is gone: this request was not acknowledged
            if answer.status_code == 200:
                self.acknowledged += batch


def _stopped_under_load(source: str, tmp_path, keys: KeyStore, stop: signal.Signals) -> tuple[list[bytes], int]:
    """Four stores post until the server gets `stop` three seconds in; what was answered 200, and the exit code."""
    loads = []
    with ingest_server(source, keys.path, tmp_path / "serve.log") as server:
        for number in range(4):
            _, key = keys.create(f"m-{number}", "ingest")
            loads.append(Load(server, key, f"m-{number}"))
        for load in loads:
            load.start()
        time.sleep(3)
        server.process.send_signal(stop)
        exit_code = server.process.wait(timeout=30)
        for load in loads:
            load.stopping.set()
            load.join(timeout=30)
    acknowledged = [record for load in loads for record in load.acknowledged]
    assert len(acknowledged) > 1000
    return acknowledged, exit_code


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_every_event_answered_200_is_in_the_files_when_the_server_is_stopped_under_load(tmp_path, keys, stop):
    landing = tmp_path / "landing"
    landing.mkdir()
    acknowledged, exit_code = _stopped_under_load(f"files:{landing}", tmp_path, keys, stop)
    assert set(acknowledged) <= set(landed_lines(landing))
    if stop == signal.SIGTERM:
        assert exit_code == 0
        assert "stopped, every request answered" in (tmp_path / "serve.log").read_text()


def test_every_event_answered_200_is_in_kafka_when_the_server_is_killed_under_load(tmp_path, keys, kafka_service):
    topic = f"ingest-kill-{uuid.uuid4().hex[:8]}"
    kafka.create_topic(topic, 4, servers=kafka_service)
    acknowledged, _ = _stopped_under_load(f"kafka:{kafka_service}/{topic}", tmp_path, keys, signal.SIGKILL)
    assert set(acknowledged) <= {value for _, value in _topic_records(kafka_service, topic, 4)}
