"""The event contract, read from the schema registry: one JSON Schema file per version in schemas/events/.

Spark validation (transforms/validation.py) takes every constant it enforces from here, so changing a rule means
changing a schema file, and the contract tests then prove Spark and the schemas still agree. Silver accepts every
version whose file `v<N>.json` is in the registry folder, read once per process (a new version takes effect when the
jobs restart). A version that adds a field also needs its column in silver.events (storage/tables.py): validation
refuses a registry with a field silver cannot store.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from jobs.runtime.settings import REPO_ROOT, Settings, UsageError

SCHEMA_DIR = REPO_ROOT / "schemas" / "events"


class RegistryError(UsageError):
    """The schema registry folder is missing or holds no schema version."""


@dataclass(frozen=True)
class EventContract:
    version: int
    required: tuple[str, ...]
    field_types: dict[str, tuple[str, ...]]  # JSON types each top-level field may have
    length_limits: dict[str, tuple[int, int]]  # min and max characters
    patterns: dict[str, str]  # regular expressions a string field must match
    event_types: tuple[str, ...]
    enums: dict[str, tuple[str, ...]]  # the values other enumerated string fields may take
    order_event_types: tuple[str, ...]  # the event types that must carry order_fields
    order_fields: tuple[str, ...]
    order_detail_event_type: str  # the only event type that may carry order_detail_fields
    order_detail_fields: tuple[str, ...]  # items, and from version 2 discount and tax
    integer_bounds: dict[str, tuple[int, int]]  # smallest allowed value and exclusive maximum of integer fields
    item_required: tuple[str, ...]
    item_types: dict[str, tuple[str, ...]]
    item_integer_bounds: dict[str, tuple[int, int]]  # smallest allowed value and exclusive maximum, per item field


def _types(spec: dict) -> tuple[str, ...]:
    kind = spec["type"]
    return tuple(kind) if isinstance(kind, list) else (kind,)


def _smallest(spec: dict) -> int:
    return spec["minimum"] if "minimum" in spec else spec["exclusiveMinimum"] + 1


def _integer_bounds(properties: dict) -> dict[str, tuple[int, int]]:
    return {
        name: (_smallest(spec), spec["exclusiveMaximum"])
        for name, spec in properties.items()
        if "exclusiveMaximum" in spec
    }


def _forbidden_fields(rule: dict) -> tuple[str, ...]:
    """The fields of `{"not": {"required": [...]}}` or `{"not": {"anyOf": [{"required": [...]}, ...]}}`."""
    forbidden = rule["not"]
    alternatives = forbidden.get("anyOf", [forbidden])
    return tuple(name for alternative in alternatives for name in alternative["required"])


def contract_from_schema(schema: dict) -> EventContract:
    props = schema["properties"]
    orders_rule, details_rule = schema["allOf"]
    item_spec = props["items"]["items"]
    return EventContract(
        version=props["schema_version"]["const"],
        required=tuple(schema["required"]),
        field_types={name: _types(spec) for name, spec in props.items()},
        length_limits={
            name: (spec["minLength"], spec["maxLength"]) for name, spec in props.items() if "maxLength" in spec
        },
        patterns={name: spec["pattern"] for name, spec in props.items() if "pattern" in spec},
        event_types=tuple(props["event_type"]["enum"]),
        enums={name: tuple(spec["enum"]) for name, spec in props.items() if "enum" in spec and name != "event_type"},
        order_event_types=tuple(orders_rule["if"]["properties"]["event_type"]["enum"]),
        order_fields=tuple(orders_rule["then"]["required"]),
        order_detail_event_type=details_rule["if"]["properties"]["event_type"]["not"]["const"],
        order_detail_fields=_forbidden_fields(details_rule["then"]),
        integer_bounds=_integer_bounds(props),
        item_required=tuple(item_spec["required"]),
        item_types={name: _types(spec) for name, spec in item_spec["properties"].items()},
        item_integer_bounds=_integer_bounds(item_spec["properties"]),
    )


@cache
def load_schema(version: int, directory: Path = SCHEMA_DIR) -> dict:
    return json.loads((directory / f"v{version}.json").read_text(encoding="utf-8"))


def supported_versions(directory: Path = SCHEMA_DIR) -> tuple[int, ...]:
    return tuple(sorted(int(path.stem[1:]) for path in directory.glob("v*.json") if path.stem[1:].isdigit()))


@cache
def event_contract(version: int = 1, directory: Path = SCHEMA_DIR) -> EventContract:
    return contract_from_schema(load_schema(version, directory))


@cache
def registry(directory: Path = SCHEMA_DIR) -> dict[int, EventContract]:
    """Every schema version in the registry folder, by version number."""
    versions = supported_versions(directory)
    if not versions:
        raise RegistryError(f"no event schema (v<N>.json) in the schema registry folder {directory}")
    contracts = {version: event_contract(version, directory) for version in versions}
    for version, contract in contracts.items():
        if contract.version != version:
            raise RegistryError(f"{directory}/v{version}.json says schema_version {contract.version}")
    return contracts


def registry_of(settings: Settings) -> dict[int, EventContract]:
    """The registry of the configured folder (LAKEHOUSE_SCHEMAS). Jobs ask for it before Spark starts, so that a bad
    folder fails at once, in one line."""
    return registry(Path(settings.schemas))
