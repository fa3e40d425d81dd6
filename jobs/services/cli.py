"""`lakehouse services up|down|status|fetch|env [name ...]`: local real services on loopback (no name: all)."""

from __future__ import annotations

import shlex
import sys

from jobs import services
from jobs.runtime.arguments import JobArgumentParser, positive_seconds
from jobs.runtime.commands import command_parser
from jobs.runtime.exits import run_entry


def build_parser() -> JobArgumentParser:
    parser = command_parser("services", __doc__, settings=False)
    parser.add_argument(
        "action",
        choices=["up", "down", "status", "fetch", "env"],
        help="start and wait until healthy | stop | one line each | download (make setup) | print export lines",
    )
    parser.add_argument("names", nargs="*", metavar="name", help=f"any of: {', '.join(services.SERVICES)}")
    parser.add_argument("--fresh", action="store_true", help="up: stop, wipe the data and start anew")
    parser.add_argument("--timeout", type=positive_seconds, help="up: seconds to wait for health; down: before SIGKILL")
    return parser


def print_exports(names: list[str]) -> None:
    """`eval "$(lakehouse services env)"` points a shell's clients at the local services."""
    for key, value in services.exports(names).items():
        print(f"export {key}={shlex.quote(value)}")


def main(argv: list[str] | None = None) -> int:
    # Intermixed: `up --fresh kafka` as well as `up kafka --fresh`.
    args = build_parser().parse_intermixed_args(argv)

    def work() -> None:
        if args.action == "up":
            services.up(args.names, fresh=args.fresh, timeout=args.timeout)
        elif args.action == "down":
            services.down(args.names, timeout=args.timeout or 30.0)
        elif args.action == "status":
            services.status(args.names)
        elif args.action == "fetch":
            services.fetch(args.names)
        else:
            print_exports(args.names)

    return run_entry("lakehouse services", work)


if __name__ == "__main__":
    sys.exit(main())
