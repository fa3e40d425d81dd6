"""Gold as the serving stores hold it: a measurement per table in InfluxDB, an index alias per table in OpenSearch,
and the query a merchant's product search sends. The sinks write these shapes and the portal reads them, so they
live here, apart from Spark: the portal's process loads no pyspark.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from jobs.storage.tables import (
    MERCHANT_DAILY,
    MERCHANT_HOURLY,
    MERCHANT_HOURLY_CHANNEL_SALES,
    MERCHANT_HOURLY_SALES,
    PRODUCT_DAILY,
    TableSpec,
)


@dataclass(frozen=True)
class Measurement:
    name: str
    tags: tuple[str, ...]
    time: str  # the column holding the slice start: an hour_start timestamp or a date
    integer_fields: tuple[str, ...]
    float_fields: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[str, ...]:
        return (*self.tags, self.time)

    @property
    def fields(self) -> tuple[str, ...]:
        return (*self.integer_fields, *self.float_fields)


def measurement_of(spec: TableSpec) -> Measurement:
    """A gold table's measurement: tags are its key but the time, fields its integer and double columns."""
    return Measurement(
        name=spec.name.split(".")[1],
        tags=tuple(column for column in spec.key if column != spec.time),
        time=spec.time,
        integer_fields=tuple(spec.integer_names),
        float_fields=tuple(spec.names_of_type("double")),
    )


MEASUREMENTS = {
    spec.name: measurement_of(spec)
    for spec in (MERCHANT_HOURLY, MERCHANT_DAILY, MERCHANT_HOURLY_SALES, MERCHANT_HOURLY_CHANNEL_SALES)
}


@dataclass(frozen=True)
class SearchIndex:
    name: str  # the alias readers query; monthly indices are `<name>-yyyy.MM`
    key: tuple[str, ...]  # the row's key, in document id order
    time: str  # the slice start (a date), which also picks the monthly index
    columns: tuple[tuple[str, str], ...]  # the gold table's published (name, Spark type)
    full_text: tuple[str, ...] = ()  # string columns searched as text

    def alias(self, prefix: str) -> str:
        return f"{prefix}-{self.name}"

    @property
    def document_fields(self) -> list[str]:
        """The columns a document carries: the table's published ones."""
        return [name for name, _ in self.columns]


def index_of(spec: TableSpec, full_text: tuple[str, ...] = ()) -> SearchIndex:
    """A gold table's index: named after the table (`product_daily` -> `product-daily`), its key the table's."""
    name = spec.name.split(".")[1].replace("_", "-")
    return SearchIndex(name, spec.key, spec.time, spec.published_columns, full_text)


INDICES = {
    PRODUCT_DAILY.name: index_of(PRODUCT_DAILY, full_text=("name",)),
    MERCHANT_DAILY.name: index_of(MERCHANT_DAILY),
}


def product_search(
    merchant_id: str, text: str, size: int = 100, first: date | None = None, last: date | None = None
) -> dict:
    """The query for one merchant's products whose name matches `text` (full text, best match first), on days from
    `first` to `last` (inclusive) if given. The merchant is a filter, not a scored clause: another merchant's product
    never matches, however good its name. `text` is only ever the value of a `match` clause, which analyses it as
    words: no query syntax in it is interpreted."""
    filters: list[dict] = [{"term": {"merchant_id": merchant_id}}]
    if first is not None or last is not None:
        days = {bound: day.isoformat() for bound, day in (("gte", first), ("lte", last)) if day is not None}
        filters.append({"range": {"date": days}})
    return {"size": size, "query": {"bool": {"must": [{"match": {"name": text}}], "filter": filters}}}
