"""Where the ingestion API writes events: the stream `LAKEHOUSE_SOURCE` names, as bronze reads it.

`write` returns only once the stream has acknowledged every event of the call ("acknowledged means durable",
DESIGN.md §4), and raises `StreamUnavailable` otherwise: the client then resends the whole request, and silver's
de-duplication makes a resend safe. Records are keyed by `merchant_id`.

- `files:<dir>`: JSON Lines files, written under a hidden name, fsynced and renamed, so bronze sees a file whole or
  not at all. Concurrent requests share a file (group commit): a file closes when it holds `roll_bytes` or
  `roll_seconds` after its first event, and every request in it is answered then.
- `kafka:<servers>/<topic>`: an idempotent producer with `acks=all`; a request waits for each record's delivery.
- `kinesis:<stream>`: `PutRecords` of up to 500 records, the records it refused retried until `deadline_seconds`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from jobs.runtime.streams import FileSource, KafkaSource, KinesisSource, kinesis_client, parse_source
from jobs.serving.batches import Event
from jobs.serving.web import Refused

PUT_RECORDS_MAX_RECORDS = 500
PUT_RECORDS_MAX_BYTES = 5 * 1024 * 1024


class StreamUnavailable(Exception):
    """The stream did not acknowledge every event: answered 503, the client retries."""


class EventStream(Protocol):
    def check(self, events: Sequence[Event]) -> None:
        """Raise Refused for events this stream cannot carry as sent (before any is counted or sent)."""

    async def write(self, events: Sequence[Event]) -> None: ...

    async def ready(self) -> bool: ...

    async def close(self) -> None: ...


class FileStream:
    def __init__(self, directory: str, roll_bytes: int = 8 * 1024 * 1024, roll_seconds: float = 0.02):
        self.directory = Path(directory)
        self.roll_bytes = roll_bytes
        self.roll_seconds = roll_seconds
        self.pending: list[tuple[Sequence[Event], asyncio.Future[None]]] = []
        self.pending_bytes = 0
        self.has_pending = asyncio.Event()
        self.full = asyncio.Event()
        self.flusher: asyncio.Task[None] | None = None

    def check(self, events: Sequence[Event]) -> None:
        if any(b"\n" in event.payload for event in events):
            # Only whitespace between an event's tokens can be a raw line break (JSON escapes it in strings).
            raise Refused(400, "an event spans lines: the files stream keeps one event per line, send it on one")

    async def write(self, events: Sequence[Event]) -> None:
        if self.flusher is None or self.flusher.done():
            self.flusher = asyncio.create_task(self._flush_forever())
        written: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.pending.append((events, written))
        self.pending_bytes += sum(len(event.payload) + 1 for event in events)
        self.has_pending.set()
        if self.pending_bytes >= self.roll_bytes:
            self.full.set()
        await written

    async def _flush_forever(self) -> None:
        while True:
            await self.has_pending.wait()
            with contextlib.suppress(TimeoutError):  # the file's time is up: the usual way it closes
                await asyncio.wait_for(self.full.wait(), self.roll_seconds)
            await self._flush()

    async def _flush(self) -> None:
        batch, self.pending, self.pending_bytes = self.pending, [], 0
        self.has_pending.clear()
        self.full.clear()
        if not batch:
            return
        lines = b"".join(event.payload + b"\n" for events, _ in batch for event in events)
        try:
            await asyncio.to_thread(self._write_file, lines)
        except OSError as error:
            for _, written in batch:
                _settle(written, StreamUnavailable(f"cannot write to {self.directory}: {error.strerror}"))
        else:
            for _, written in batch:
                _settle(written, None)  # a request cancelled meanwhile (its client gone) is simply not answered

    def _write_file(self, lines: bytes) -> None:
        name = f"ingest-{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:12]}.jsonl"
        hidden = self.directory / f".{name}.tmp"
        with open(hidden, "wb") as file:
            file.write(lines)
            file.flush()
            os.fsync(file.fileno())
        os.rename(hidden, self.directory / name)
        directory = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(directory)  # the rename itself survives a crash
        finally:
            os.close(directory)

    async def ready(self) -> bool:
        return self.directory.is_dir() and os.access(self.directory, os.W_OK)

    async def close(self) -> None:
        await self._flush()
        if self.flusher is not None:
            self.flusher.cancel()


def kafka_producer_settings(bootstrap_servers: str) -> dict[str, object]:
    """What every producer of this project sets: librdkafka's retries never write a record twice, and a record is
    delivered only once every in-sync replica has it."""
    return {
        "bootstrap.servers": bootstrap_servers,
        "enable.idempotence": True,
        "acks": "all",
        "message.max.bytes": 2 * 1024 * 1024,
    }


class KafkaStream:
    def __init__(self, source: KafkaSource, delivery_timeout_seconds: float = 10.0):
        from confluent_kafka import Producer

        self.topic = source.topic
        self.producer = Producer(
            kafka_producer_settings(source.bootstrap_servers)
            | {"linger.ms": 5, "message.timeout.ms": int(delivery_timeout_seconds * 1000)}
        )
        self.stopping = threading.Event()
        # Delivery reports arrive through poll(); this thread hands each to the event loop that waits for it.
        self.poller = threading.Thread(target=self._poll, name="kafka-delivery-reports", daemon=True)
        self.poller.start()

    def check(self, events: Sequence[Event]) -> None:
        pass

    def _poll(self) -> None:
        while not self.stopping.is_set():
            self.producer.poll(0.05)

    async def write(self, events: Sequence[Event]) -> None:
        from confluent_kafka import KafkaException

        loop = asyncio.get_running_loop()
        deliveries: list[asyncio.Future[None]] = []

        def reporter(delivered: asyncio.Future[None]):
            def report(error, _message) -> None:
                outcome = StreamUnavailable(f"Kafka: {error}") if error is not None else None
                loop.call_soon_threadsafe(_settle, delivered, outcome)

            return report

        try:
            for event in events:
                delivered = loop.create_future()
                self.producer.produce(
                    self.topic, event.payload, key=event.merchant_id.encode(), on_delivery=reporter(delivered)
                )
                deliveries.append(delivered)
        except (BufferError, KafkaException) as error:
            # Those already produced may still arrive; the client resends the request whole either way.
            await asyncio.gather(*deliveries, return_exceptions=True)
            raise StreamUnavailable(f"Kafka: {error}") from None
        outcomes = await asyncio.gather(*deliveries, return_exceptions=True)
        if failed := [outcome for outcome in outcomes if isinstance(outcome, BaseException)]:
            raise StreamUnavailable(f"{len(failed)} of {len(events)} events not acknowledged: {failed[0]}")

    async def ready(self) -> bool:
        def topic_listed() -> bool:
            metadata = self.producer.list_topics(self.topic, timeout=2)
            topic = metadata.topics.get(self.topic)
            return topic is not None and topic.error is None

        from confluent_kafka import KafkaException

        try:
            return await asyncio.to_thread(topic_listed)
        except KafkaException:
            return False

    async def close(self) -> None:
        await asyncio.to_thread(self.producer.flush, 10)
        self.stopping.set()
        await asyncio.to_thread(self.poller.join)


def _settle(future: asyncio.Future[None], error: Exception | None) -> None:
    if not future.done():
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)


def put_records(client, stream: str, entries: list[dict], deadline_seconds: float) -> None:
    """PutRecords of `entries` (each Data and PartitionKey) in calls of at most 500 records and 5 MiB, the records a
    call refuses (throttled, say) sent again with backoff until `deadline_seconds` have passed; then RuntimeError."""
    give_up_at = time.monotonic() + deadline_seconds
    chunks: list[list[dict]] = [[]]
    size = 0
    for entry in entries:
        entry_size = len(entry["Data"]) + len(entry["PartitionKey"].encode())
        if chunks[-1] and (len(chunks[-1]) == PUT_RECORDS_MAX_RECORDS or size + entry_size > PUT_RECORDS_MAX_BYTES):
            chunks.append([])
            size = 0
        chunks[-1].append(entry)
        size += entry_size
    for chunk in chunks:
        attempt = 0
        while chunk:
            response = client.put_records(StreamName=stream, Records=chunk)
            chunk = [entry for entry, result in zip(chunk, response["Records"], strict=True) if "ErrorCode" in result]
            if chunk and time.monotonic() > give_up_at:
                raise RuntimeError(f"Kinesis: {len(chunk)} records still refused after {deadline_seconds:.0f} s")
            if chunk:
                time.sleep(min(1.0, 0.05 * 2**attempt))
                attempt += 1


class KinesisStream:
    def __init__(self, source: KinesisSource, deadline_seconds: float = 10.0):
        self.stream = source.stream
        self.deadline_seconds = deadline_seconds
        # A request waits for these: fail fast and let the client retry, rather than hold it for botocore's minutes.
        self.client = kinesis_client(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 2})

    def check(self, events: Sequence[Event]) -> None:
        pass

    async def write(self, events: Sequence[Event]) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        entries = [{"Data": event.payload, "PartitionKey": event.merchant_id} for event in events]
        try:
            await asyncio.to_thread(put_records, self.client, self.stream, entries, self.deadline_seconds)
        except (BotoCoreError, ClientError, RuntimeError) as error:
            raise StreamUnavailable(f"Kinesis: {error}") from None

    async def ready(self) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            summary = await asyncio.to_thread(self.client.describe_stream_summary, StreamName=self.stream)
        except (BotoCoreError, ClientError):
            return False
        return summary["StreamDescriptionSummary"]["StreamStatus"] in ("ACTIVE", "UPDATING")

    async def close(self) -> None:
        pass


def open_stream(source_text: str) -> EventStream:
    source = parse_source(source_text)
    if isinstance(source, FileSource):
        return FileStream(source.directory)
    if isinstance(source, KafkaSource):
        return KafkaStream(source)
    return KinesisStream(source)
