"""How every command ends: one line on stderr and a defined exit status, never a traceback (but LAKEHOUSE_DEBUG=1)."""

from __future__ import annotations

import re
import sys
import traceback
from collections.abc import Callable

from py4j.protocol import Py4JError
from pyspark.errors import PySparkException

from jobs.runtime.settings import UsageError, debug_enabled, redact

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_QUALITY = 0, 1, 2, 3
# What a job reports in one line instead of a traceback: Spark's and the JVM's errors, I/O (a server down) and ours.
JOB_ERRORS = (PySparkException, Py4JError, OSError, RuntimeError, ValueError)


class QualityGateFailed(RuntimeError):
    """A critical expectation (or the hourly quarantine gate) failed: the slice was not written, exit status 3."""


def quality_gate_failure(error: BaseException) -> str | None:
    """The reason of a failed quality gate, also when a streaming query hands it over wrapped in its own error (the
    Python error of a micro-batch crosses the JVM as text)."""
    if isinstance(error, QualityGateFailed):
        return str(error)
    found = re.search(rf"{QualityGateFailed.__name__}: (.+)", str(error))
    return found.group(1).strip() if found else None


TRACEBACK = "Traceback (most recent call last):"
PYTHON_ERROR_LINE = re.compile(r"^(?:[A-Za-z_]\w*\.)*([A-Z]\w*(?:Error|Exception)): (.+)$", re.MULTILINE)


def first_line(error: BaseException) -> str:
    """The line that says what failed. For a Python error raised in a Spark task, whose first line is only "Job
    aborted due to stage failure", that is the task's own error line, found after its traceback."""
    text = str(error).strip() or type(error).__name__
    if TRACEBACK in text:
        python_part = text.split(TRACEBACK, 1)[1].split("\n\tat ", 1)[0]  # up to the JVM's stack frames
        if found := PYTHON_ERROR_LINE.findall(python_part):
            name, message = found[-1]
            return f"{name}: {message}"
    return text.splitlines()[0]


def run_entry(prog: str, work: Callable[[], None]) -> int:
    """Run `work`; a UsageError exits 2, a failed quality gate 3 and any other failure 1, each with one line on
    stderr (LAKEHOUSE_DEBUG=1 adds the traceback). No password read from the settings is ever printed."""
    try:
        work()
        return EXIT_OK
    except UsageError as error:
        print(redact(f"{prog}: error: {error}"), file=sys.stderr)
        return EXIT_USAGE
    except JOB_ERRORS as error:
        if gate := quality_gate_failure(error):
            print(redact(f"{prog}: {gate}"), file=sys.stderr)
            return EXIT_QUALITY
        print(redact(f"{prog}: failed: {type(error).__name__}: {first_line(error)}"), file=sys.stderr)
        if debug_enabled():
            print(redact(traceback.format_exc()), file=sys.stderr)
        return EXIT_FAILED
