"""The registry's JSON Schemas, checked with the `jsonschema` library: the reference for Spark validation."""

from __future__ import annotations

from collections.abc import Iterator

from jsonschema import Draft202012Validator, ValidationError

from jobs.transforms.contract import load_schema, supported_versions


class SchemaRegistry:
    """An event is checked against the version it names (version 1's schema, which rejects it, for any other)."""

    def __init__(self) -> None:
        self.validators = {}
        for version in supported_versions():
            schema = load_schema(version)
            Draft202012Validator.check_schema(schema)
            self.validators[version] = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)

    def iter_errors(self, instance: object) -> Iterator[ValidationError]:
        version = instance.get("schema_version") if isinstance(instance, dict) else None
        return self.validators.get(version if type(version) is int else 1, self.validators[1]).iter_errors(instance)

    def is_valid(self, instance: object) -> bool:
        return next(iter(self.iter_errors(instance)), None) is None


def fields_of_errors(validator: SchemaRegistry, instance: object) -> set[str | None] | None:
    """None when the schema accepts the instance, else the top-level fields its errors are about (None = the
    whole)."""
    fields: set[str | None] = set()
    for error in validator.iter_errors(instance):
        if error.path:  # nested, e.g. ['items', 0, 'quantity']
            fields.add(str(error.path[0]))
        elif error.validator == "required":
            fields.update(name for name in error.validator_value if instance.get(name) is None)  # type: ignore[union-attr]
        elif error.validator == "not":
            alternatives = error.validator_value.get("anyOf", [error.validator_value])
            fields.update(name for alternative in alternatives for name in alternative.get("required", []))
        else:
            fields.add(None)
    return fields or None


def field_of_reason(reason: str) -> str | None:
    """The top-level field a rejection reason is about (None: the whole record)."""
    special = {
        "malformed_json": None,
        "unknown_event_type": "event_type",
        "unsupported_schema_version": "schema_version",
    }
    return special[reason] if reason in special else reason.split(":", 1)[1]
