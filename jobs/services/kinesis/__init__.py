"""Kinesis: kinesalite, the Kinesis emulator from npm, on loopback (LAKEHOUSE_KINESIS_PORT, default 14567).

It keeps streams in memory: a restart starts with none (and leveldown's native build is never needed).
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path
from typing import Any

from jobs.runtime.settings import ServiceSettings
from jobs.runtime.waiting import wait_until
from jobs.services.base import Service, ServiceError, fetch_once, port_open, run_tool

HERE = Path(__file__).resolve().parent
PACKAGE_FILES = [HERE / "package.json", HERE / "package-lock.json"]
SERVER = HERE / "server.js"
REGION = "us-east-1"
# Kinesalite checks that requests are signed, not by whom.
DUMMY_CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}


class KinesisService(Service):
    name = "kinesis"
    default_port = 14567
    start_timeout = 30.0

    @property
    def node_modules(self) -> Path:
        return self.fetch_dir / "node_modules"

    def fetch(self) -> None:
        fetch_once(self.fetch_dir / ".fetched", PACKAGE_FILES, self._npm_ci)

    def _npm_ci(self) -> None:
        self.fetch_dir.mkdir(parents=True, exist_ok=True)
        for path in PACKAGE_FILES:
            shutil.copy(path, self.fetch_dir / path.name)
        # Exactly the locked versions; no optional leveldown (its install script builds native code).
        command = ["npm", "ci", "--omit=optional", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"]
        run_tool(command, "installing kinesalite with npm", cwd=self.fetch_dir)

    def command(self) -> list[str]:
        return ["node", str(SERVER), str(self.port)]

    def process_env(self) -> dict[str, str]:
        # server.js lives in the repository, its node_modules under .services/.
        return {"NODE_PATH": str(self.node_modules)}

    def healthy(self) -> bool:
        if not port_open(self.port):
            return False
        try:
            client(self.url, attempts=1, read_timeout=1.0).list_streams(Limit=1)
        except Exception:  # any botocore or connection error means "not yet"
            return False
        return True

    def exports(self) -> dict[str, str]:
        """boto3's own variables: any boto3 Kinesis client (jobs/sources/kinesis.py's too) then talks to kinesalite."""
        return {
            "AWS_ENDPOINT_URL_KINESIS": self.url,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": DUMMY_CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": DUMMY_CREDENTIALS["aws_secret_access_key"],
        }


# --- for clients -------------------------------------------------------------------------------------------


def endpoint_url(settings: ServiceSettings | None = None) -> str:
    """`http://127.0.0.1:<LAKEHOUSE_KINESIS_PORT>`: where the local Kinesis is."""
    return KinesisService.configured(settings).url


def client(url: str | None = None, attempts: int = 3, read_timeout: float = 10.0) -> Any:
    """A boto3 Kinesis client for the local emulator, with dummy credentials."""
    # boto3 takes about 0.15 s to import: only commands that talk to Kinesis pay for it.
    import boto3
    from botocore.config import Config

    retries = {"total_max_attempts": attempts, "mode": "standard"}
    config = Config(connect_timeout=1, read_timeout=read_timeout, retries=retries)
    url = endpoint_url() if url is None else url
    return boto3.client("kinesis", endpoint_url=url, region_name=REGION, config=config, **DUMMY_CREDENTIALS)


def create_stream(stream: str, shards: int = 1, *, url: str | None = None, timeout: float = 30.0) -> None:
    """Create `stream` with `shards` shards and wait until it is ACTIVE; an existing stream is left as it is."""
    kinesis = client(url)
    with contextlib.suppress(kinesis.exceptions.ResourceInUseException):
        kinesis.create_stream(StreamName=stream, ShardCount=shards)

    def active() -> bool:
        summary = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
        return summary["StreamStatus"] == "ACTIVE"

    # boto3's stream_exists waiter polls every 10 s; kinesalite here activates a stream in 50 ms.
    if not wait_until(active, timeout, interval=0.05):
        raise ServiceError(f"stream {stream!r} is not ACTIVE after {timeout:.0f} s")
