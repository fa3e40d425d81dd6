"""The JSON Schemas in schemas/events/ and the Spark validation agree on which events are valid, and on the field a
rejection is about. Only too_far_in_future is left out: it depends on ingestion time, not on the event. Version 2 is
backward compatible with version 1."""

from __future__ import annotations

import copy
import json

import pytest

from jobs.devtools.synthetic import EventGenerator, GeneratorConfig
from jobs.storage.tables import SILVER_EVENTS
from jobs.transforms.contract import contract_from_schema, event_contract, load_schema, supported_versions
from jobs.transforms.validation import accepted_events, validate_events
from testkit.events import bronze_records, event, order
from testkit.fuzz import parse_strictly
from testkit.registry import SchemaRegistry, field_of_reason, fields_of_errors
from testkit.rejections import REJECTED


@pytest.fixture(scope="module")
def validator() -> SchemaRegistry:
    return SchemaRegistry()


def fields_of_schema_errors(validator: SchemaRegistry, payload: str) -> set[str | None] | None:
    """None when the schema accepts the payload, else the top-level fields its errors are about (None = the whole)."""
    try:
        instance = parse_strictly(payload.encode())
    except ValueError:
        return {None}
    if not isinstance(instance, dict):
        return {None}
    return fields_of_errors(validator, instance)


def corpus() -> list[str]:
    handmade = [payload for reason, payload in REJECTED if reason != "too_far_in_future"]
    handmade += [json.dumps(p) for p in (event(), order(), order(event_type="order_refunded", items=...), event(x=1))]
    generated = EventGenerator(GeneratorConfig(events=4000, hours=2, merchants=50, malformed_rate=0.2, seed=11))
    lines = [line for batch in generated.records_by_arrival_hour() for line in batch]
    return [p if isinstance(p, str) else json.dumps(p) for p in handmade] + [
        line for line in lines if "2099-" not in line
    ]


def test_validation_follows_a_changed_schema(spark):
    """Spark takes its rules from the schema: a schema with a new event type and a shorter id limit changes what
    is accepted, with no change to the validation code."""
    schema = copy.deepcopy(load_schema(1))
    schema["properties"]["event_type"]["enum"].append("wishlist_add")
    schema["properties"]["event_id"]["maxLength"] = 8
    payloads = [event(event_type="wishlist_add"), event(event_id="123456789")]

    def reasons(contracts):
        rows = validate_events(bronze_records(spark, payloads), contracts).orderBy("source_position").collect()
        return [row["reason"] for row in rows]

    assert reasons({1: event_contract(1)}) == ["unknown_event_type", None]
    assert reasons({1: contract_from_schema(schema)}) == [None, "bad_value:event_id"]
    assert supported_versions() == (1, 2)


def test_schema_and_spark_agree_on_a_corpus(spark, validator):
    payloads = corpus()
    validated = validate_events(bronze_records(spark, payloads)).select("source_position", "reason").collect()
    spark_reason = {int(row["source_position"].rsplit(":", 1)[1]) - 1: row["reason"] for row in validated}
    disagreements = []
    rejected = 0
    for index, payload in enumerate(payloads):
        schema_fields = fields_of_schema_errors(validator, payload)
        reason = spark_reason[index]
        if reason is None and schema_fields is None:
            continue
        rejected += 1
        if reason is None or schema_fields is None or field_of_reason(reason) not in schema_fields:
            disagreements.append((payload[:120], reason, schema_fields))
    assert disagreements == []
    assert rejected >= 0.1 * len(payloads)  # the corpus really exercises rejections


def test_every_valid_version_1_event_is_read_the_same_under_version_2(spark, validator):
    """Backward compatibility, proven on data: each valid version 1 event of the corpus that does not use the new
    field names, restamped as version 2, is valid under the version 2 schema and gives the same silver row."""
    new_fields = {"channel", "discount_minor", "tax_minor"}
    v1_events = []
    for payload in corpus():
        try:
            instance = parse_strictly(payload.encode())
        except ValueError:
            continue
        is_v1 = isinstance(instance, dict) and instance.get("schema_version") == 1 and not new_fields & set(instance)
        if is_v1 and "2099-" not in payload and validator.is_valid(instance):
            v1_events.append(instance)
    as_v2 = [{**instance, "schema_version": 2} for instance in v1_events]
    assert all(validator.validators[2].is_valid(instance) for instance in as_v2)

    def silver_rows(payloads: list[dict]) -> list[str]:
        accepted = accepted_events(validate_events(bronze_records(spark, payloads)))
        columns = [column for column in SILVER_EVENTS.names if column != "schema_version"]
        return sorted(str(tuple(row)) for row in accepted.select(*columns).collect())

    assert len(v1_events) > 1500  # of the 4,000 generated, half from version 1 clients
    as_v1_rows = silver_rows(v1_events)
    assert len(as_v1_rows) == len(v1_events)  # every one accepted (the corpus has no copies among them)
    assert silver_rows(as_v2) == as_v1_rows
