"""Quarantine replay: after support for a rejected shape is added, a replay moves exactly those records into silver,
gold then equals what it would have been had they been accepted from the start, and a second replay does nothing."""

from __future__ import annotations

import shutil
from dataclasses import replace

import pytest
from pyspark.sql import functions as F

from jobs import gold, silver
from jobs.replay import replay
from jobs.storage.delta import ensure_tables, read_table, table_version
from jobs.storage.tables import GOLD_TABLES
from jobs.transforms.contract import SCHEMA_DIR
from testkit.events import INGESTED_AT, bronze_records, event, order
from testkit.lakehouses import Lakehouse, comparable_rows, copy_of

DAY = INGESTED_AT.date()
V2 = {"schema_version": 2}
PAYLOADS = [
    event(event_id="a1", occurred_at="2026-11-24T13:05:00Z"),
    order(event_id="a2", occurred_at="2026-11-24T14:10:00Z", amount_minor=1000),
    # version 2 events, rejected while only version 1 is supported
    order(event_id="b1", occurred_at="2026-11-24T13:20:00Z", channel="app", discount_minor=100, tax_minor=150, **V2),
    event(event_id="b2", occurred_at="2026-11-24T14:30:00Z", channel="web", **V2),
    order(event_id="b3", occurred_at="2026-11-23T22:00:00Z", amount_minor=900, items=..., **V2),  # the day before
    event(event_id="b2", occurred_at="2026-11-24T14:30:00Z", channel="web", **V2),  # a copy of b2
    event(event_id="a1", occurred_at="2026-11-24T13:05:00Z", channel="pos", **V2),  # a copy of a1, accepted earlier
    # still rejected under version 2
    event(event_id="c1", occurred_at="2026-11-24T13:40:00Z", channel="tv", **V2),
    "not json",
]
MOVED = {"b1", "b2", "b3"}


def load(spark, settings, payloads) -> None:
    ensure_tables(spark, settings, ["bronze.events"])
    bronze_records(spark, payloads).write.format("delta").mode("append").save(settings.table_path("bronze.events"))
    silver.run(spark, settings)
    gold.run(spark, settings)


def rows(spark, settings, table: str) -> list[str]:
    return comparable_rows(read_table(spark, settings, table))


@pytest.fixture(scope="module")
def version_1_only(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("schemas-v1")
    shutil.copy(SCHEMA_DIR / "v1.json", folder / "v1.json")
    return str(folder)


@pytest.fixture(scope="module")
def loaded(spark, base_settings, version_1_only, tmp_path_factory) -> Lakehouse:
    """PAYLOADS run through silver and gold while only version 1 was supported; the tests copy it, or only read."""
    root = tmp_path_factory.mktemp("replay")
    settings = replace(base_settings, warehouse=str(root / "warehouse"), checkpoints=str(root / "checkpoints"))
    load(spark, replace(settings, schemas=version_1_only), PAYLOADS)
    return Lakehouse(settings, [], [])


def test_replay_after_adding_version_2_moves_exactly_those_and_a_second_replay_does_nothing(
    spark, settings, loaded, tmp_path, capsys
):
    settings = copy_of(loaded, tmp_path, onto=settings)
    quarantine = read_table(spark, settings, "silver.quarantine")
    assert quarantine.filter(F.col("reason") == "unsupported_schema_version").count() == 6
    assert {r["event_id"] for r in read_table(spark, settings, "silver.events").collect()} == {"a1", "a2"}

    # Version 2 is added to the registry: replay what it rejected.
    report = replay(spark, settings, DAY, DAY, "unsupported_schema_version")

    assert (report.rows_in, report.rows_out) == (6, 3)
    assert report.details["copies dropped"] == 2  # b2's second copy, and a1's (already in silver)
    assert report.details["still quarantined"] == 1  # c1: its channel is not one version 2 knows
    assert report.details["marked replayed"] == 5
    assert "still quarantined, by today's reason: bad_value:channel 1" in capsys.readouterr().out
    silver_ids = {r["event_id"] for r in read_table(spark, settings, "silver.events").collect()}
    assert silver_ids == {"a1", "a2"} | MOVED
    marked = read_table(spark, settings, "silver.quarantine").filter(F.col("replayed_at").isNotNull())
    assert marked.count() == 5
    assert all(r["reason"] == "unsupported_schema_version" for r in marked.collect())  # the original reason is kept

    # Silver and gold equal what a pipeline that supported version 2 from the start makes of the same records.
    from_start = replace(settings, warehouse=str(tmp_path / "from-start"), checkpoints=str(tmp_path / "from-start-cp"))
    load(spark, from_start, PAYLOADS)
    for table in ["silver.events", *GOLD_TABLES]:
        assert rows(spark, settings, table) == rows(spark, from_start, table), table
    channels = read_table(spark, settings, "gold.merchant_hourly_channel_sales").collect()
    assert {(r["channel"], r["discount_minor"], r["tax_minor"]) for r in channels} == {
        ("app", 100, 150),
        ("unknown", 0, 0),
    }

    # A second replay, of every reason, finds only what still fails and writes nothing.
    versions = {
        table: table_version(spark, settings, table) for table in ["silver.events", "silver.quarantine", *GOLD_TABLES]
    }
    again = replay(spark, settings, DAY, DAY, None)
    assert (again.rows_in, again.rows_out) == (2, 0)  # c1 and the record that is not JSON
    assert {table: table_version(spark, settings, table) for table in versions} == versions

    health = read_table(spark, settings, "ops.batch_health").filter(F.col("stage") == "replay").orderBy("started_at")
    assert [(r["rows_in"], r["rows_out"], r["copies_dropped"]) for r in health.collect()] == [(6, 3, 2), (2, 0, 0)]


def test_a_reason_that_matches_nothing_names_the_pending_reasons(spark, loaded, capsys):
    versions = {table: table_version(spark, loaded.settings, table) for table in ["silver.events", *GOLD_TABLES]}
    report = replay(spark, loaded.settings, DAY, DAY, "bad_value:currency")
    assert report.rows_in == 0
    out = capsys.readouterr().out
    assert "no pending record has reason 'bad_value:currency'" in out
    assert "unsupported_schema_version (6), malformed_json (1)" in out
    assert {table: table_version(spark, loaded.settings, table) for table in versions} == versions  # nothing written


def test_a_replay_cut_short_after_its_silver_insert_updates_gold_once_when_rerun(
    spark, settings, loaded, tmp_path, monkeypatch
):
    settings = copy_of(loaded, tmp_path, onto=settings)

    def crash(*args, **kwargs):
        raise RuntimeError("killed between silver and gold")

    with monkeypatch.context() as patch:
        patch.setattr(gold, "run", crash)
        with pytest.raises(RuntimeError, match="killed between silver and gold"):
            replay(spark, settings, DAY, DAY, None)
    assert {r["event_id"] for r in read_table(spark, settings, "silver.events").collect()} >= MOVED
    channels_before = read_table(spark, settings, "gold.merchant_hourly_channel_sales").collect()
    assert {r["channel"] for r in channels_before} == {"unknown"}  # a2's, from the first run: gold not yet touched
    assert read_table(spark, settings, "silver.quarantine").filter(F.col("replayed_at").isNotNull()).count() == 0

    report = replay(spark, settings, DAY, DAY, None)

    assert (report.rows_out, report.details["copies dropped"], report.details["marked replayed"]) == (0, 5, 5)
    channels = read_table(spark, settings, "gold.merchant_hourly_channel_sales").collect()
    assert {(r["channel"], r["discount_minor"], r["tax_minor"]) for r in channels} == {
        ("app", 100, 150),
        ("unknown", 0, 0),
    }
    events = read_table(spark, settings, "gold.merchant_hourly").groupBy().sum("events").first()[0]
    assert events == 5  # a1, a2, b1, b2, b3
