"""The schema registry: every field of every version has a silver column, and version 2 keeps version 1's rules."""

from __future__ import annotations

from jobs.storage.tables import SILVER_EVENTS
from jobs.transforms.contract import event_contract, load_schema, registry
from jobs.transforms.validation import FIELD_TYPES


def test_every_field_of_every_version_has_a_silver_column():
    for contract in registry().values():
        assert set(contract.field_types) <= set(FIELD_TYPES) <= set(SILVER_EVENTS.names)


def test_version_2_keeps_every_rule_of_version_1():
    v1, v2 = load_schema(1), load_schema(2)
    assert v2["required"] == v1["required"]
    for name, spec in v1["properties"].items():
        if name != "schema_version":
            assert v2["properties"][name] == spec, name
    assert v2["allOf"][0] == v1["allOf"][0]
    old, new = event_contract(1), event_contract(2)
    assert set(old.order_detail_fields) < set(new.order_detail_fields)
    assert old.order_detail_event_type == new.order_detail_event_type
    new_fields = set(v2["properties"]) - set(v1["properties"])
    assert new_fields == {"channel", "discount_minor", "tax_minor"}
    assert not new_fields & set(v2["required"])  # optional, so version 1 events need none of them
