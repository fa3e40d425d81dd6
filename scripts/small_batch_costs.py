"""What a run costs when its batch is tiny: the fixed Spark, Delta and Great Expectations work of each stage.

Lands 14 events at a time from a files source and runs bronze, silver and gold on them, four times in one Spark
session: the first run pays the JVM's warm-up (class loading, code generation, JIT), the later ones show the fixed
cost every micro-batch and every test pays. Gold's time is split into its quality gates and its Delta writes.
Usage: `.venv/bin/python scripts/small_batch_costs.py [--runs N]` (a scratch warehouse under a temporary folder).
"""

from __future__ import annotations

import argparse
import functools
import json
import tempfile
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

from jobs import bronze, gold, silver
from jobs.runtime.session import build_session
from jobs.runtime.settings import settings_from
from jobs.sources import FileSource

EVENTS_PER_RUN = 14


def timed(module: object, name: str, totals: dict[str, float]) -> None:
    """Wrap module.name so that each call adds its seconds to totals[name]."""
    function = getattr(module, name)

    @functools.wraps(function)
    def wrapper(*args: object, **kwargs: object) -> object:
        started = time.monotonic()
        try:
            return function(*args, **kwargs)
        finally:
            totals[name] += time.monotonic() - started

    setattr(module, name, wrapper)


def event(run: int, number: int) -> dict:
    return {
        "event_id": f"e-{run}-{number}",
        "event_type": "page_view",
        "merchant_id": f"m-{number % 3}",
        "occurred_at": "2026-11-24T13:05:00Z",
        "schema_version": 1,
        "session_id": f"s-{number}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=4, help="runs of the three stages (default 4)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="small-batch-"))
    landing = root / "landing"
    landing.mkdir()
    base = argparse.Namespace(warehouse=str(root / "warehouse"), checkpoints=str(root / "checkpoints"), source=None)
    settings = replace(settings_from(base), master="local[2]", shuffle_partitions=2, driver_memory="2g")
    started = time.monotonic()
    spark = build_session(settings, "small-batch-costs")
    print(f"Spark session {time.monotonic() - started:.1f} s; {EVENTS_PER_RUN} events a run; {root}")
    gold_parts: dict[str, float] = defaultdict(float)
    timed(gold.gate, "check", gold_parts)
    timed(gold, "replace_where", gold_parts)
    for run in range(args.runs):
        lines = [json.dumps(event(run, number)) for number in range(EVENTS_PER_RUN)]
        (landing / f"run-{run}.jsonl").write_text("\n".join(lines) + "\n")
        seconds = {}
        for stage, work in (
            ("bronze", lambda: bronze.run(spark, settings, FileSource(str(landing)))),
            ("silver", lambda: silver.run(spark, settings)),
            ("gold", lambda: gold.run(spark, settings)),
        ):
            gold_parts.clear()  # what is left in it after the loop is gold's
            begun = time.monotonic()
            work()
            seconds[stage] = time.monotonic() - begun
        parts = f"5 gates {gold_parts['check']:.1f} s, 5 writes {gold_parts['replace_where']:.1f} s"
        stages = "  ".join(f"{stage} {value:5.1f} s" for stage, value in seconds.items())
        print(f"run {run + 1}: {stages}  (gold: {parts})", flush=True)
    spark.stop()


if __name__ == "__main__":
    main()
