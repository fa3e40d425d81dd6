"""The contract fuzz campaign: ten thousand hostile records (testkit/fuzz.py), seeded, plus every record a campaign
ever found wrong (contract_fuzz_corpus.jsonl), landed in bronze and run through silver, gold and both sinks.

It proves DESIGN.md §4's "No record can stop the pipeline": every record ends in exactly one of silver.events and
silver.quarantine; Spark's verdict and reason agree with the `jsonschema` library on every record that parses as
strict JSON (and with the strict parser that it is malformed on every other); gold and publishing then run. A
record it finds wrong is added to the corpus file before the test fails, so the case stays after a fix.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, seed
from hypothesis import settings as hypothesis_settings
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from jobs import gold, publish, silver
from jobs.runtime.settings import Settings
from jobs.storage.delta import ensure_tables, read_table
from jobs.storage.tables import BRONZE_EVENTS
from testkit.fuzz import INGESTED_AT, NotStrictJson, parse_strictly, records
from testkit.registry import SchemaRegistry, field_of_reason, fields_of_errors

SEED = 20261204
# Hypothesis draws some records more than once (short constants, mutations of earlier ones): 18,000 draws give
# about 10,600 distinct records.
DRAWN = 18_000
DISTINCT = 10_000
CORPUS = Path(__file__).with_name("contract_fuzz_corpus.jsonl")
TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:[Zz]|([+-])(\d{2}):(\d{2}))"
)


def generated_records(count: int) -> list[bytes]:
    """The distinct records of `count` drawn from testkit.fuzz.records with the campaign's seed, in the order first
    drawn: the same records on every run."""
    drawn: dict[bytes, None] = {}

    @hypothesis_settings(
        max_examples=count,
        database=None,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @seed(SEED)
    @given(records())
    def draw(record: bytes) -> None:
        drawn[record] = None

    draw()
    return list(drawn)


def corpus_records() -> list[bytes]:
    lines = CORPUS.read_text(encoding="utf-8").splitlines() if CORPUS.exists() else []
    return [base64.b64decode(json.loads(line)["record"]) for line in lines if line.strip()]


def keep_in_corpus(found: list[tuple[bytes, str]]) -> None:
    known = set(corpus_records())
    with CORPUS.open("a", encoding="utf-8") as corpus:
        for record, finding in found:
            if record not in known:
                known.add(record)
                entry = {"record": base64.b64encode(record).decode(), "found": finding[:300]}
                corpus.write(json.dumps(entry, ensure_ascii=False) + "\n")


def occurs_after(occurred_at: str, limit: datetime) -> bool:
    """Whether an RFC 3339 time (which the schema accepted) is after `limit`; a time past year 9999 in UTC is."""
    match = TIMESTAMP.fullmatch(occurred_at)
    assert match, occurred_at
    year, month, day, hour, minute, second, fraction, sign, offset_hours, offset_minutes = match.groups()
    local = datetime(int(year), int(month), int(day), int(hour), int(minute), tzinfo=limit.tzinfo)
    offset = timedelta(hours=int(offset_hours or 0), minutes=int(offset_minutes or 0)) * (-1 if sign == "-" else 1)
    nanoseconds = int(second) * 10**9 + int((fraction or "").ljust(9, "0"))
    try:
        return local - offset + timedelta(microseconds=nanoseconds / 1000) > limit
    except OverflowError:
        return True


def disagreement(validator: SchemaRegistry, record: bytes, reason: str | None) -> str | None:
    """What is wrong with Spark's `reason` for `record` (None when nothing)."""
    try:
        instance = parse_strictly(record)
    except (ValueError, NotStrictJson, RecursionError) as error:
        return None if reason == "malformed_json" else f"not strict JSON ({error}), yet Spark says {reason}"
    if not isinstance(instance, dict):
        return None if reason == "malformed_json" else f"not an object, yet Spark says {reason}"
    if reason == "malformed_json":
        return "strict JSON object, yet Spark says malformed_json"
    fields = fields_of_errors(validator, instance)
    if fields is None:
        if reason is None:
            return None
        if reason == "too_far_in_future" and occurs_after(instance["occurred_at"], INGESTED_AT + timedelta(hours=1)):
            return None
        return f"the schema accepts it, Spark says {reason}"
    if reason is None:
        return f"the schema refuses it ({sorted(map(str, fields))}), Spark accepts it"
    if field_of_reason(reason) not in fields:
        return f"the schema refuses it for {sorted(map(str, fields))}, Spark for {reason}"
    return None


def land_in_bronze(spark: SparkSession, settings: Settings, landed: list[bytes]) -> None:
    """The records as bronze rows, bytes kept as they are (a record that is not UTF-8 included), as a stream of
    one source would land them."""
    rows = [(bytearray(record), f"fuzz:{position}") for position, record in enumerate(landed)]
    frame = spark.createDataFrame(rows, "record binary, source_position string").select(
        F.col("record").cast("string").alias("payload"),
        F.lit("files").alias("source"),
        "source_position",
        F.lit(INGESTED_AT).alias("ingested_at"),
        F.lit(INGESTED_AT.date()).alias("ingest_date"),
    )
    ensure_tables(spark, settings, [BRONZE_EVENTS.name])
    frame.write.format("delta").mode("append").save(settings.table_path(BRONZE_EVENTS.name))


@pytest.mark.timeout(1_200)
def test_no_record_stops_the_pipeline_and_spark_agrees_with_the_schemas(spark: SparkSession, published: Settings):
    kept = corpus_records()
    known = set(kept)
    landed = kept + [record for record in generated_records(DRAWN) if record not in known]
    assert len(landed) >= DISTINCT
    settings = replace(published, source="files:/fuzz")  # bronze is written here, not read from a source
    land_in_bronze(spark, settings, landed)

    silver.run(spark, settings)
    gold.run(spark, settings)
    publish.run(spark, settings)

    quarantined = read_table(spark, settings, "silver.quarantine").select("source_position", "reason").collect()
    reasons = {int(row["source_position"].split(":")[1]): row["reason"] for row in quarantined}
    assert len(reasons) == len(quarantined), "a record quarantined twice"
    validator = SchemaRegistry()
    found = []
    accepted_ids = set()
    for position, record in enumerate(landed):
        problem = disagreement(validator, record, reasons.get(position))
        if problem:
            found.append((record, problem))
        elif position not in reasons:
            accepted_ids.add(parse_strictly(record)["event_id"])  # type: ignore[index]
    silver_ids = [row["event_id"] for row in read_table(spark, settings, "silver.events").select("event_id").collect()]
    if found:
        keep_in_corpus(found)
    assert found == [], f"{len(found)} of {len(landed)} records judged wrongly; kept in {CORPUS.name}"
    assert len(silver_ids) == len(set(silver_ids)) == len(accepted_ids), "each accepted event once in silver"
    assert set(silver_ids) == accepted_ids, "silver holds each accepted event's id exactly as it was sent"
    accepted = len(landed) - len(reasons)
    assert accepted > 0.2 * len(landed) and len(reasons) > 0.3 * len(landed), "both outcomes reached"
    print(
        f"{len(landed)} records ({len(kept)} from the corpus): {accepted} accepted ({len(accepted_ids)} distinct"
        f" events), {len(reasons)} quarantined, {len(set(reasons.values()))} reasons"
    )
