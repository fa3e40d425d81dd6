"""A real `lakehouse serve ingest|portal` process for the tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from jobs.runtime.waiting import wait_until
from jobs.services.base import free_port


@contextmanager
def serving(service: str, env: dict[str, str], log: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """`lakehouse serve <service>` on a free loopback port with `env` over this process's environment; yields its
    URL and process, and stops it with SIGTERM at the end (if the test has not), which must end it cleanly."""
    port = free_port()
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "jobs.cli", "serve", service, "--port", str(port)],
            env=os.environ | env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        assert wait_until(lambda: _alive(url, process, log), timeout=30), f"{service} did not start: {log.read_text()}"
        yield url, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0, log.read_text()


def _alive(url: str, process: subprocess.Popen, log: Path) -> bool:
    if process.poll() is not None:
        raise AssertionError(f"the server ended: {log.read_text()}")
    try:
        return requests.get(f"{url}/healthz", timeout=1).status_code == 200
    except requests.ConnectionError:
        return False
