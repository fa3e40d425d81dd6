"""Gold rows as search documents in OpenSearch (or Elasticsearch: only APIs the two share are called).

One read alias per gold table (`<prefix>-product-daily`), over monthly indices (`<prefix>-product-daily-2026.11`)
that an index template creates on the first write, with explicit mappings: keys as keywords, times as dates,
metrics as numbers, a product name as text with a keyword sub-field. A document's id is its row's key joined by
`|` (`merchant|2026-11-24|EUR|sku-1`), so a republished row overwrites its document. The documents are built in
the JVM and sent from Spark partitions with the bulk API, in batches.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import BinaryType, StructType
from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_exponential

from jobs.settings import Settings
from jobs.sinks.batching import batches

BATCH_DOCUMENTS = 2_000
WRITERS = 2
MONTH = "yyyy.MM"  # the monthly index suffix
TIMESTAMP_FORMAT = "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX"
SPARK_TO_SEARCH_TYPES = {
    "string": {"type": "keyword"},
    "date": {"type": "date", "format": "strict_date"},
    "timestamp": {"type": "date"},
    "bigint": {"type": "long"},
    "int": {"type": "integer"},
    "double": {"type": "double"},
}
FULL_TEXT = {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}}


@dataclass(frozen=True)
class SearchIndex:
    name: str  # the alias readers query; monthly indices are `<name>-yyyy.MM`
    key: tuple[str, ...]  # the row's key, in document id order
    time: str  # the slice start (a date), which also picks the monthly index
    full_text: tuple[str, ...] = ()  # string columns searched as text

    def alias(self, prefix: str) -> str:
        return f"{prefix}-{self.name}"


INDICES = {
    "gold.product_daily": SearchIndex(
        "product-daily", ("merchant_id", "date", "currency", "sku"), "date", full_text=("name",)
    ),
    "gold.merchant_daily": SearchIndex("merchant-daily", ("merchant_id", "date"), "date"),
}


def document_fields(schema: StructType) -> list[str]:
    """The columns a document carries: all but the binary ones (the sketches, which only gold needs)."""
    return [field.name for field in schema.fields if not isinstance(field.dataType, BinaryType)]


def mappings(index: SearchIndex, schema: StructType) -> dict:
    """Explicit mappings for a gold table's documents; `strict` refuses a field the mapping does not name."""
    properties = {}
    for field in schema.fields:
        if field.name not in document_fields(schema):
            continue
        spark_type = field.dataType.simpleString()
        if spark_type not in SPARK_TO_SEARCH_TYPES:
            raise ValueError(f"{index.name}: no search type for column {field.name} ({spark_type})")
        properties[field.name] = FULL_TEXT if field.name in index.full_text else SPARK_TO_SEARCH_TYPES[spark_type]
    return {"dynamic": "strict", "properties": properties}


def index_template(index: SearchIndex, prefix: str, schema: StructType) -> dict:
    """The composable template every monthly index of `index` is created from, with its read alias."""
    return {
        "index_patterns": [f"{index.alias(prefix)}-*"],
        "priority": 100,
        "template": {
            # One node here: a replica could never be placed and would keep the index yellow.
            "settings": {"number_of_shards": 1, "number_of_replicas": 0},
            "mappings": mappings(index, schema),
            "aliases": {index.alias(prefix): {}},
        },
    }


def document_id(index: SearchIndex) -> Column:
    return F.concat_ws("|", *[F.col(column).cast("string") for column in index.key])


def monthly_index(index: SearchIndex, prefix: str) -> Column:
    return F.concat(F.lit(f"{index.alias(prefix)}-"), F.date_format(F.col(index.time), MONTH))


def with_action(index: SearchIndex, prefix: str):
    """Gold rows -> `_index`, `_id` and `_source` (the document as JSON text, null fields left out)."""

    def transform(rows: DataFrame) -> DataFrame:
        # Microseconds, as gold holds them (Spark's default keeps milliseconds); the index keeps milliseconds.
        document = F.to_json(F.struct(*document_fields(rows.schema)), {"timestampFormat": TIMESTAMP_FORMAT})
        return rows.select(
            monthly_index(index, prefix).alias("_index"),
            document_id(index).alias("_id"),
            document.alias("_source"),
        )

    return transform


def product_search(merchant_id: str, text: str, size: int = 100) -> dict:
    """The query for one merchant's products whose name matches `text` (full text, best match first). The merchant
    is a filter, not a scored clause: another merchant's product never matches, however good its name."""
    return {
        "size": size,
        "query": {"bool": {"must": [{"match": {"name": text}}], "filter": [{"term": {"merchant_id": merchant_id}}]}},
    }


def client(url: str, timeout: float = 30.0):
    """An `opensearch-py` client for the cluster at `url`."""
    from opensearchpy import OpenSearch

    # max_retries=0: one attempt per call; the backoff below decides when to try again.
    return OpenSearch(hosts=[url], timeout=timeout, max_retries=0, retry_on_timeout=False)


def _transient(error: BaseException) -> bool:
    """Worth retrying: the cluster cannot be reached, or says it is busy (429) or failing (5xx)."""
    from opensearchpy.exceptions import ConnectionError as SearchConnectionError
    from opensearchpy.exceptions import TransportError
    from opensearchpy.helpers import BulkIndexError

    if isinstance(error, (SearchConnectionError, OSError)):
        return True
    if isinstance(error, BulkIndexError):
        statuses = {next(iter(item.values())).get("status", 500) for item in error.errors}
        return all(status == 429 or status >= 500 for status in statuses)
    return (
        isinstance(error, TransportError)
        and isinstance(error.status_code, int)
        and (error.status_code == 429 or error.status_code >= 500)
    )


def retrying(max_wait_seconds: float) -> Retrying:
    """Transient errors are retried with exponential backoff (0.5 s doubling to 8 s) until `max_wait_seconds` have
    passed; then the last error is raised. A refused document (a mapping error) is not retried."""
    return Retrying(
        retry=retry_if_exception(_transient),
        wait=wait_exponential(multiplier=0.5, max=8),
        stop=stop_after_delay(max_wait_seconds),
        reraise=True,
    )


@contextmanager
def failures_named(url: str) -> Iterator[None]:
    """The client's errors (after their retries) as one RuntimeError line naming the cluster: they are not
    OSErrors, and a job reports that line, in the driver and from a Spark task alike."""
    from opensearchpy.exceptions import OpenSearchException
    from opensearchpy.helpers import BulkIndexError

    try:
        yield
    except BulkIndexError as error:
        raise RuntimeError(f"OpenSearch at {url} refused {len(error.errors)} documents: {error.errors[0]}") from None
    except OpenSearchException as error:
        raise RuntimeError(f"OpenSearch at {url}: {error}") from error


def bulk(url: str, actions: Iterable[dict], max_wait_seconds: float, deleting: bool = False) -> int:
    """Send bulk actions in batches of BATCH_DOCUMENTS; returns how many were acknowledged. Runs in a Spark task.

    A batch is sent again whole after a transient error: its actions carry their ids, so that is safe. Any other
    refusal ends the publish with one line naming the first refused document."""
    from opensearchpy import helpers

    search = client(url)
    # A delete of a document that is already gone answers 404: the outcome wanted. A write never may.
    ignored = (404,) if deleting else ()
    done = 0
    for batch in batches(actions, BATCH_DOCUMENTS):
        with failures_named(url):
            for attempt in retrying(max_wait_seconds):
                with attempt:
                    acknowledged, _ = helpers.bulk(search, batch, chunk_size=len(batch), ignore_status=ignored)
        if not deleting and acknowledged != len(batch):
            raise RuntimeError(f"OpenSearch at {url} acknowledged {acknowledged} of {len(batch)} documents")
        done += acknowledged
    return done


class SearchSink:
    """The `opensearch` sink of `lakehouse publish`."""

    name = "opensearch"
    targets = INDICES

    def prepare(self, settings: Settings, schemas: dict[str, StructType]) -> None:
        """Put every index template (idempotent: a template is replaced by the same one)."""
        search = client(settings.opensearch_url)
        with failures_named(settings.opensearch_url):
            for table, index in INDICES.items():
                body = index_template(index, settings.opensearch_prefix, schemas[table])
                for attempt in retrying(settings.publish_max_wait_seconds):
                    with attempt:
                        search.indices.put_index_template(name=index.alias(settings.opensearch_prefix), body=body)

    def write(self, settings: Settings, table: str, rows: DataFrame) -> int:
        url, wait = settings.opensearch_url, settings.publish_max_wait_seconds
        actions = rows.transform(with_action(INDICES[table], settings.opensearch_prefix)).repartition(WRITERS)
        return actions.rdd.mapPartitions(lambda part: [bulk(url, (row.asDict() for row in part), wait)]).sum()

    def delete(self, settings: Settings, table: str, gone: DataFrame) -> int:
        url, wait = settings.opensearch_url, settings.publish_max_wait_seconds
        index = INDICES[table]
        ids = gone.select(
            monthly_index(index, settings.opensearch_prefix).alias("_index"), document_id(index).alias("_id")
        )
        deletes = [{"_op_type": "delete", **row.asDict()} for row in ids.collect()]  # a few per recompute
        return bulk(url, deletes, wait, deleting=True)
