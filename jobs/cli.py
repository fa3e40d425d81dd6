"""The `lakehouse` command: dispatches to each job's main()."""

from __future__ import annotations

import sys

from jobs import (
    airflow_local,
    backfill,
    bronze,
    checks,
    generate,
    gold,
    notebooks,
    pipeline,
    produce,
    product_search,
    publish,
    quality_summary,
    replay,
    report,
    silver,
    sql,
    trino_register,
)
from jobs.services import cli as services_cli

COMMANDS = {
    "generate": (generate.main, "write synthetic JSON Lines events"),
    "bronze": (bronze.main, "land new source records in bronze.events"),
    "silver": (silver.main, "validate and de-duplicate bronze into silver (or rerun --date/--hour)"),
    "gold": (gold.main, "recompute the gold metrics touched by new silver rows (or rerun --date/--hour)"),
    "publish": (publish.main, "publish what gold recomputed to the sinks (or republish --date/--hour)"),
    "run": (pipeline.main, "bronze -> silver -> gold (-> publish) for everything new"),
    "backfill": (
        backfill.main,
        "rebuild silver and gold of a date range from bronze and republish (--from D --to D)",
    ),
    "check": (checks.main, "the hourly gate and deadline for one hour: quarantine|freshness --date D --hour H"),
    "replay-quarantine": (
        replay.main,
        "move quarantined records that pass today's rules into silver (--from D --to D)",
    ),
    "quality": (quality_summary.main, "what the quality gates found on a day (--date D)"),
    "search": (product_search.main, "a merchant's products whose name matches, from the search index"),
    "report": (report.main, "rows per table, quarantine by reason, top merchants"),
    "trino-register": (trino_register.main, "make the warehouse's tables and the analyst views queryable in Trino"),
    "sql": (sql.main, 'one Trino SQL query over the lakehouse: lakehouse sql "SELECT ... FROM gold.merchant_daily"'),
    "notebooks": (notebooks.main, "run the analyst notebooks against Trino, outputs in notebooks/executed/"),
    "produce": (produce.main, "send generator events to Kafka or Kinesis at a steady rate"),
    "airflow": (airflow_local.main, "the Airflow CLI, set up for dags/ on this machine (e.g. dags test <dag> <hour>)"),
    "services": (services_cli.main, "start, stop or check the local services (up|down|status [name ...])"),
}


def usage() -> str:
    lines = [
        "usage: lakehouse <command> [options]   (lakehouse <command> --help for its options)",
        "",
        "commands:",
    ]
    lines += [f"  {name:<19}{summary}" for name, (_, summary) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f"lakehouse: error: unknown command {command!r} (one of: {', '.join(COMMANDS)})", file=sys.stderr)
        return 2
    return COMMANDS[command][0](rest)


if __name__ == "__main__":
    sys.exit(main())
