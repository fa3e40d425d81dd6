"""What every entry point shares: one-line errors with a defined exit status, and one progress line per stage."""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from py4j.protocol import Py4JError
from pyspark.errors import PySparkException
from pyspark.sql import SparkSession

from jobs.settings import Settings, UsageError, debug_enabled
from jobs.spark import build_session

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


def run_entry(prog: str, work: Callable[[], None]) -> int:
    """Run `work`; a UsageError exits 2 and any other failure exits 1, each with one line on stderr
    (LAKEHOUSE_DEBUG=1 adds the traceback)."""
    try:
        work()
        return EXIT_OK
    except UsageError as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except (PySparkException, Py4JError, OSError, RuntimeError, ValueError) as error:
        print(f"{prog}: failed: {type(error).__name__}: {_first_line(error)}", file=sys.stderr)
        if debug_enabled():
            traceback.print_exc()
        return EXIT_FAILED


@contextmanager
def spark_session(settings: Settings, app_name: str) -> Iterator[SparkSession]:
    spark = build_session(settings, app_name)
    try:
        yield spark
    finally:
        spark.stop()


@dataclass
class StageReport:
    """Counts of one stage, printed as one line."""

    stage: str
    rows_in: int = 0
    rows_out: int | None = 0  # None: not counted (a continuous gold batch does not read the Delta history)
    details: dict[str, int] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    seconds: float = 0.0

    def add(self, name: str, count: int) -> None:
        self.details[name] = self.details.get(name, 0) + count

    def finish(self) -> StageReport:
        self.seconds = time.monotonic() - self.started
        return self

    def line(self) -> str:
        rows_out = "-" if self.rows_out is None else f"{self.rows_out:,}"
        parts = [f"{self.stage:<7}", f"in {self.rows_in:>10,}", f"out {rows_out:>10}"]
        parts += [f"{name} {count:,}" for name, count in self.details.items()]
        parts.append(f"{self.seconds:6.1f} s")
        return "  ".join(parts)

    def print(self) -> None:
        print(self.line(), flush=True)
