"""Backfill: rebuilding a range from bronze gives exactly what the incremental runs gave, and a changed metric
definition backfilled for one day changes that day only."""

from __future__ import annotations

import random
import shutil
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from jobs import backfill, gold, silver
from jobs.storage.delta import ensure_tables, read_table
from jobs.storage.tables import GOLD_TABLES, MERCHANT_DAILY, MERCHANT_HOURLY
from jobs.transforms.contract import SCHEMA_DIR
from testkit.events import event, order
from testkit.lakehouses import SKETCHES, comparable_rows, land

# A range of one day with two incremental runs in it, and events of the day before: each backfilled day costs
# 10-25 s of fixed Spark and Delta work here, whatever its size, so a longer range proves nothing more.
FIRST = LAST = date(2026, 11, 21)
DAY_BEFORE = "2026, 11, 20"
RUN_EVERY = timedelta(hours=12)
TABLES = ["silver.events", "silver.quarantine", *GOLD_TABLES]


def arrivals(seed: int = 7) -> list[tuple[datetime, list]]:
    """(ingest time, payloads) per run: events of the last twelve hours (the first run's from the day before the
    range too), late events up to 24 hours old, copies of earlier events in the same and in the later run, and
    malformed records."""
    rng = random.Random(seed)
    sent: list[dict] = []
    runs = []
    moment = datetime(FIRST.year, FIRST.month, FIRST.day, 5, 55, tzinfo=UTC)
    while moment.date() <= LAST:
        payloads: list = []
        for n in range(120):
            late = rng.random() < 0.1
            occurred = moment - timedelta(minutes=rng.randrange(1, 24 * 60 if late else 12 * 60))
            fields = {
                "event_id": f"{moment:%d%H}-{n}",
                "merchant_id": f"m-{rng.choice('aabbbcd')}",
                "occurred_at": f"{occurred:%Y-%m-%dT%H:%M:%S}Z",
                "customer_id": f"c-{rng.randrange(40)}",
                "session_id": f"s-{rng.randrange(60)}",
            }
            if rng.random() < 0.2:  # schema version 2: rejected by the "buggy" version-1-only rules below
                fields.update(schema_version=2, channel=rng.choice(["web", "app"]))
            kind = rng.random()
            if kind < 0.25:
                fields["order_id"] = f"o-{moment:%d%H}-{n}"
                payloads.append(order(amount_minor=rng.randrange(100, 9000), **fields))
            else:
                payloads.append(
                    event(event_type=rng.choice(["page_view", "add_to_cart", "checkout_started"]), **fields)
                )
        payloads += rng.sample(payloads, 5)  # copies within the run
        payloads += rng.sample(sent, min(len(sent), 8))  # copies of events sent hours or days before
        payloads += ["{not json", event(event_id=f"bad-{moment:%d%H}", event_type="teleport")]
        sent += [p for p in payloads if isinstance(p, dict)]
        runs.append((moment, payloads))
        moment += RUN_EVERY
    return runs


def incremental_run(spark, settings) -> None:
    silver.run(spark, settings)
    gold.run(spark, settings)


def contents(spark, settings, table: str) -> list[str]:
    return comparable_rows(read_table(spark, settings, table))


def snapshot(spark, settings) -> dict[str, list[str]]:
    return {table: contents(spark, settings, table) for table in TABLES}


def day_and_rest(spark, settings, table: str, day: date) -> tuple[list, list[str]]:
    """The table's rows of `day` and, as text, all its other rows (silver has no `date`: all of it is other)."""
    frame = read_table(spark, settings, table).drop(*SKETCHES)
    if "date" not in frame.columns:
        return [], sorted(map(str, frame.collect()))
    return frame.filter(frame.date == day).collect(), sorted(map(str, frame.filter(frame.date != day).collect()))


def test_backfill_equals_the_incremental_runs_and_a_changed_definition_changes_only_its_day(spark, settings, tmp_path):
    ensure_tables(spark, settings, ["bronze.events"])
    runs = arrivals()
    for ingested_at, payloads in runs:
        land(spark, settings, payloads, ingested_at)
        incremental_run(spark, settings)
    incremental = snapshot(spark, settings)
    assert len(incremental["silver.events"]) > 200 and len(incremental["silver.quarantine"]) >= 2 * len(runs)
    assert any(DAY_BEFORE in row for row in incremental["gold.merchant_daily"]), "no events from the day before"

    # A backfill with rules that reject version 2 (a bug) removes those events from silver and gold, those from the
    # day before the range included ...
    version_1_only = tmp_path / "schemas-v1"
    version_1_only.mkdir()
    shutil.copy(SCHEMA_DIR / "v1.json", version_1_only / "v1.json")
    backfill.backfill(spark, replace(settings, schemas=str(version_1_only)), FIRST, LAST, ["silver", "gold"])
    buggy = snapshot(spark, settings)
    assert len(buggy["silver.events"]) < len(incremental["silver.events"])
    assert len(buggy["silver.quarantine"]) > len(incremental["silver.quarantine"])
    day_before = [row for row in buggy["gold.merchant_daily"] if DAY_BEFORE in row]
    assert day_before != [row for row in incremental["gold.merchant_daily"] if DAY_BEFORE in row]

    # ... and the backfill with the fixed rules gives back exactly what the incremental runs gave.
    report = backfill.backfill(spark, settings, FIRST, LAST, ["silver", "gold", "publish"])

    assert report.rows_in == sum(len(payloads) for _, payloads in runs)
    assert report.details["gold dates"] == 2, "the range and the day before it"
    rebuilt = snapshot(spark, settings)
    for table in TABLES:
        assert rebuilt[table] == incremental[table], table

    # The incremental runs go on after a backfill (they skip its rewriting commits) and see new arrivals.
    new = event(event_id="new", merchant_id="m-new", occurred_at="2026-11-24T00:30:00Z")
    land(spark, settings, [new], ingested_at=datetime(2026, 11, 24, 1, 0, tzinfo=UTC))
    incremental_run(spark, settings)
    hourly = read_table(spark, settings, MERCHANT_HOURLY.name).filter("merchant_id = 'm-new'").collect()
    assert [(row["hour_start"], row["events"]) for row in hourly] == [(datetime(2026, 11, 24, 0, 0), 1)]

    # A changed metric definition, backfilled for one day, changes that day's gold and nothing else.
    day = LAST
    before = {table: day_and_rest(spark, settings, table, day) for table in TABLES}

    backfill.backfill(spark, replace(settings, conversion_basis="customers"), day, day, ["gold", "publish"])

    after = {table: day_and_rest(spark, settings, table, day) for table in TABLES}
    for table in TABLES:
        assert after[table][1] == before[table][1], f"{table} changed outside {day}"
    for table, hour_or_date in ((MERCHANT_HOURLY.name, "hour_start"), (MERCHANT_DAILY.name, "date")):
        rows_before, rows_after = before[table][0], after[table][0]

        def rates(rows: list) -> dict[tuple, float | None]:
            return {(row["merchant_id"], row[hour_or_date]): row["conversion_rate"] for row in rows}  # noqa: B023

        assert rates(rows_after).keys() == rates(rows_before).keys() != set()
        assert all(
            row["conversion_rate"] == (row["orders"] / row["customers"] if row["customers"] else None)
            for row in rows_after
        )
        assert rates(rows_after) != rates(rows_before), table


def test_a_backfill_that_makes_an_earlier_copy_win_takes_the_event_out_of_the_later_copys_hour(
    spark, settings, tmp_path
):
    """Copy A of an event, sent on the 21st, was quarantined by buggy rules; copy B, sent on the 22nd with another
    time, was accepted. Backfilling the 21st with fixed rules makes A (the first to arrive) the one silver keeps,
    and gold must drop the event from B's hour, which is on a date outside the range."""
    ensure_tables(spark, settings, ["bronze.events"])
    version_1_only = tmp_path / "schemas-v1"
    version_1_only.mkdir()
    shutil.copy(SCHEMA_DIR / "v1.json", version_1_only / "v1.json")
    buggy = replace(settings, schemas=str(version_1_only))
    copy_a = event(event_id="e-swap", merchant_id="m-swap", occurred_at="2026-11-21T09:10:00Z", schema_version=2)
    copy_b = event(event_id="e-swap", merchant_id="m-swap", occurred_at="2026-11-22T09:20:00Z")
    land(spark, settings, [copy_a], datetime(2026, 11, 21, 10, 0, tzinfo=UTC))
    incremental_run(spark, buggy)
    land(spark, settings, [copy_b], datetime(2026, 11, 22, 10, 0, tzinfo=UTC))
    incremental_run(spark, buggy)

    def hours() -> list[tuple[datetime, int]]:
        rows = read_table(spark, settings, MERCHANT_HOURLY.name).filter("merchant_id = 'm-swap'").collect()
        return sorted((row["hour_start"], row["events"]) for row in rows)

    assert hours() == [(datetime(2026, 11, 22, 9, 0), 1)]

    backfill.backfill(spark, settings, FIRST, FIRST, ["silver", "gold"])

    [kept] = read_table(spark, settings, "silver.events").filter("event_id = 'e-swap'").collect()
    assert kept["schema_version"] == 2
    assert hours() == [(datetime(2026, 11, 21, 9, 0), 1)]
