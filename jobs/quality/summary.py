"""`lakehouse quality --date D`: what the quality gates found on one UTC day, per table, with every failure."""

from __future__ import annotations

import sys
from collections import Counter

from jobs.quality.gate import day_results, results_folder
from jobs.runtime.arguments import JobArgumentParser, parse_date
from jobs.runtime.commands import command_parser
from jobs.runtime.exits import run_entry
from jobs.runtime.settings import Settings, settings_from


def summary_lines(settings: Settings, day: str) -> list[str]:
    results = day_results(settings, day)
    if not results:
        return [f"no quality results for {day} under {results_folder(settings).child('results').uri}"]
    runs: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    warned: Counter[str] = Counter()
    for result in results:
        runs[result["table"]] += 1
        failed[result["table"]] += not result["passed"]
        warned[result["table"]] += bool(result["failed_warnings"])
    lines = [f"quality gates on {day}:", f"  {'table':<30}{'validations':>12}{'failed':>8}{'warnings':>10}"]
    lines += [f"  {table:<30}{runs[table]:>12,}{failed[table]:>8,}{warned[table]:>10,}" for table in sorted(runs)]
    for heading, key in (("failed (not written)", "failed_critical"), ("warnings (written)", "failed_warnings")):
        found = [result for result in results if result[key]]
        if found:
            lines.append(f"{heading}:")
            lines += [
                f"  {result['validated_at'][11:19]} {result['table']} ({result['slice']}): {'; '.join(result[key])}"
                for result in found
            ]
    lines.append(f"data docs: {results_folder(settings).child('docs', 'index.html').uri}")
    return lines


def build_parser() -> JobArgumentParser:
    parser = command_parser("quality", __doc__)
    parser.add_argument("--date", type=parse_date, required=True, help="UTC day the gates ran (YYYY-MM-DD)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_entry(
        "lakehouse quality", lambda: print("\n".join(summary_lines(settings_from(args), args.date.isoformat())))
    )


if __name__ == "__main__":
    sys.exit(main())
