"""Gold rows as search documents in OpenSearch (or Elasticsearch: only APIs the two share are called).

One read alias per gold table (`<prefix>-product-daily`), over monthly indices (`<prefix>-product-daily-2026.11`)
that an index template creates on the first write, with explicit mappings: keys as keywords, times as dates,
metrics as numbers, a product name as text with a keyword sub-field. A document's id is a hash of its row's key
(`document_id`), so a republished row overwrites its document. The documents are built in the JVM and sent from
Spark partitions with the bulk API, in batches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.runtime.settings import Login, Settings
from jobs.sinks.delivery import Server, batches, deliver, sink_integer
from jobs.storage.published import INDICES, SearchIndex
from jobs.storage.tables import EXACT_SUM

BATCH_DOCUMENTS = 2_000
WRITERS = 2
NO_LOGIN = Login()
MONTH = "yyyy.MM"  # the monthly index suffix
TIMESTAMP_FORMAT = "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX"
# Lucene refuses a term over 32,766 bytes, and with it the whole document: a longer keyword (a SKU has no length
# limit in the contract) is kept in the document but not indexed. 8,191 characters fit whatever their UTF-8 size.
LONGEST_KEYWORD = 8_191
SPARK_TO_SEARCH_TYPES = {
    "string": {"type": "keyword", "ignore_above": LONGEST_KEYWORD},
    "date": {"type": "date", "format": "strict_date"},
    "timestamp": {"type": "date"},
    "bigint": {"type": "long"},
    EXACT_SUM: {"type": "long"},
    "int": {"type": "integer"},
    "double": {"type": "double"},
}
FULL_TEXT = {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}}


def mappings(index: SearchIndex) -> dict:
    """Explicit mappings for a gold table's documents; `strict` refuses a field the mapping does not name."""
    properties = {}
    for name, kind in index.columns:
        if kind not in SPARK_TO_SEARCH_TYPES:
            raise ValueError(f"{index.name}: no search type for column {name} ({kind})")
        properties[name] = FULL_TEXT if name in index.full_text else SPARK_TO_SEARCH_TYPES[kind]
    return {"dynamic": "strict", "properties": properties}


def index_template(index: SearchIndex, prefix: str) -> dict:
    """The composable template every monthly index of `index` is created from, with its read alias."""
    return {
        "index_patterns": [f"{index.alias(prefix)}-*"],
        "priority": 100,
        "template": {
            # One node here: a replica could never be placed and would keep the index yellow.
            "settings": {"number_of_shards": 1, "number_of_replicas": 0},
            "mappings": mappings(index),
            "aliases": {index.alias(prefix): {}},
        },
    }


def document_id(index: SearchIndex) -> Column:
    """The SHA-256 (64 hex characters) of the row's key, each part written `<length>:<text>` (`-` when null): far
    under OpenSearch's 512-byte id limit however long a SKU is, and never the same for two keys (the lengths keep
    merchant `a|b` with SKU `c` apart from merchant `a` with SKU `b|c`, which a plain `|` join would not)."""
    texts = [F.col(column).cast("string") for column in index.key]
    parts = [F.coalesce(F.concat(F.length(text), F.lit(":"), text), F.lit("-")) for text in texts]
    return F.sha2(F.concat_ws("|", *parts), 256)


def monthly_index(index: SearchIndex, prefix: str) -> Column:
    return F.concat(F.lit(f"{index.alias(prefix)}-"), F.date_format(F.col(index.time), MONTH))


def with_action(index: SearchIndex, prefix: str) -> Callable[[DataFrame], DataFrame]:
    """Gold rows -> `_index`, `_id` and `_source` (the document as JSON text, null fields left out)."""

    def transform(rows: DataFrame) -> DataFrame:
        # Microseconds, as gold holds them (Spark's default keeps milliseconds); the index keeps milliseconds.
        kinds = dict(index.columns)
        fields = [
            sink_integer(F.col(name)).alias(name) if kinds[name] == EXACT_SUM else F.col(name)
            for name in index.document_fields
        ]
        document = F.to_json(F.struct(*fields), {"timestampFormat": TIMESTAMP_FORMAT})
        return rows.select(
            monthly_index(index, prefix).alias("_index"),
            document_id(index).alias("_id"),
            document.alias("_source"),
        )

    return transform


def client(url: str, login: Login = NO_LOGIN, timeout: float = 30.0) -> Any:
    """An `opensearch-py` client for the cluster at `url`, logged in as `login` if given (HTTP basic
    authentication, as OpenSearch's security plugin and AWS's fine-grained access control take it)."""
    from opensearchpy import OpenSearch

    http_auth = (login.user, login.password.reveal()) if login else None
    # max_retries=0: one attempt per call; `deliver` decides when to try again.
    return OpenSearch(hosts=[url], http_auth=http_auth, timeout=timeout, max_retries=0, retry_on_timeout=False)


def _transient(error: BaseException) -> bool:
    """Worth retrying: the cluster cannot be reached, or says it is busy (429) or failing (5xx). A refused document
    (a mapping error) is not."""
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


def _describe(error: BaseException) -> str | None:
    """The client's errors are not OSErrors: each becomes one line."""
    from opensearchpy.exceptions import OpenSearchException
    from opensearchpy.helpers import BulkIndexError

    if isinstance(error, BulkIndexError):
        return f"refused {len(error.errors)} documents: {error.errors[0]}"
    return str(error) if isinstance(error, OpenSearchException) else None


def server(url: str) -> Server:
    return Server(f"OpenSearch at {url}", _transient, _describe)


def bulk(url: str, login: Login, actions: Iterable[dict], max_wait_seconds: float, deleting: bool = False) -> int:
    """Send bulk actions in batches of BATCH_DOCUMENTS; returns how many were acknowledged. Runs in a Spark task.

    A batch is sent again whole after a transient error: its actions carry their ids, so that is safe. Any other
    refusal ends the publish with one line naming the first refused document."""
    from opensearchpy import helpers

    search = client(url, login)
    # A delete of a document that is already gone answers 404: the outcome wanted. A write never may.
    ignored = (404,) if deleting else ()
    done = 0
    for batch in batches(actions, BATCH_DOCUMENTS):
        acknowledged, _ = deliver(
            server(url),
            partial(helpers.bulk, search, batch, chunk_size=len(batch), ignore_status=ignored),
            max_wait_seconds,
        )
        if not deleting and acknowledged != len(batch):
            raise RuntimeError(f"OpenSearch at {url} acknowledged {acknowledged} of {len(batch)} documents")
        done += acknowledged
    return done


class SearchSink:
    """The `opensearch` sink of `lakehouse publish`."""

    name = "opensearch"
    targets = INDICES

    def prepare(self, settings: Settings) -> None:
        """Put every index template (idempotent: a template is replaced by the same one)."""
        search = client(settings.opensearch_url, settings.opensearch_login)
        for index in INDICES.values():
            name, body = index.alias(settings.opensearch_prefix), index_template(index, settings.opensearch_prefix)
            deliver(
                server(settings.opensearch_url),
                partial(search.indices.put_index_template, name=name, body=body),
                settings.publish_max_wait_seconds,
            )

    def write(self, settings: Settings, table: str, rows: DataFrame) -> int:
        url, login, wait = settings.opensearch_url, settings.opensearch_login, settings.publish_max_wait_seconds
        actions = rows.transform(with_action(INDICES[table], settings.opensearch_prefix)).repartition(WRITERS)
        return actions.rdd.mapPartitions(lambda part: [bulk(url, login, (row.asDict() for row in part), wait)]).sum()

    def held_keys(self, spark: SparkSession, settings: Settings, table: str) -> DataFrame:
        """The key of every document behind the table's alias (a full scroll, through the driver: only a publish
        without a change feed needs it)."""
        from opensearchpy import helpers

        index = INDICES[table]
        search = client(settings.opensearch_url, settings.opensearch_login)
        alias = index.alias(settings.opensearch_prefix)
        kinds = dict(index.columns)
        schema = ", ".join(f"`{column}` string" for column in index.key)

        def keys() -> list[tuple]:
            if not search.indices.exists_alias(name=alias):  # nothing published yet
                return []
            search.indices.refresh(index=alias)
            hits = helpers.scan(search, index=alias, query={"_source": list(index.key)})
            return [tuple(hit["_source"].get(column) for column in index.key) for hit in hits]

        held = spark.createDataFrame(
            deliver(server(settings.opensearch_url), keys, settings.publish_max_wait_seconds), schema
        )
        return held.select(*[F.col(column).cast(kinds[column]).alias(column) for column in index.key])

    def delete(self, settings: Settings, table: str, gone: DataFrame) -> int:
        url, wait = settings.opensearch_url, settings.publish_max_wait_seconds
        index = INDICES[table]
        ids = gone.select(
            monthly_index(index, settings.opensearch_prefix).alias("_index"), document_id(index).alias("_id")
        )
        deletes = [{"_op_type": "delete", **row.asDict()} for row in ids.collect()]  # a few per recompute
        return bulk(url, settings.opensearch_login, deletes, wait, deleting=True)
