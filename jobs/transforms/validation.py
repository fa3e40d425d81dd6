"""Parse and validate raw event payloads against the event contract of their schema version, entirely in the JVM.

Payloads are parsed once into Spark's VARIANT type, which keeps each value's JSON type, so a number sent where a
string belongs is told apart from a string that looks like a number. Each record gets at most one `reason`: the first
envelope rule it breaks (JSON, schema_version), else the first rule of its own version's `rejection_rules`; a record
without a reason is accepted. Every version is read into the same columns; a field its version does not define is
null, and kept in `extra` if the record carries it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from pyspark import SparkContext
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from jobs.storage.tables import QUARANTINE, SILVER_EVENTS
from jobs.transforms.contract import EventContract, RegistryError, registry

PARSED = "_json"
# silver.events columns that are not fields of the event but derived from it or from its landing
DERIVED_COLUMNS = ("extra", "event_hour", "event_date", "ingested_at")
# The Spark type of every event field silver stores, whichever schema versions define it.
FIELD_TYPES = {name: kind for name, kind in SILVER_EVENTS.columns if name not in DERIVED_COLUMNS}


def _raw(parent: Column, name: str) -> Column:
    return F.try_variant_get(parent, f"$.{name}", "variant")


def json_type(value: Column) -> Column:
    """The JSON type name of a VARIANT value as schema_of_variant spells it (STRING, BIGINT, VOID for null, ...);
    null when the value is absent."""
    return F.schema_of_variant(value)


def has_json_type(type_name: Column, allowed: tuple[str, ...]) -> Column:
    """True when a schema_of_variant name is one of the JSON Schema types in `allowed`."""
    checks = {
        "string": type_name == "STRING",
        "integer": (type_name == "BIGINT") | F.coalesce(_decimal_precision_of_integers(type_name) >= 19, F.lit(False)),
        "null": type_name == "VOID",
        "array": type_name.startswith("ARRAY"),
        "object": type_name.startswith("OBJECT"),
        "boolean": type_name == "BOOLEAN",
    }
    result = F.lit(False)
    for kind in allowed:
        result = result | checks[kind]
    return result


def _decimal_precision_of_integers(type_name: Column) -> Column:
    """The precision of a DECIMAL(p,0) type name, else null. Spark keeps an integer literal past 64 bits as
    DECIMAL(19+,0), but also strips a fraction of zeros: `1.0` is DECIMAL(1,0), so a precision under 19 was written
    with a fraction, which the contract does not call an integer."""
    return F.regexp_extract(type_name, r"^DECIMAL\((\d+),0\)$", 1).try_cast("int")


# The deepest nesting of arrays and objects a record may have. Spark's JSON-to-VARIANT builder recurses once per
# level, and a record a thousand levels deep overflowed a task's stack: that killed the job, not just the record.
MAX_NESTING = 64
SHAPE = "_shape"
# Surrogate halves as \uXXXX escapes, in text whose escaped backslashes are gone: a high one not followed by a low
# one, or a low one not preceded by a high one.
LONE_SURROGATE_ESCAPE = (
    r"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)


def text_shape(json_text: Column) -> Column:
    """What the JSON parser cannot be asked: `one_value`, whether the text ends where its first value does (Spark's
    parser stops after it and ignores the rest: `{...} x`, `{...},`, `{...}{...}` all parse), and `nesting`, its
    deepest level of arrays and objects. The text must end with a bracket (and whitespace), and its brackets, outside
    strings and escapes, go back to depth 0 once, at their end. Each regular expression repeats a single character
    or token, never a group: Java's engine recurses on each repetition of a group, so a long string would overflow
    the stack. Most records have no escape at all, and skip that pass."""
    unescaped = F.when(_has_escape(json_text), F.regexp_replace(json_text, r"\\[\s\S]", "")).otherwise(json_text)
    brackets = F.split(F.regexp_replace(unescaped, r'"[^"]*+"|[^\[\]{}"]++', ""), "")

    def step(state: Column, bracket: Column) -> Column:
        opens, closes = bracket.isin("{", "["), bracket.isin("}", "]")
        depth = state["depth"] + F.when(opens, 1).when(closes, -1).otherwise(0)
        return F.struct(
            depth.alias("depth"),
            F.greatest(state["deepest"], depth).alias("deepest"),
            (state["back_to_0"] + F.when(closes & (depth == 0), 1).otherwise(0)).alias("back_to_0"),
        )

    walk = F.aggregate(
        brackets, F.struct(F.lit(0).alias("depth"), F.lit(0).alias("deepest"), F.lit(0).alias("back_to_0")), step
    )
    ends_with_bracket = F.substring(F.rtrim(json_text, F.lit(" \t\r\n")), -1, 1).isin("}", "]")
    one_value = ends_with_bracket & (walk["back_to_0"] == 1) & (walk["depth"] == 0)
    return F.struct(one_value.alias("one_value"), walk["deepest"].alias("nesting"))


def _has_escape(json_text: Column) -> Column:
    return F.instr(json_text, "\\") > 0


def has_lone_surrogate_escape(json_text: Column) -> Column:
    """A lone surrogate escape has no UTF-8 form: Spark would read it as '?' and change the value."""
    unpaired = F.regexp_replace(json_text, r"\\\\", "").rlike(LONE_SURROGATE_ESCAPE)
    return F.when(_has_escape(json_text), unpaired).otherwise(False)


def is_object_text(json_text: Column) -> Column:
    """True when well-formed JSON text is an object. Cheaper than asking the parsed VARIANT for its schema, which
    spells out the type of every nested value."""
    return json_text.rlike(r"^[ \t\r\n]*\{")


def is_missing(type_name: Column) -> Column:
    """Absent, or JSON null."""
    return type_name.isNull() | (type_name == "VOID")


def _type_col(field: str) -> str:
    return f"_type_{field}"


def all_fields(contracts: Mapping[int, EventContract]) -> dict[str, tuple[int, ...]]:
    """Every field of any version, in version order, with the versions that define it."""
    fields: dict[str, tuple[int, ...]] = {}
    for version in sorted(contracts):
        for field in contracts[version].field_types:
            fields[field] = (*fields.get(field, ()), version)
    return fields


def with_parsed_payload(contracts: Mapping[int, EventContract]) -> Callable[[DataFrame], DataFrame]:
    def transform(records: DataFrame) -> DataFrame:
        shaped = records.withColumn(SHAPE, text_shape(F.col("payload")))
        parsed = shaped.withColumn(
            PARSED, F.when(F.col(f"{SHAPE}.nesting") <= MAX_NESTING, F.try_parse_json("payload"))
        )
        return parsed.withColumns(
            {_type_col(field): json_type(_raw(F.col(PARSED), field)) for field in all_fields(contracts)}
        )

    return transform


def with_typed_fields(contracts: Mapping[int, EventContract]) -> Callable[[DataFrame], DataFrame]:
    """Typed values for every field silver stores; null where the record's version does not define the field.
    Only meaningful on rows that pass validation."""
    v = F.col(PARSED)
    version = F.try_variant_get(v, "$.schema_version", "int")
    defined_in = all_fields(contracts)

    def typed(field: str, spark_type: str) -> Column:
        versions = defined_in.get(field, ())
        value = F.try_variant_get(v, f"$.{field}", spark_type)
        if not versions:
            return F.lit(None).cast(spark_type)
        return value if len(versions) == len(contracts) else F.when(version.isin(*versions), value)

    def transform(records: DataFrame) -> DataFrame:
        occurred_at_text = typed("occurred_at", "string")
        return records.withColumns(
            {
                **{name: typed(name, kind) for name, kind in FIELD_TYPES.items() if name != "occurred_at"},
                "occurred_at_text": occurred_at_text,
                # Spark's cast reads RFC 3339 offsets and 'Z'; upper() admits the 't'/'z' that RFC 3339 allows.
                "occurred_at": F.try_to_timestamp(F.upper(occurred_at_text)),
            }
        )

    return transform


def is_out_of_range(value: Column, bounds: tuple[int, int]) -> Column:
    """Outside [smallest, exclusive maximum], or null: a JSON integer past 64 bits reads as null."""
    smallest, exclusive_maximum = bounds
    return value.isNull() | (value < smallest) | (value >= exclusive_maximum)


def _item_variants() -> Column:
    return F.try_variant_get(F.col(PARSED), "$.items", "array<variant>")


def _items_have_bad_type(contract: EventContract) -> Column:

    def item_is_bad(item: Column) -> Column:
        bad = ~json_type(item).startswith("OBJECT")
        for name, allowed in contract.item_types.items():
            item_type = json_type(_raw(item, name))
            bad = bad | (item_type.isNotNull() & ~has_json_type(item_type, allowed))
        return bad

    return F.coalesce(F.exists(_item_variants(), item_is_bad), F.lit(False))


def _items_have_bad_value(contract: EventContract) -> Column:

    def item_is_bad(item: Column) -> Column:
        lacks_key = F.lit(False)
        for name in contract.item_required:
            lacks_key = lacks_key | json_type(_raw(item, name)).isNull()
        out_of_range = F.lit(False)
        for name, bounds in contract.item_integer_bounds.items():
            out_of_range = out_of_range | is_out_of_range(F.try_variant_get(item, f"$.{name}", "bigint"), bounds)
        return lacks_key | out_of_range

    return F.coalesce(F.exists(_item_variants(), item_is_bad), F.lit(False))


def envelope_rules(versions: tuple[int, ...]) -> list[tuple[str, Column]]:
    """(reason, broken) pairs checked before a record's own version is known to be one of `versions`."""
    version_type = F.col(_type_col("schema_version"))
    return [
        (
            "malformed_json",
            # JSON text is UTF-8: bytes that are not would otherwise be parsed with replacement characters.
            F.col(PARSED).isNull()
            | ~F.is_valid_utf8("payload")
            | ~is_object_text(F.col("payload"))
            | ~F.col(f"{SHAPE}.one_value")
            | has_lone_surrogate_escape(F.col("payload")),
        ),
        ("missing_field:schema_version", is_missing(version_type)),
        ("bad_type:schema_version", ~has_json_type(version_type, ("integer",))),
        ("unsupported_schema_version", ~F.coalesce(F.col("schema_version").isin(*versions), F.lit(False))),
    ]


def rejection_rules(contract: EventContract) -> list[tuple[str, Column]]:
    """(reason, broken) pairs of one version's contract, in the order they are checked: the first broken rule names
    the reason."""
    t = {field: F.col(_type_col(field)) for field in contract.field_types}
    present = {field: t[field].isNotNull() for field in contract.field_types}
    event_type = F.col("event_type")
    is_order_event = event_type.isin(*contract.order_event_types)
    is_detailed_event = event_type == contract.order_detail_event_type

    rules = [
        (f"missing_field:{field}", is_missing(t[field])) for field in contract.required if field != "schema_version"
    ]
    rules += [(f"missing_field:{field}", is_order_event & is_missing(t[field])) for field in contract.order_fields]
    rules += [
        (f"bad_type:{field}", present[field] & ~has_json_type(t[field], allowed))
        for field, allowed in contract.field_types.items()
        if field != "schema_version"
    ]
    # The item checks walk every item in interpreted lambdas: run them only on records that have items.
    rules.append(("bad_type:items", present["items"] & _items_have_bad_type(contract)))
    rules.append(("unknown_event_type", ~event_type.isin(*contract.event_types)))
    for field, (shortest, longest) in contract.length_limits.items():
        rules.append((f"bad_value:{field}", ~F.length(F.col(field)).between(shortest, longest)))
    rules.append(
        (
            "bad_value:occurred_at",
            ~F.col("occurred_at_text").rlike(contract.patterns["occurred_at"]) | F.col("occurred_at").isNull(),
        )
    )
    for field, pattern in contract.patterns.items():
        if field != "occurred_at":
            rules.append((f"bad_value:{field}", present[field] & ~F.col(field).rlike(pattern)))
    for field, allowed in contract.enums.items():
        rules.append((f"bad_value:{field}", present[field] & ~F.col(field).isin(*allowed)))
    for field, bounds in contract.integer_bounds.items():
        rules.append((f"bad_value:{field}", present[field] & is_out_of_range(F.col(field), bounds)))
    for field in contract.order_detail_fields:
        broken = ~is_detailed_event
        if field == "items":
            broken = broken | _items_have_bad_value(contract)
        rules.append((f"bad_value:{field}", present[field] & broken))
    rules.append(("too_far_in_future", F.col("occurred_at") > F.col("ingested_at") + F.expr("INTERVAL 1 HOUR")))
    return rules


def _first_reason(rules: list[tuple[str, Column]]) -> Column:
    return F.coalesce(*[F.when(broken, F.lit(reason)) for reason, broken in rules])


def rejection_reason(contracts: Mapping[int, EventContract]) -> Column:
    """The envelope's reason, else the reason of the record's own version (only that version's rules run).

    Built once per registry and Spark context: the column is a tree of a few thousand expressions, each a call into
    the JVM, about 1.7 s to build; a built column holds no data and serves every batch."""
    key = (id(SparkContext._active_spark_context), repr(sorted(contracts.items())))
    if key not in _REASON_COLUMNS:
        _REASON_COLUMNS[key] = _rejection_reason(contracts)
    return _REASON_COLUMNS[key]


_REASON_COLUMNS: dict[tuple[int, str], Column] = {}


def _rejection_reason(contracts: Mapping[int, EventContract]) -> Column:
    (first, *others) = sorted(contracts.items())
    own_version = F.when(F.col("schema_version") == first[0], _first_reason(rejection_rules(first[1])))
    for version, contract in others:
        own_version = own_version.when(F.col("schema_version") == version, _first_reason(rejection_rules(contract)))
    return F.coalesce(_first_reason(envelope_rules(tuple(contracts))), own_version)


def with_extra_fields(contracts: Mapping[int, EventContract]) -> Callable[[DataFrame], DataFrame]:
    """Fields the record's version does not define, as one JSON object string in `extra` (null when none)."""
    known_by_version = F.create_map(
        *[
            part
            for version, contract in sorted(contracts.items())
            for part in (F.lit(version), F.array(*[F.lit(name) for name in contract.field_types]))
        ]
    )
    known = F.coalesce(F.element_at(known_by_version, F.col("schema_version")), F.array().cast("array<string>"))

    def transform(records: DataFrame) -> DataFrame:
        # From the VARIANT already parsed: reading the payload's JSON a second time cost about a fifth of validation.
        fields = F.try_variant_get(F.col(PARSED), "$", "map<string, variant>")
        unknown_keys = F.array_except(F.map_keys(fields), known)
        # The interpreted map_filter runs only on the few records that have unknown fields.
        unknown = F.map_filter(fields, lambda key, _value: F.array_contains(unknown_keys, key))
        return records.withColumn("extra", F.when(F.size(unknown_keys) > 0, F.to_json(unknown)))

    return transform


def validate_events(records: DataFrame, contracts: Mapping[int, EventContract] | None = None) -> DataFrame:
    """Bronze records -> the same records with typed contract fields and `reason` (null when accepted). `contracts`
    are the supported schema versions (default: every version in the schema registry)."""
    contracts = contracts or registry()
    unstorable = sorted(set(all_fields(contracts)) - set(FIELD_TYPES))
    if unstorable:
        raise RegistryError(f"the schema registry defines fields silver has no column for: {', '.join(unstorable)}")
    return (
        records.transform(with_parsed_payload(contracts))
        .transform(with_typed_fields(contracts))
        .withColumn("reason", rejection_reason(contracts))
        .transform(with_extra_fields(contracts))
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
