"""Every Delta table of the lakehouse, declared once: name, columns and types, partition column and key.

The DDL that creates a table, the `select` that ends each transform (its output contract), the columns the quality
gates check and the fields the sinks publish are all derived from these specs. Columns are only ever added, at the
end: `storage.delta.ensure_tables` adds them to a table created before them, whose older rows then read them as null.
"""

from __future__ import annotations

from dataclasses import dataclass

# Sums of money and units: exact to 10^38, which the contract's bounds (amounts under 10^15, quantities under 10^9)
# keep out of reach of any volume of events; 64-bit sums of 10^15 amounts overflow after 9,224 orders.
EXACT_SUM = "decimal(38,0)"
ITEMS = "array<struct<sku: string, name: string, quantity: bigint, unit_price_minor: bigint>>"
ACTIVITY = """events bigint, page_views bigint, add_to_carts bigint, checkouts bigint, orders bigint,
    refunds bigint, sessions bigint, sessions_sketch binary, customers bigint, customers_sketch binary,
    conversion_rate double, updated_at timestamp"""


def parse_columns(ddl: str) -> tuple[tuple[str, str], ...]:
    """`a string, b array<struct<x: int, y: int>>, c decimal(38,0)` -> (("a", "string"), ("b", "array<...>"),
    ("c", "decimal(38,0)")): split on the commas outside angle brackets and parentheses."""
    columns, depth, start = [], 0, 0
    for position, character in enumerate(ddl + ","):
        depth += {"<": 1, ">": -1, "(": 1, ")": -1}.get(character, 0)
        if character == "," and depth == 0:
            name, _, kind = ddl[start:position].strip().partition(" ")
            columns.append((name, kind.strip()))
            start = position + 1
    return tuple(columns)


@dataclass(frozen=True)
class TableSpec:
    name: str  # layer.table; the table lives at <warehouse>/<layer>/<table>
    columns: tuple[tuple[str, str], ...]  # (name, Spark SQL type), in table order
    partitioned_by: str
    key: tuple[str, ...] = ()  # the columns that identify a row (and its record in a sink), in document-id order
    change_feed: bool = False  # Delta's change data feed, which publishing reads to find what changed
    # Columns only gold itself needs, to merge a batch into a row (the sketches, the order a name comes from): no
    # sink gets them.
    internal: tuple[str, ...] = ()

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.columns]

    @property
    def ddl(self) -> str:
        return ", ".join(f"`{name}` {kind}" for name, kind in self.columns)

    @property
    def layer(self) -> str:
        return self.name.split(".")[0]

    @property
    def time(self) -> str:
        """The column holding a gold row's slice start: `hour_start` for hourly tables, else `date`."""
        return "hour_start" if "hour_start" in self.key else "date"

    @property
    def published_columns(self) -> tuple[tuple[str, str], ...]:
        return tuple((name, kind) for name, kind in self.columns if name not in self.internal)

    def names_of_type(self, kind: str) -> list[str]:
        return [name for name, column_type in self.columns if column_type == kind]

    @property
    def integer_names(self) -> list[str]:
        """The integer columns: counts (bigint) and exact sums (EXACT_SUM)."""
        return [name for name, column_type in self.columns if column_type in ("bigint", EXACT_SUM)]


def _spec(
    name: str,
    ddl: str,
    partitioned_by: str,
    key: tuple[str, ...] = (),
    change_feed: bool = False,
    internal: tuple[str, ...] = (),
) -> TableSpec:
    return TableSpec(name, parse_columns(ddl), partitioned_by, key, change_feed, internal)


SKETCHES = ("sessions_sketch", "customers_sketch")


BRONZE_EVENTS = _spec(
    "bronze.events",
    "payload string, source string, source_position string, ingested_at timestamp, ingest_date date",
    "ingest_date",
)
SILVER_EVENTS = _spec(
    "silver.events",
    f"""event_id string, event_type string, merchant_id string, occurred_at timestamp, schema_version int,
    customer_id string, session_id string, order_id string, currency string, amount_minor bigint,
    items {ITEMS}, url string, extra string, event_hour timestamp, event_date date, ingested_at timestamp,
    channel string, discount_minor bigint, tax_minor bigint""",
    "event_date",
    key=("event_id",),
)
QUARANTINE = _spec(
    "silver.quarantine",
    """payload string, reason string, source_position string, ingested_at timestamp, ingest_date date,
    replayed_at timestamp""",
    "ingest_date",
)
MERCHANT_HOURLY = _spec(
    "gold.merchant_hourly",
    f"merchant_id string, hour_start timestamp, date date, {ACTIVITY}",
    "date",
    key=("merchant_id", "hour_start"),
    change_feed=True,
    internal=SKETCHES,
)
MERCHANT_HOURLY_SALES = _spec(
    "gold.merchant_hourly_sales",
    f"""merchant_id string, hour_start timestamp, date date, currency string, orders bigint, gross_minor {EXACT_SUM},
    refunds bigint, refunded_minor {EXACT_SUM}, net_minor {EXACT_SUM}, items_sold {EXACT_SUM},
    avg_order_minor bigint, discount_minor {EXACT_SUM}, tax_minor {EXACT_SUM}""",
    "date",
    key=("merchant_id", "hour_start", "currency"),
    change_feed=True,
)
MERCHANT_HOURLY_CHANNEL_SALES = _spec(
    "gold.merchant_hourly_channel_sales",
    f"""merchant_id string, hour_start timestamp, date date, channel string, currency string, orders bigint,
    gross_minor {EXACT_SUM}, discount_minor {EXACT_SUM}, tax_minor {EXACT_SUM}, refunds bigint,
    refunded_minor {EXACT_SUM}, net_minor {EXACT_SUM}""",
    "date",
    key=("merchant_id", "hour_start", "channel", "currency"),
    change_feed=True,
)
MERCHANT_DAILY = _spec(
    "gold.merchant_daily",
    f"merchant_id string, date date, {ACTIVITY}",
    "date",
    key=("merchant_id", "date"),
    change_feed=True,
    internal=SKETCHES,
)
PRODUCT_DAILY = _spec(
    "gold.product_daily",
    f"""merchant_id string, date date, sku string, currency string, name string, units {EXACT_SUM},
    revenue_minor {EXACT_SUM}, name_occurred_at timestamp, name_event_id string""",
    "date",
    key=("merchant_id", "date", "currency", "sku"),
    change_feed=True,
    internal=("name_occurred_at", "name_event_id"),
)
BATCH_HEALTH = _spec(
    "ops.batch_health",
    """stage string, batch string, started_at timestamp, seconds double, rows_in bigint, rows_out bigint,
    quarantined map<string, bigint>, copies_dropped bigint, late_events bigint, lateness_max_seconds bigint,
    lateness_p95_seconds bigint, date date""",
    "date",
)
PUBLISH_PROGRESS = _spec(
    "ops.publish_progress",
    "sink string, table string, version bigint, rows_written bigint, points_deleted bigint, published_at timestamp",
    "sink",
)

TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        BRONZE_EVENTS,
        SILVER_EVENTS,
        QUARANTINE,
        MERCHANT_HOURLY,
        MERCHANT_HOURLY_SALES,
        MERCHANT_HOURLY_CHANNEL_SALES,
        MERCHANT_DAILY,
        PRODUCT_DAILY,
        BATCH_HEALTH,
        PUBLISH_PROGRESS,
    )
}
GOLD_TABLES = [name for name, spec in TABLES.items() if spec.layer == "gold"]
