"""The event contract, read from the JSON Schema files in schemas/events/ (the single source of its rules).

Spark validation (jobs/transforms/validation.py) takes every constant it enforces from here, so changing a rule
means changing the schema file, and tests/test_contract.py then proves Spark and the schema still agree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas" / "events"


@dataclass(frozen=True)
class EventContract:
    version: int
    required: tuple[str, ...]
    field_types: dict[str, tuple[str, ...]]  # JSON types each top-level field may have
    length_limits: dict[str, tuple[int, int]]  # min and max characters
    patterns: dict[str, str]  # regular expressions a string field must match
    event_types: tuple[str, ...]
    order_event_types: tuple[str, ...]  # the event types that must carry order_fields
    order_fields: tuple[str, ...]
    items_event_type: str  # the only event type that may carry items
    amount_exclusive_range: tuple[int, int]
    item_required: tuple[str, ...]
    item_types: dict[str, tuple[str, ...]]
    item_quantity_exclusive_minimum: int
    item_unit_price_minimum: int


def _types(spec: dict) -> tuple[str, ...]:
    kind = spec["type"]
    return tuple(kind) if isinstance(kind, list) else (kind,)


def contract_from_schema(schema: dict) -> EventContract:
    props = schema["properties"]
    orders_rule, items_rule = schema["allOf"]
    item_spec = props["items"]["items"]
    amount = props["amount_minor"]
    return EventContract(
        version=props["schema_version"]["const"],
        required=tuple(schema["required"]),
        field_types={name: _types(spec) for name, spec in props.items()},
        length_limits={
            name: (spec["minLength"], spec["maxLength"]) for name, spec in props.items() if "maxLength" in spec
        },
        patterns={name: spec["pattern"] for name, spec in props.items() if "pattern" in spec},
        event_types=tuple(props["event_type"]["enum"]),
        order_event_types=tuple(orders_rule["if"]["properties"]["event_type"]["enum"]),
        order_fields=tuple(orders_rule["then"]["required"]),
        items_event_type=items_rule["if"]["properties"]["event_type"]["not"]["const"],
        amount_exclusive_range=(amount["exclusiveMinimum"], amount["exclusiveMaximum"]),
        item_required=tuple(item_spec["required"]),
        item_types={name: _types(spec) for name, spec in item_spec["properties"].items()},
        item_quantity_exclusive_minimum=item_spec["properties"]["quantity"]["exclusiveMinimum"],
        item_unit_price_minimum=item_spec["properties"]["unit_price_minor"]["minimum"],
    )


@cache
def load_schema(version: int) -> dict:
    return json.loads((SCHEMA_DIR / f"v{version}.json").read_text(encoding="utf-8"))


@cache
def supported_versions() -> tuple[int, ...]:
    return tuple(sorted(int(path.stem[1:]) for path in SCHEMA_DIR.glob("v*.json")))


@cache
def event_contract(version: int = 1) -> EventContract:
    return contract_from_schema(load_schema(version))
