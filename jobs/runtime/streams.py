"""The stream a source string names, `files:<dir> | kafka:<servers>/<topic> | kinesis:<stream>`, and the Kinesis
client, without Spark: the ingestion API (jobs/serving) writes to the same streams bronze reads."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jobs.runtime.settings import UsageError, is_local


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
        # A local folder, or a prefix on S3 such as s3a://bucket/landing
        return FileSource(str(Path(rest).expanduser().resolve()) if is_local(rest) else rest.rstrip("/"))
    if scheme == "kafka" and "/" in rest:
        servers, _, topic = rest.rpartition("/")
        if servers and topic:
            return KafkaSource(servers, topic)
    if scheme == "kinesis" and rest:
        return KinesisSource(rest)
    raise UsageError(
        f"bad source {text!r}: expected files:<dir>, kafka:<bootstrap servers>/<topic> or kinesis:<stream name>"
    )


def kinesis_client(**config: object):
    """A boto3 Kinesis client (region, endpoint and credentials from the usual AWS settings); `config` overrides
    botocore's Config, e.g. shorter timeouts for a server that answers its clients. boto3 is imported here: Spark's
    Python workers that unpickle the Kinesis reader import it themselves."""
    import boto3
    from botocore.config import Config

    return boto3.client("kinesis", config=Config(**({"retries": {"mode": "adaptive", "max_attempts": 10}} | config)))
