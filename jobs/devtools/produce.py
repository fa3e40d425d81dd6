"""`lakehouse produce`: send generator events to Kafka or Kinesis at a steady rate (for tests, the demo, benchmarks).

Every record's partition key is its `merchant_id` (a malformed record without one gets its own line as the key), so
one merchant's events go to one partition or shard. Kafka goes through confluent-kafka (librdkafka batches and
retries on its own, idempotence keeps its order); Kinesis through `put_records` calls of up to 500 records,
resending the records a call reports as failed (throttled) with exponential backoff until every record is accepted
(or a minute has passed)
(a resent record then follows later ones of its call: `put_records` does not keep order under throttling).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from jobs.devtools.synthetic import EventGenerator, GeneratorConfig
from jobs.runtime.arguments import JobArgumentParser, positive_int
from jobs.runtime.commands import command_parser
from jobs.runtime.exits import run_entry
from jobs.runtime.settings import UsageError
from jobs.runtime.streams import KafkaSource, KinesisSource, kinesis_client, parse_source
from jobs.serving.streams import kafka_producer_settings, put_records

SEND_DEADLINE_SECONDS = 60.0


def partition_key(record: bytes) -> bytes:
    try:
        merchant = json.loads(record).get("merchant_id")
    except (ValueError, AttributeError):
        merchant = None
    return merchant.encode() if isinstance(merchant, str) and merchant else record[:256] or b"-"


class KafkaSink:
    def __init__(self, source: KafkaSource):
        from confluent_kafka import Producer

        self.topic = source.topic
        self.failures: list[str] = []
        self.producer = Producer(kafka_producer_settings(source.bootstrap_servers) | {"linger.ms": 20})

    def _delivered(self, error, _message) -> None:
        if error is not None:
            self.failures.append(str(error))

    def send(self, records: list[bytes]) -> None:
        for record in records:
            while True:
                try:
                    self.producer.produce(self.topic, record, key=partition_key(record), on_delivery=self._delivered)
                    break
                except BufferError:  # the local queue is full: let librdkafka send some first
                    self.producer.poll(0.1)
        self.producer.poll(0)

    def close(self) -> None:
        left = self.producer.flush(60)
        if left or self.failures:
            raise RuntimeError(f"Kafka: {left} records unsent, {len(self.failures)} failed: {self.failures[:1]}")


class KinesisSink:
    def __init__(self, source: KinesisSource):
        self.stream = source.stream
        self.client = kinesis_client()

    def send(self, records: list[bytes]) -> None:
        entries = [
            {"Data": record, "PartitionKey": partition_key(record)[:256].decode("utf-8", "replace")}
            for record in records
        ]
        put_records(self.client, self.stream, entries, deadline_seconds=SEND_DEADLINE_SECONDS)

    def close(self) -> None:
        pass


def open_sink(source_text: str) -> KafkaSink | KinesisSink:
    source = parse_source(source_text)
    if isinstance(source, KafkaSource):
        return KafkaSink(source)
    if isinstance(source, KinesisSource):
        return KinesisSink(source)
    raise UsageError(f"produce sends to kafka:<servers>/<topic> or kinesis:<stream>, not {source_text!r}")


def generated_records(events: int, seed: int, merchants: int, start: datetime) -> list[bytes]:
    """Generator events of one hour from `start`, with its usual copies, late and malformed records."""
    config = GeneratorConfig(events=events, hours=1, start=start, merchants=merchants, seed=seed)
    return [line.encode() for batch in EventGenerator(config).records_by_arrival_hour() for line in batch]


def paced(records: list[bytes], rate: int, tick: float = 0.1) -> Iterator[list[bytes]]:
    """The records in slices, each due `tick` seconds after the one before, to hold `rate` records per second."""
    started = time.monotonic()
    sent = 0
    while sent < len(records):
        due = min(len(records), int((time.monotonic() - started + tick) * rate))
        if due > sent:
            yield records[sent:due]
            sent = due
        time.sleep(max(0.0, started + sent / rate - time.monotonic()))


def send_all(sink: KafkaSink | KinesisSink, slices: Iterable[list[bytes]]) -> int:
    sent = 0
    try:
        for records in slices:
            sink.send(records)
            sent += len(records)
    finally:
        sink.close()
    return sent


def build_parser() -> JobArgumentParser:
    parser = command_parser("produce", __doc__, settings=False)
    parser.add_argument("--source", required=True, help="kafka:<servers>/<topic> or kinesis:<stream>")
    parser.add_argument("--rate", type=positive_int, default=1000, help="records per second (default 1000)")
    parser.add_argument("--duration", type=positive_int, default=10, help="seconds to send for (default 10)")
    parser.add_argument("--seed", type=int, default=7, help="generator seed (default 7)")
    parser.add_argument("--merchants", type=positive_int, default=100_000, help="merchants (default 100000)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def work() -> None:
        sink = open_sink(args.source)
        now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        records = generated_records(args.rate * args.duration, args.seed, args.merchants, now)
        started = time.monotonic()
        sent = send_all(sink, paced(records, args.rate))
        seconds = time.monotonic() - started
        print(f"produced {sent:,} records to {args.source} in {seconds:.1f} s ({sent / seconds:,.0f}/s)")

    return run_entry("lakehouse produce", work)


if __name__ == "__main__":
    sys.exit(main())
