"""What the sinks hold against what gold holds, in one shape each, for "the sink equals gold" assertions."""

from __future__ import annotations

from datetime import date, datetime

from opensearchpy import helpers

from jobs.sinks.influx import MEASUREMENTS
from jobs.sinks.search import INDICES
from jobs.storage.delta import read_table


def influx_points(client, database: str) -> dict[str, dict[tuple, dict]]:
    """Every point of every measurement, by (tags..., time)."""
    result = {}
    for table, measurement in MEASUREMENTS.items():
        points = client.query(f'SELECT * FROM "{measurement.name}"', database=database).get_points()
        result[table] = {
            (*[p[tag] for tag in measurement.tags], p["time"]): {
                f: p.get(f) for f in (*measurement.integer_fields, *measurement.float_fields)
            }
            for p in points
        }
    return result


def gold_points(spark, settings) -> dict[str, dict[tuple, dict]]:
    """The same shape, from the gold tables."""
    result = {}
    for table, measurement in MEASUREMENTS.items():
        rows = read_table(spark, settings, table).collect()
        result[table] = {}
        for row in rows:
            moment = row[measurement.time]
            stamp = f"{moment:%Y-%m-%dT%H:%M:%SZ}" if isinstance(moment, datetime) else f"{moment}T00:00:00Z"
            fields = {f: row[f] for f in (*measurement.integer_fields, *measurement.float_fields)}
            result[table][(*[row[tag] for tag in measurement.tags], stamp)] = fields
    return result


def search_documents(client, prefix: str) -> dict[str, dict[tuple, dict]]:
    """Every document behind each table's alias, by its row's key (a tuple), as it reads back (dates and times as
    datetime). Two rows sharing a document id would show as one document missing."""
    client.cluster.health(index=f"{prefix}-*", wait_for_status="yellow")  # new indices' shards
    client.indices.refresh(index=f"{prefix}-*")
    result = {}
    for table, index in INDICES.items():
        if not client.indices.exists_alias(name=index.alias(prefix)):  # nothing published yet
            result[table] = {}
            continue
        hits = helpers.scan(client, index=index.alias(prefix), query={"query": {"match_all": {}}})
        documents = [_read_times(hit["_source"]) for hit in hits]
        result[table] = {tuple(document[column] for column in index.key): document for document in documents}
    return result


def _read_times(document: dict) -> dict:
    values = dict(document)
    values["date"] = date.fromisoformat(values["date"])
    if "updated_at" in values:
        values["updated_at"] = datetime.fromisoformat(values["updated_at"]).timestamp()
    return values


def first_difference(actual: dict[str, dict], expected: dict[str, dict]) -> str:
    """'' when equal, else the first table and key that differ: a readable failure for thousands of records."""
    for table in sorted(set(actual) | set(expected)):
        mine, theirs = actual.get(table, {}), expected.get(table, {})
        for key in sorted(set(mine) | set(theirs), key=str):
            if mine.get(key) != theirs.get(key):
                return f"{table} {key}: sink {mine.get(key)} != gold {theirs.get(key)}"
    return ""


def gold_documents(spark, settings) -> dict[str, dict[tuple, dict]]:
    """The same shape, from the gold tables: the published columns but null ones, by key."""
    result = {}
    for table, index in INDICES.items():
        result[table] = {}
        for row in read_table(spark, settings, table).select(*index.document_fields).collect():
            values = {k: v for k, v in row.asDict().items() if v is not None}
            if "updated_at" in values:
                values["updated_at"] = values["updated_at"].timestamp()
            result[table][tuple(row[column] for column in index.key)] = values
    return result
