"""A real `lakehouse serve portal` over published gold, with keys for two merchants, for the portal's tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from jobs.runtime.settings import Settings
from jobs.services import influxdb
from jobs.services.influxdb import InfluxService
from jobs.serving.keys import KeyStore
from jobs.storage.delta import read_table
from testkit.serving import serving


@dataclass(frozen=True)
class Portal:
    url: str
    published: Settings  # the lakehouse whose gold the stores hold
    merchant: str  # the merchant the tests sign in as
    key: str  # its read key
    other: str  # a second merchant, whose data `key` must never reach
    other_key: str
    ingest_key: str  # the first merchant's ingest key: not a read key
    revoked_key: str  # a read key of the first merchant, revoked
    log: Path

    def get(self, path: str, params: dict | list | None = None, key: str | None = None, **headers: str):
        headers = {"Authorization": f"Bearer {self.key if key is None else key}", **headers}
        return requests.get(f"{self.url}{path}", params=params, headers=headers, timeout=30)


def two_merchants(spark: SparkSession, settings: Settings) -> tuple[str, str]:
    """The two merchants with the most currencies and then the most hours in gold: the richest dashboards."""
    sales = read_table(spark, settings, "gold.merchant_hourly_sales")
    ranked = (
        sales.groupBy("merchant_id")
        .agg(F.countDistinct("currency").alias("currencies"), F.count("*").alias("rows"))
        .orderBy(F.desc("currencies"), F.desc("rows"), "merchant_id")
        .limit(2)
        .collect()
    )
    assert [row.currencies >= 2 for row in ranked] == [True, True], ranked
    return ranked[0].merchant_id, ranked[1].merchant_id


@contextmanager
def portal_server(
    published: Settings, influx: InfluxService, root: Path, merchant: str, other: str, env: dict | None = None
) -> Iterator[Portal]:
    """The portal on a free port, reading the stores `published` wrote to, as InfluxDB's `reader`."""
    keys = KeyStore(root / "keys.sqlite")
    _, key = keys.create(merchant, "read")
    _, other_key = keys.create(other, "read")
    _, ingest_key = keys.create(merchant, "ingest")
    revoked_id, revoked_key = keys.create(merchant, "read")
    keys.revoke(revoked_id)
    stores = {
        "LAKEHOUSE_KEYS": str(keys.path),
        "LAKEHOUSE_INFLUXDB_URL": published.influxdb_url,
        "LAKEHOUSE_INFLUXDB_DATABASE": published.influxdb_database,
        "LAKEHOUSE_INFLUXDB_USER": influxdb.READER,
        "LAKEHOUSE_INFLUXDB_PASSWORD_FILE": str(influx.password_file(influxdb.READER)),
        "LAKEHOUSE_OPENSEARCH_URL": published.opensearch_url,
        "LAKEHOUSE_OPENSEARCH_PREFIX": published.opensearch_prefix,
    }
    log = root / "portal.log"
    with serving("portal", stores | (env or {}), log) as (url, _process):
        yield Portal(url, published, merchant, key, other, other_key, ingest_key, revoked_key, log)
