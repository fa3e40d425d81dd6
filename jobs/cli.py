"""The `lakehouse` command: dispatches to each command's main(), importing only that command's module (so that
`lakehouse --help` and the services that do not use Spark start without loading it)."""

from __future__ import annotations

import importlib
import sys

COMMANDS = {
    "generate": ("jobs.devtools.generate", "write synthetic JSON Lines events"),
    "bronze": ("jobs.bronze", "land new source records in bronze.events"),
    "silver": ("jobs.silver", "validate and de-duplicate bronze into silver (or rerun --date/--hour)"),
    "gold": ("jobs.gold", "recompute the gold metrics touched by new silver rows (or rerun --date/--hour)"),
    "publish": ("jobs.publish", "publish what gold recomputed to the sinks (or republish --date/--hour)"),
    "run": ("jobs.pipeline", "bronze -> silver -> gold (-> publish) for everything new"),
    "backfill": (
        "jobs.backfill",
        "rebuild silver and gold of a date range from bronze and republish (--from D --to D)",
    ),
    "maintain": ("jobs.maintain", "compact the small files of closed days (--vacuum: delete expired files too)"),
    "check": ("jobs.hour_checks", "the hourly gate and deadline for one hour: quarantine|freshness --date D --hour H"),
    "lag": ("jobs.lag", "how far gold trails bronze, printed and sent to CloudWatch (LAKEHOUSE_METRICS_NAMESPACE)"),
    "replay-quarantine": (
        "jobs.replay",
        "move quarantined records that pass today's rules into silver (--from D --to D)",
    ),
    "quality": ("jobs.quality.summary", "what the quality gates found on a day (--date D)"),
    "search": ("jobs.analysts.product_search", "a merchant's products whose name matches, from the search index"),
    "report": ("jobs.analysts.report", "rows per table, quarantine by reason, top merchants"),
    "trino-register": (
        "jobs.analysts.trino_register",
        "make the warehouse's tables and the analyst views queryable in Trino",
    ),
    "sql": (
        "jobs.analysts.sql",
        'one Trino SQL query over the lakehouse: lakehouse sql "SELECT ... FROM gold.merchant_daily"',
    ),
    "notebooks": ("jobs.analysts.notebooks", "run the analyst notebooks against Trino, outputs in notebooks/executed/"),
    "produce": ("jobs.devtools.produce", "send generator events to Kafka or Kinesis at a steady rate"),
    "airflow": (
        "jobs.devtools.airflow",
        "the Airflow CLI, set up for dags/ on this machine (e.g. dags test <dag> <hour>)",
    ),
    "serve": ("jobs.serving.cli", "the ingestion API: serve ingest [--port P] (writes to LAKEHOUSE_SOURCE)"),
    "keys": ("jobs.serving.keys", "API keys of the ingestion API and the portal: create|list|revoke"),
    "services": ("jobs.services.cli", "start, stop or check the local services (up|down|status [name ...])"),
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
    module = importlib.import_module(COMMANDS[command][0])
    return module.main(rest)


if __name__ == "__main__":
    sys.exit(main())
