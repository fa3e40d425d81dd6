"""The JSON Schema in schemas/events/v1.json and the Spark validation agree on which events are valid, and on the
field a rejection is about. Only too_far_in_future is left out: it depends on ingestion time, not on the event."""

from __future__ import annotations

import copy
import json

import pytest
from conftest import bronze_records, event, order
from jsonschema import Draft202012Validator
from test_validation import REJECTED

from jobs.contract import contract_from_schema, event_contract, load_schema, supported_versions
from jobs.synthetic import EventGenerator, GeneratorConfig
from jobs.transforms.validation import validate_events


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = load_schema(1)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def fields_of_schema_errors(validator: Draft202012Validator, payload: str) -> set[str | None] | None:
    """None when the schema accepts the payload, else the top-level fields its errors are about (None = the whole)."""
    try:
        instance = json.loads(payload)
    except ValueError:
        return {None}
    fields: set[str | None] = set()
    for error in validator.iter_errors(instance):
        if error.path:  # nested, e.g. ['items', 0, 'quantity']
            fields.add(str(error.path[0]))
        elif error.validator == "required":
            fields.update(name for name in error.validator_value if instance.get(name) is None)
        elif error.validator == "not":
            fields.update(error.validator_value.get("required", []))
        else:
            fields.add(None)
    return fields or None


def field_of_reason(reason: str) -> str | None:
    special = {
        "malformed_json": None,
        "unknown_event_type": "event_type",
        "unsupported_schema_version": "schema_version",
    }
    return special[reason] if reason in special else reason.split(":", 1)[1]


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

    def reasons(contract):
        rows = validate_events(bronze_records(spark, payloads), contract).orderBy("source_position").collect()
        return [row["reason"] for row in rows]

    assert reasons(event_contract()) == ["unknown_event_type", None]
    assert reasons(contract_from_schema(schema)) == [None, "bad_value:event_id"]
    assert supported_versions() == (1,)


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
