"""`lakehouse generate`: JSON Lines files of synthetic events, one file per hour of arrival, same files per seed."""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from jobs.devtools.synthetic import EventGenerator, GeneratorConfig
from jobs.runtime.arguments import JobArgumentParser, positive_int
from jobs.runtime.commands import command_parser
from jobs.runtime.exits import run_entry
from jobs.runtime.settings import UsageError, is_local, settings_from
from jobs.sources import FileSource, parse_source


def parse_start(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a UTC time (YYYY-MM-DDTHH:MM): {text!r}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def write_hour_files(out_dir: Path, config: GeneratorConfig, batches: list[list[str]]) -> int:
    """Write one file per arrival hour; each appears under its final name only when complete."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = 0
    for hour, lines in enumerate(batches):
        if not lines:
            continue
        stamp = config.start.timestamp() + hour * 3600
        name = f"events-{datetime.fromtimestamp(stamp, UTC):%Y%m%dT%H}-s{config.seed}.jsonl"
        partial = out_dir / f".{name}.partial"
        partial.write_text("\n".join(lines) + "\n", encoding="utf-8")
        os.replace(partial, out_dir / name)
        written += 1
    return written


def write_big_file(path: Path, size: int) -> int:
    """One JSON Lines file of at least `size` bytes: 200,000 synthetic events, repeated (copies, as a resend makes);
    it appears under its name only when complete. Returns its lines."""
    config = GeneratorConfig(events=200_000, hours=24)
    block = "".join(line + "\n" for batch in EventGenerator(config).records_by_arrival_hour() for line in batch)
    data = block.encode()
    repeats = -(-size // len(data))
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    with partial.open("wb") as out:
        for _ in range(repeats):
            out.write(data)
    os.replace(partial, path)
    return repeats * block.count("\n")


def build_parser() -> JobArgumentParser:
    defaults = GeneratorConfig()
    parser = command_parser("generate", __doc__)
    parser.add_argument("--out", help="folder for the files (default: the folder of a files: source)")
    parser.add_argument("--events", type=positive_int, default=defaults.events, help="events to generate")
    parser.add_argument("--hours", type=positive_int, default=defaults.hours, help="hours of event time")
    parser.add_argument("--start", type=parse_start, default=defaults.start, help="first hour, UTC")
    parser.add_argument("--merchants", type=positive_int, default=defaults.merchants, help="merchant count")
    parser.add_argument("--seed", type=int, default=defaults.seed, help="same seed, same files")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def work() -> None:
        if args.out is None:
            source = parse_source(settings_from(args).source)
            if not isinstance(source, FileSource):
                raise UsageError("--out is needed when the source is not files:<dir>")
            args.out = source.directory
        if not is_local(args.out):
            raise UsageError(f"generate writes to a local folder, not {args.out} (copy the files to S3 afterwards)")
        config = GeneratorConfig(
            events=args.events, hours=args.hours, start=args.start, merchants=args.merchants, seed=args.seed
        )
        started = time.monotonic()
        batches = EventGenerator(config).records_by_arrival_hour()
        files = write_hour_files(Path(args.out), config, batches)
        records = sum(len(batch) for batch in batches)
        print(
            f"generate  {records:,} records ({config.events:,} events) in {files} files under {args.out}"
            f"  {time.monotonic() - started:.1f} s",
            flush=True,
        )

    return run_entry("lakehouse generate", work)


if __name__ == "__main__":
    sys.exit(main())
