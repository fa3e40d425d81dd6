"""Argument types every command shares: a parser that fails in one line, dates, hours, slices and triggers."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, NoReturn

from jobs.runtime.settings import UsageError

if TYPE_CHECKING:  # the serving processes parse arguments too, and load no Spark
    from pyspark.sql.streaming import DataStreamWriter


class JobArgumentParser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line (no usage dump) and exits 2."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(2)


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return int(text)


def positive_seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return seconds


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def parse_moment(text: str) -> datetime:
    """An ISO 8601 time with its offset (`2026-11-24T14:00:05+00:00`), as UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"not a time with an offset (2026-11-24T14:00:05+00:00): {text!r}")
    return moment.astimezone(UTC)


def parse_hour(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 23:
        raise argparse.ArgumentTypeError(f"hour must be an integer from 0 to 23, got {text!r}")
    return int(text)


def add_slice_arguments(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--date", type=parse_date, help=f"rerun the {what} of one UTC date (YYYY-MM-DD)")
    parser.add_argument("--hour", type=parse_hour, help="with --date: only this UTC hour (0-23)")


@dataclass(frozen=True)
class Slice:
    """A UTC date, or one hour of it, to recompute."""

    day: date
    hour: int | None = None

    @property
    def start(self) -> datetime:
        return datetime(self.day.year, self.day.month, self.day.day, self.hour or 0, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        return self.start + (timedelta(days=1) if self.hour is None else timedelta(hours=1))

    def hours(self) -> list[datetime]:
        count = 24 if self.hour is None else 1
        return [self.start + timedelta(hours=i) for i in range(count)]

    def __str__(self) -> str:
        return self.day.isoformat() if self.hour is None else f"{self.day.isoformat()} {self.hour:02d}:00 UTC"


def days(first: date, last: date) -> list[date]:
    """Every date from `first` to `last`, both included."""
    return [first + timedelta(days=n) for n in range(int((last - first).days) + 1)]


def slice_from(args: argparse.Namespace) -> Slice | None:
    if args.hour is not None and args.date is None:
        raise UsageError("--hour needs --date")
    return None if args.date is None else Slice(args.date, args.hour)


AVAILABLE_NOW = "available-now"


@dataclass(frozen=True)
class Trigger:
    """When a stream runs: `available-now` drains what is there and stops (the hourly run); `<n> seconds` runs
    continuously with a micro-batch every n seconds."""

    interval_seconds: int | None = None

    @property
    def continuous(self) -> bool:
        return self.interval_seconds is not None

    def apply(self, writer: DataStreamWriter) -> DataStreamWriter:
        """The stream writer with this trigger set."""
        if self.interval_seconds is None:
            return writer.trigger(availableNow=True)
        return writer.trigger(processingTime=f"{self.interval_seconds} seconds")

    def __str__(self) -> str:
        return AVAILABLE_NOW if self.interval_seconds is None else f"{self.interval_seconds} seconds"


def parse_trigger(text: str) -> Trigger:
    if text == AVAILABLE_NOW:
        return Trigger()
    number, _, unit = text.partition(" ")
    if number.isdigit() and int(number) > 0 and unit in ("second", "seconds"):
        return Trigger(int(number))
    raise argparse.ArgumentTypeError(f"expected {AVAILABLE_NOW!r} or '<n> seconds', got {text!r}")


def add_trigger_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--trigger",
        type=parse_trigger,
        default=Trigger(),
        help=f"{AVAILABLE_NOW} (default: process what is there, then stop) or '<n> seconds' (run continuously)",
    )
