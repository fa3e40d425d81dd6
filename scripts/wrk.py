"""wrk (Debian's package, unpacked, not installed) for the HTTP benchmarks: fetched once into .services/wrk, run
pinned to a core with a Lua script whose done() prints the figures as one JSON line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from jobs.runtime.settings import SERVICES_HOME
from jobs.services.base import fetch_once, run_tool

WRK_PACKAGES = Path(__file__).with_name("wrk-packages.txt")
WRK_HOME = SERVICES_HOME / "wrk"

# Appended to each benchmark's request script: the figures as one JSON line.
REPORT = """
done = function(summary, latency, requests)
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "non_2xx": %d, "errors": %d, "p50_ms": %.2f, "p90_ms": %.2f, ' ..
    '"p99_ms": %.2f, "max_ms": %.2f}\\n',
    summary.requests, summary.duration / 1e6, summary.errors.status, summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
"""


def fetch_wrk() -> Path:
    """wrk and libluajit from Debian's packages, unpacked under .services/wrk; the wrk binary."""

    def download() -> None:
        shutil.rmtree(WRK_HOME, ignore_errors=True)
        WRK_HOME.mkdir(parents=True)
        pins = WRK_PACKAGES.read_text().split()
        run_tool(["apt-get", "download", "--quiet", *pins], "downloading wrk with apt-get", cwd=WRK_HOME)
        for package in WRK_HOME.glob("*.deb"):
            run_tool(["dpkg-deb", "-x", str(package), str(WRK_HOME / "root")], f"unpacking {package.name}")

    fetch_once(WRK_HOME / ".fetched", [WRK_PACKAGES], download)
    return WRK_HOME / "root" / "usr" / "bin" / "wrk"


def run_wrk(url: str, script: Path, connections: int, seconds: int, env: dict[str, str], core: int = 1) -> dict:
    """wrk on `core`, one thread, `connections` open connections for `seconds`; the figures its script printed."""
    load = ["-t", "1", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s", "-s", str(script), url]
    result = subprocess.run(
        ["taskset", "-c", str(core), str(fetch_wrk()), *load],
        env=os.environ | env | {"LD_LIBRARY_PATH": str(WRK_HOME / "root" / "usr" / "lib" / "x86_64-linux-gnu")},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its waited-for children so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")
