"""The hourly DAG's quarantine gate checks the records its run's silver took in, read from ops.batch_health."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from jobs import bronze, cli, silver
from jobs.sources import FileSource
from testkit.events import event


def test_the_quarantine_gate_checks_the_records_silver_took_in_since_the_run_started(
    spark, settings, tmp_path, mains_use_this_session, capsys
):
    landing = tmp_path / "landing"
    landing.mkdir()

    def land_and_take_in(name: str, good: int, bad: int) -> None:
        lines = [json.dumps(event(event_id=f"{name}-{n}")) for n in range(good)] + ["{not json"] * bad
        (landing / f"{name}.jsonl").write_text("\n".join(lines) + "\n")
        bronze.run(spark, settings, FileSource(str(landing)))
        silver.run(spark, settings)

    land_and_take_in("earlier-run", good=20, bad=0)
    run_started = datetime.now(UTC)
    land_and_take_in("this-run", good=5, bad=5)

    def check(since: datetime, *options: str) -> tuple[int, str]:
        where = ["--warehouse", settings.warehouse, "--checkpoints", settings.checkpoints]
        status = cli.main(["check", "quarantine", "--since", since.isoformat(), *where, *options])
        output = capsys.readouterr()
        return status, output.out + output.err

    status, output = check(run_started)
    assert status == 3, output
    assert "5 of 10 records silver took in since" in output and "quarantine gate failed" in output
    # Since before the earlier run: its records count too, 5 of 30 (16.67%), which passes at 20%.
    status, output = check(datetime(2026, 1, 1, tzinfo=UTC), "--max-share", "0.2")
    assert status == 0 and "5 of 30 records" in output, output
    # Nothing taken in since then: nothing to stop.
    status, output = check(datetime.now(UTC))
    assert status == 0 and "0 of 0 records" in output, output
