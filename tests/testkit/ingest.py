"""A real `lakehouse serve ingest` process for the tests, and what a store sends it."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from testkit.serving import serving


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
    env = {"LAKEHOUSE_KEYS": str(keys), "LAKEHOUSE_SOURCE": source, "LAKEHOUSE_INGEST_RATE": str(rate)}
    with serving("ingest", env, log) as (url, process):
        yield IngestServer(url, process, log)


def as_array(records: Sequence[bytes]) -> bytes:
    return b"[" + b",".join(records) + b"]"


def as_lines(records: Sequence[bytes]) -> bytes:
    return b"".join(record + b"\n" for record in records)


def landed_lines(directory: Path) -> list[bytes]:
    """Every line of the visible JSON Lines files the files stream wrote."""
    return [line for path in sorted(directory.glob("ingest-*.jsonl")) for line in path.read_bytes().splitlines()]
