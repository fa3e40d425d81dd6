"""Kill drills: run the pipeline continuously, SIGKILL it at random moments, restart it, and count what landed.

Used by the kill tests and by `make chaos`. The kill takes the whole process group (the Python driver and its Spark
JVM), as a crashed machine would; nothing gets a chance to clean up.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from jobs.runtime.settings import Settings, is_local
from jobs.runtime.waiting import wait_until
from jobs.storage.delta import read_table, single_row
from jobs.storage.files import location

LAKEHOUSE = str(Path(sys.executable).parent / "lakehouse")
PIPELINE_TABLES = ("bronze.events", "silver.events", "gold.merchant_hourly")
PROGRESS_TIMEOUT_SECONDS = 120


def pipeline_command(source: str, settings: Settings, trigger: str | None) -> list[str]:
    command = [LAKEHOUSE, "run", "--source", source, "--warehouse", settings.warehouse]
    command += ["--checkpoints", settings.checkpoints, "--master", settings.master]
    return command + (["--trigger", trigger] if trigger else [])


def delta_versions(settings: Settings, tables: tuple[str, ...] = PIPELINE_TABLES) -> dict[str, int]:
    """The newest committed version of each table (-1 when it has none yet), read from the Delta logs."""
    versions = {}
    for table in tables:
        commits = location(settings, settings.table_path(table)).child("_delta_log").files(".json", recursive=False)
        versions[table] = max((int(commit.name.removesuffix(".json")) for commit in commits), default=-1)
    return versions


def kill_after_progress(
    source: str, settings: Settings, rng: random.Random, env: dict[str, str], within: float = 6.0
) -> tuple[str, float]:
    """Start `lakehouse run` continuously, wait until it commits data to any pipeline table (so the kill falls in the
    middle of real work, not in Spark's start; at most PROGRESS_TIMEOUT_SECONDS), then SIGKILL it a random 0 to
    `within` seconds later. Returns the table that moved first and the seconds from that commit to the kill. A run
    that exits by itself is an error; its output is in `killed-runs.log` beside the checkpoints (in the temporary
    folder when they are on S3)."""
    # Version 0 is the table's creation: the kill should come after a commit of data.
    before = {table: max(version, 0) for table, version in delta_versions(settings).items()}
    log = log_folder(settings) / "killed-runs.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as output:
        process = subprocess.Popen(
            pipeline_command(source, settings, "1 seconds"),
            env=env,
            start_new_session=True,
            stdout=output,
            stderr=subprocess.STDOUT,
        )

    def first_moved() -> str:
        return next((t for t, v in delta_versions(settings).items() if v > before[t]), "")

    wait_until(lambda: first_moved() or process.poll() is not None, PROGRESS_TIMEOUT_SECONDS, 0.2)
    moved = first_moved()
    if process.poll() is not None:
        raise RuntimeError(f"the pipeline exited by itself with status {process.returncode}; see {log}")
    delay = rng.uniform(0, within)
    time.sleep(delay)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    # A run slower than the timeout is still killed, before any commit: also a moment a crash may come.
    return moved or "no commit yet", round(delay, 1)


def log_folder(settings: Settings) -> Path:
    """Where the killed runs' output goes: beside the checkpoints, or in the temporary folder when they are on S3."""
    return Path(settings.checkpoints).parent if is_local(settings.checkpoints) else Path(tempfile.gettempdir())


def drain(source: str, settings: Settings, env: dict[str, str]) -> None:
    """An available-now run: processes everything the source holds, then stops."""
    finished = subprocess.run(pipeline_command(source, settings, None), env=env, capture_output=True, text=True)
    if finished.returncode != 0:
        raise RuntimeError(f"the draining run failed: {finished.stderr.strip()}")


@dataclass(frozen=True)
class Landing:
    bronze_rows: int
    bronze_positions: int
    silver_rows: int
    silver_ids: frozenset[str]

    def lost_and_doubled(self, sent: int) -> tuple[int, int]:
        """Records the source holds but bronze lacks, and bronze rows that are second copies of a position."""
        return sent - self.bronze_positions, self.bronze_rows - self.bronze_positions


def accepted_ids_via_files(spark: SparkSession, settings: Settings, records: list[bytes], folder: Path) -> set[str]:
    """The event ids silver accepts when the same records arrive as a JSON Lines file: the oracle for a stream run
    (the files path is checked on its own against plain Python). Records with a line break cannot be lines."""
    from jobs import bronze, silver
    from jobs.sources import FileSource

    landing = folder / "landing"
    landing.mkdir(parents=True)
    (landing / "records.jsonl").write_bytes(b"".join(record + b"\n" for record in records if b"\n" not in record))
    oracle = replace(settings, warehouse=str(folder / "warehouse"), checkpoints=str(folder / "checkpoints"))
    bronze.run(spark, oracle, FileSource(str(landing)))
    silver.run(spark, oracle)
    return {row["event_id"] for row in read_table(spark, oracle, "silver.events").select("event_id").collect()}


def what_landed(spark: SparkSession, settings: Settings) -> Landing:
    bronze = read_table(spark, settings, "bronze.events")
    counts = single_row(bronze.agg(F.count("*").alias("rows"), F.count_distinct("source_position").alias("positions")))
    ids = [row["event_id"] for row in read_table(spark, settings, "silver.events").select("event_id").collect()]
    return Landing(counts["rows"], counts["positions"], len(ids), frozenset(ids))
