"""What the `lakehouse` commands' main() functions share: a parser with the settings flags, and, for the stages
that follow a table (silver, gold), the choice between following new rows and rerunning one slice."""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import SparkSession
from pyspark.sql.streaming import StreamingQuery

from jobs.runtime.arguments import (
    JobArgumentParser,
    Slice,
    Trigger,
    add_slice_arguments,
    add_trigger_argument,
    slice_from,
)
from jobs.runtime.exits import run_entry
from jobs.runtime.progress import StageReport
from jobs.runtime.session import spark_session
from jobs.runtime.settings import Settings, UsageError, add_settings_arguments, settings_from


def command_parser(
    command: str, doc: str | None, *, settings: bool = True, trigger: bool = False, slice_of: str | None = None
) -> JobArgumentParser:
    """`lakehouse <command>`'s parser, described by the first line of the module's `doc`: the settings flags, and
    `--trigger` and `--date/--hour` (rerun the `slice_of` ...) where the command takes them."""
    parser = JobArgumentParser(prog=f"lakehouse {command}", description=(doc or "").splitlines()[0])
    if settings:
        add_settings_arguments(parser)
    if trigger:
        add_trigger_argument(parser)
    if slice_of is not None:
        add_slice_arguments(parser, slice_of)
    return parser


def following_stage_main(
    name: str,
    doc: str | None,
    argv: list[str] | None,
    *,
    slice_of: str,
    start: Callable[[SparkSession, Settings, Trigger], StreamingQuery],
    run: Callable[[SparkSession, Settings, Slice | None], StageReport],
    check: Callable[[Settings], object] = lambda settings: None,
) -> int:
    """main() of `lakehouse <name>`: `--trigger '<n> seconds'` follows new rows until stopped; otherwise what is new
    (or the `--date/--hour` slice) is processed once and its line printed. `check` runs before Spark starts."""
    args = command_parser(name, doc, trigger=True, slice_of=slice_of).parse_args(argv)

    def work() -> None:
        settings = settings_from(args)
        check(settings)
        rerun = slice_from(args)
        if args.trigger.continuous and rerun is not None:
            raise UsageError("--trigger '<n> seconds' follows new rows; it cannot be combined with --date")
        with spark_session(settings, name) as spark:
            if args.trigger.continuous:
                start(spark, settings, args.trigger).awaitTermination()
            else:
                run(spark, settings, rerun).print()

    return run_entry(f"lakehouse {name}", work)
