"""Validate raw event payloads against the event contract of their schema version, in one pass in the JVM.

jvm/insights/EventValidator.java parses each payload once with Jackson, which keeps each value's JSON type (a number
sent where a string belongs is told apart from a string that looks like a number), and returns at most one
`reason`: the first envelope rule the record breaks (JSON, schema_version), else the first rule of its own
version's contract, in this order: missing required fields, missing order fields, field types, item types, event
type, lengths, occurred_at, other patterns, enumerations, integer bounds, order-only fields. A record without a
reason is accepted. Every version is read into the same columns; a field its version does not define is null, and
kept in `extra` if the record carries it. The rules' constants come from the schema registry (contract.py), and
tests/spark/test_contract_agreement.py proves the validator and the JSON Schemas agree.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import asdict

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.storage.tables import QUARANTINE, SILVER_EVENTS
from jobs.transforms.contract import EventContract, RegistryError, registry

# silver.events columns that are not fields of the event but derived from it or from its landing
DERIVED_COLUMNS = ("extra", "event_hour", "event_date", "ingested_at")
# The Spark type of every event field silver stores, whichever schema versions define it.
FIELD_TYPES = {name: kind for name, kind in SILVER_EVENTS.columns if name not in DERIVED_COLUMNS}


# The contract checker, compiled from jvm/insights/EventValidator.java by `make setup` into the jar folder every
# session loads (runtime/session.py refuses to start without it).
VALIDATOR_CLASS = "insights.EventValidator"
# The deepest nesting of arrays and objects a record may have: deeper records are malformed_json. Spark's own JSON
# parsers recurse once per level, and a record a thousand levels deep overflowed a task's stack.
MAX_NESTING = 64
# Working columns of validate_events, dropped before it returns.
CHECKED, FIELDS = "_checked", "_fields"


def all_fields(contracts: Mapping[int, EventContract]) -> dict[str, tuple[int, ...]]:
    """Every field of any version, in version order, with the versions that define it."""
    fields: dict[str, tuple[int, ...]] = {}
    for version in sorted(contracts):
        for field in contracts[version].field_types:
            fields[field] = (*fields.get(field, ()), version)
    return fields


def contract_checker(spark: SparkSession, contracts: Mapping[int, EventContract]) -> str:
    """Registers the JVM validator of these contracts in `spark` and returns its SQL function's name: a function of
    the payload that returns struct<reason, extra>. The contracts travel as JSON, so every rule's constants still
    come from the schema registry."""
    config = json.dumps(
        {"max_nesting": MAX_NESTING, "versions": {str(v): asdict(c) for v, c in sorted(contracts.items())}}
    )
    name = "check_event_contract_" + hashlib.sha256(config.encode()).hexdigest()[:16]
    getattr(spark.sparkContext._jvm, VALIDATOR_CLASS).register(spark._jsparkSession, name, config)
    return name


def with_typed_fields(contracts: Mapping[int, EventContract]) -> Callable[[DataFrame], DataFrame]:
    """Typed values for every field silver stores, read by Spark's JSON reader from the payloads of records without
    a `reason` (null on the others); a field the record's version does not define is null."""
    defined_in = all_fields(contracts)
    as_read = {name: ("string" if name == "occurred_at" else kind) for name, kind in FIELD_TYPES.items()}
    schema = ", ".join(f"`{name}` {kind}" for name, kind in as_read.items())
    version = F.col(f"{FIELDS}.schema_version")

    def typed(field: str) -> Column:
        versions = defined_in.get(field, ())
        value = F.col(f"{FIELDS}.{field}")
        if not versions:
            return F.lit(None).cast(as_read[field])
        return value if len(versions) == len(contracts) else F.when(version.isin(*versions), value)

    def transform(records: DataFrame) -> DataFrame:
        # One column for the parsed struct, so that each field reads it instead of parsing the payload again.
        parsed = records.withColumn(FIELDS, F.when(F.col("reason").isNull(), F.from_json("payload", schema)))
        return parsed.withColumns(
            {
                **{name: typed(name) for name in as_read if name != "occurred_at"},
                "occurred_at_text": typed("occurred_at"),
            }
        ).drop(FIELDS)

    return transform


def with_contract_reason(contracts: Mapping[int, EventContract]) -> Callable[[DataFrame], DataFrame]:
    """`reason` and `extra` from the JVM validator, plus malformed_json for bytes that are not UTF-8 (a Java string
    has already replaced them, so the validator cannot see them)."""

    def transform(records: DataFrame) -> DataFrame:
        checker = contract_checker(records.sparkSession, contracts)
        checked = records.withColumn(CHECKED, F.call_function(checker, F.col("payload")))
        return checked.withColumns(
            {
                "reason": F.when(~F.is_valid_utf8("payload"), F.lit("malformed_json")).otherwise(
                    F.col(f"{CHECKED}.reason")
                ),
                "extra": F.col(f"{CHECKED}.extra"),
            }
        ).drop(CHECKED)

    return transform


def with_time_reasons(records: DataFrame) -> DataFrame:
    """`occurred_at` as a timestamp, and the reasons that need it: too_far_in_future depends on ingested_at."""
    # Spark's cast reads RFC 3339 offsets and 'Z'; upper() admits the 't'/'z' that RFC 3339 allows.
    timed = records.withColumn("occurred_at", F.try_to_timestamp(F.upper(F.col("occurred_at_text"))))
    occurred_at = F.col("occurred_at")
    return timed.withColumn(
        "reason",
        F.coalesce(
            F.col("reason"),
            # The validator refuses what Spark's timestamps cannot hold; this keeps a null time out of silver should
            # the two ever disagree.
            F.when(occurred_at.isNull(), F.lit("bad_value:occurred_at")),
            F.when(occurred_at > F.col("ingested_at") + F.expr("INTERVAL 1 HOUR"), F.lit("too_far_in_future")),
        ),
    ).drop("occurred_at_text")


def validate_events(records: DataFrame, contracts: Mapping[int, EventContract] | None = None) -> DataFrame:
    """Bronze records -> the same records with typed contract fields, `extra` and `reason` (null when accepted).
    `contracts` are the supported schema versions (default: every version in the schema registry)."""
    contracts = contracts or registry()
    unstorable = sorted(set(all_fields(contracts)) - set(FIELD_TYPES))
    if unstorable:
        raise RegistryError(f"the schema registry defines fields silver has no column for: {', '.join(unstorable)}")
    return (
        records.transform(with_contract_reason(contracts))
        .transform(with_typed_fields(contracts))
        .transform(with_time_reasons)
    )


def accepted_events(validated: DataFrame) -> DataFrame:
    """Accepted records in silver's shape, still carrying `source_position` for ordering copies."""
    return (
        validated.filter(F.col("reason").isNull())
        .withColumns(
            {
                "event_hour": F.date_trunc("hour", F.col("occurred_at")),
                "event_date": F.to_date(F.col("occurred_at")),
            }
        )
        .select(*SILVER_EVENTS.names, "source_position")
    )


def quarantined_records(validated: DataFrame) -> DataFrame:
    """Rejected records in quarantine's shape; `replayed_at` is set when a replay moves one into silver."""
    return (
        validated.filter(F.col("reason").isNotNull())
        .withColumn("replayed_at", F.lit(None).cast("timestamp"))
        .select(*QUARANTINE.names)
    )
