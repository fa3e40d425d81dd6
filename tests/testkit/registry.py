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
