"""Stream sources of bronze. The source is one string: files:<dir> | kafka:<servers>/<topic> | kinesis:<stream>."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jobs.settings import UsageError


@dataclass(frozen=True)
class FileSource:
    directory: str


@dataclass(frozen=True)
class KafkaSource:
    bootstrap_servers: str
    topic: str


@dataclass(frozen=True)
class KinesisSource:
    stream: str


Source = FileSource | KafkaSource | KinesisSource


def parse_source(text: str) -> Source:
    scheme, _, rest = text.partition(":")
    if scheme == "files" and rest:
        return FileSource(str(Path(rest).expanduser().resolve()))
    if scheme == "kafka" and "/" in rest:
        servers, _, topic = rest.rpartition("/")
        if servers and topic:
            return KafkaSource(servers, topic)
    if scheme == "kinesis" and rest:
        return KinesisSource(rest)
    raise UsageError(
        f"bad source {text!r}: expected files:<dir>, kafka:<bootstrap servers>/<topic> or kinesis:<stream name>"
    )
