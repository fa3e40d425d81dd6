"""A real `lakehouse serve ingest` process for the tests, and what a store sends it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from jobs.runtime.waiting import wait_until
from jobs.services.base import free_port


@dataclass
class IngestServer:
    url: str
    process: subprocess.Popen
    log: Path

    def post(self, key: str, body: bytes, content_type: str = "application/json", **headers: str):
        return requests.post(
            f"{self.url}/v1/events",
            data=body,
            headers={"Authorization": f"Bearer {key}", "Content-Type": content_type, **headers},
            timeout=30,
        )

    def get(self, path: str):
        return requests.get(f"{self.url}{path}", timeout=30)


@contextmanager
def ingest_server(source: str, keys: Path, log: Path, rate: float = 100_000) -> Iterator[IngestServer]:
    """`lakehouse serve ingest` on a free loopback port, writing to `source`; stopped with SIGTERM at the end (if
    the test has not stopped it), which must end it cleanly."""
    port = free_port()
    env = os.environ | {"LAKEHOUSE_KEYS": str(keys), "LAKEHOUSE_SOURCE": source, "LAKEHOUSE_INGEST_RATE": str(rate)}
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "jobs.cli", "serve", "ingest", "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    server = IngestServer(f"http://127.0.0.1:{port}", process, log)
    try:
        assert wait_until(lambda: _alive(server), timeout=30), f"the ingestion API did not start: {log.read_text()}"
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0, log.read_text()


def _alive(server: IngestServer) -> bool:
    if server.process.poll() is not None:
        raise AssertionError(f"the ingestion API ended: {server.log.read_text()}")
    try:
        return requests.get(f"{server.url}/healthz", timeout=1).status_code == 200
    except requests.ConnectionError:
        return False


def as_array(records: Sequence[bytes]) -> bytes:
    return b"[" + b",".join(records) + b"]"


def as_lines(records: Sequence[bytes]) -> bytes:
    return b"".join(record + b"\n" for record in records)


def landed_lines(directory: Path) -> list[bytes]:
    """Every line of the visible JSON Lines files the files stream wrote."""
    return [line for path in sorted(directory.glob("ingest-*.jsonl")) for line in path.read_bytes().splitlines()]
