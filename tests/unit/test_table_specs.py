"""Each table is declared once (storage/tables.py): the DDL, the transforms' output contracts, the quality gates'
column lists and the sinks' fields all come from that one spec."""

from __future__ import annotations

from jobs.quality.expectations import counts_and_amounts, expectations
from jobs.sinks.influx import MEASUREMENTS
from jobs.sinks.search import INDICES, mappings
from jobs.storage.tables import GOLD_TABLES, ITEMS, MERCHANT_HOURLY_SALES, SILVER_EVENTS, TABLES, parse_columns
from jobs.transforms.validation import DERIVED_COLUMNS, FIELD_TYPES


def test_columns_are_split_on_the_commas_outside_angle_brackets():
    assert parse_columns(f"a string, items {ITEMS}, m map<string, bigint>, s decimal(38,0)") == (
        ("a", "string"),
        ("items", ITEMS),
        ("m", "map<string, bigint>"),
        ("s", "decimal(38,0)"),
    )


def test_every_table_has_unique_columns_and_its_partition_and_key_among_them():
    for name, spec in TABLES.items():
        assert len(set(spec.names)) == len(spec.names), name
        assert spec.partitioned_by in spec.names, name
        assert set(spec.key) <= set(spec.names), name
    assert [name for name in TABLES if name.startswith("gold.")] == GOLD_TABLES


def test_silver_stores_every_event_field_and_the_columns_it_derives():
    assert list(FIELD_TYPES) + list(DERIVED_COLUMNS) == sorted(
        SILVER_EVENTS.names, key=lambda name: (name in DERIVED_COLUMNS, SILVER_EVENTS.names.index(name))
    )
    assert FIELD_TYPES["items"] == ITEMS and FIELD_TYPES["occurred_at"] == "timestamp"


def test_a_new_integer_column_reaches_the_gate_and_the_time_series_without_another_edit():
    sales = MERCHANT_HOURLY_SALES
    assert set(counts_and_amounts(sales.name)) == set(sales.integer_names) - {"net_minor", "avg_order_minor"}
    measurement = MEASUREMENTS[sales.name]
    assert measurement.tags == ("merchant_id", "currency") and measurement.time == "hour_start"
    assert set(measurement.integer_fields) == set(sales.integer_names)
    assert {"orders", "gross_minor"} <= set(sales.integer_names)
    [unique] = [e for e in expectations(sales.name) if e.name.endswith("unique")]
    assert unique.arguments == {"column_list": list(sales.key)}


def test_search_mappings_name_every_published_column():
    for table, index in INDICES.items():
        properties = mappings(index)["properties"]
        assert set(properties) == {name for name, _ in TABLES[table].published_columns}
        assert index.key == TABLES[table].key
