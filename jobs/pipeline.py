"""`lakehouse run`: bronze -> silver -> gold (-> publish, when sinks are set) for what is new, a line per stage.

With `--trigger '<n> seconds'` the three stages run continuously as three streaming queries, each following the
table before it (bronze the source, silver bronze, gold silver), so an event reaches gold within a few micro-batches
instead of waiting for the hourly run. Each query keeps its own checkpoint: a killed run resumes exactly where it was.
With sinks set, a publisher thread sends what gold recomputed at the same interval (publish.run_continuously). A
third thread reports how far gold trails bronze every minute (jobs/lag.py).
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from pyspark.sql import SparkSession

from jobs import bronze, gold, lag, publish, silver
from jobs.runtime.arguments import Trigger
from jobs.runtime.commands import command_parser
from jobs.runtime.exits import run_entry
from jobs.runtime.progress import StageReport
from jobs.runtime.session import spark_session
from jobs.runtime.settings import Settings, settings_from
from jobs.runtime.waiting import wait_until
from jobs.sources import Source, checked_source
from jobs.storage.batch_health import await_recording_bronze
from jobs.storage.delta import ensure_tables
from jobs.storage.tables import TABLES
from jobs.transforms.contract import registry_of

THREAD_STOP_SECONDS = 30


def run(spark: SparkSession, settings: Settings, source: Source) -> list[StageReport]:
    reports = []
    for run_stage in (
        lambda: bronze.run(spark, settings, source),
        lambda: silver.run(spark, settings),
        lambda: gold.run(spark, settings),
        *([lambda: publish.run(spark, settings)] if settings.sinks else []),
    ):
        reports.append(run_stage())
        reports[-1].print()
    return reports


def run_continuously(spark: SparkSession, settings: Settings, source: Source, trigger: Trigger) -> None:
    """Run the three stages as streaming queries (and the publisher, when sinks are set) until one fails or the
    process is asked to stop (SIGTERM, Ctrl-C); then stop the queries (a micro-batch cut short is redone by the
    next run, from its checkpoint)."""
    # Every table first: once bronze commits, no CREATE TABLE is still under way for a crash to cut in half.
    ensure_tables(spark, settings, TABLES)
    queries = [
        bronze.start(spark, settings, source, trigger),
        silver.start(spark, settings, trigger),
        gold.start(spark, settings, trigger),
    ]
    stop_requested = StopRequest()
    stop_threads = threading.Event()
    publisher = threading.Thread(
        target=publish.run_continuously,
        args=(spark, settings, trigger.interval_seconds, stop_threads),
        name="publish",
        daemon=True,
    )
    if settings.sinks:
        publisher.start()
    lag_reporter = threading.Thread(
        target=lag.report_continuously, args=(spark, settings, stop_threads), name="lag", daemon=True
    )
    lag_reporter.start()
    print(f"running continuously, a micro-batch every {trigger.interval_seconds} s (Ctrl-C stops)", flush=True)

    def stopping_or_ended(timeout: int) -> bool:
        """True once a query has ended (a failed query's error is raised here) or a stop is asked for; checked
        every second (each check waits up to a second for a query to end) so that neither waits for the health
        interval."""
        return wait_until(lambda: spark.streams.awaitAnyTermination(1) or stop_requested.asked, timeout, interval=0)

    with stop_requested.on_signals():
        try:
            await_recording_bronze(spark, settings, queries[0], stopping_or_ended, queries)
        finally:
            stop_threads.set()
            if publisher.is_alive():
                publisher.join(THREAD_STOP_SECONDS)  # a publish under way may finish and record its progress
            lag_reporter.join(THREAD_STOP_SECONDS)
    for query in queries:
        if query.exception() is not None:  # it failed as the stop came: the run did not end well
            raise RuntimeError(f"query {query.name} failed: {query.exception()}")
    print("stopped; a micro-batch cut short is redone from its checkpoint by the next run", flush=True)


class StopRequest:
    """SIGTERM or Ctrl-C asks the run to stop: the handler only sets a flag, which the main loop polls. Raised
    inside a call to the JVM, an interrupt would break Py4J's connection; and a lock taken in a handler (as
    Event.set does) can deadlock with the main thread holding it. A second signal gets Python's default handling,
    so a stop that hangs can still be forced."""

    def __init__(self) -> None:
        self.asked = False

    def _handle(self, signal_number: int, _frame: object) -> None:
        self.asked = True
        signal.signal(signal_number, signal.SIG_DFL if signal_number == signal.SIGTERM else signal.default_int_handler)

    @contextmanager
    def on_signals(self) -> Iterator[None]:
        previous = {number: signal.signal(number, self._handle) for number in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)


def main(argv: list[str] | None = None) -> int:
    args = command_parser("run", __doc__, trigger=True).parse_args(argv)

    def work() -> None:
        settings = settings_from(args)
        registry_of(settings)
        source = checked_source(settings)
        started = time.monotonic()
        with spark_session(settings, "pipeline") as spark:
            if args.trigger.continuous:
                run_continuously(spark, settings, source, args.trigger)
            else:
                run(spark, settings, source)
        print(f"pipeline done in {time.monotonic() - started:.1f} s (Spark start included)")

    return run_entry("lakehouse run", work)


if __name__ == "__main__":
    sys.exit(main())
