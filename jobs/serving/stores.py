"""What the portal reads: gold's points in InfluxDB and its product documents in OpenSearch, over one pooled HTTP
connection set each (httpx, asynchronous: a request waiting on a store holds no thread).

Nothing a client sends becomes query text. InfluxQL gets the merchant and the currency as bound parameters (`$name`,
sent apart from the query in `params`), and times as integers the portal computed; OpenSearch gets text only as the
value of a `match` clause inside a JSON structure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

import httpx
import msgspec

from jobs.runtime.settings import Login
from jobs.storage.published import INDICES, Measurement, product_search

TIMEOUT = httpx.Timeout(5.0, connect=2.0)
# Beyond this many connections to one store, requests queue in the pool rather than open more.
CONNECTIONS = 10


class StoreUnavailable(Exception):
    """A store could not be reached, or did not answer as a store in working order does."""


@dataclass(frozen=True)
class Series:
    tags: dict[str, str]
    columns: list[str]  # "time" (RFC 3339, UTC), then the fields asked for
    values: list[list]  # a point's values in column order (None where it has no such field), in time order


def _client(url: str, login: Login) -> httpx.AsyncClient:
    auth = (login.user, login.password.reveal()) if login else None
    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    # Uncompressed: on a local network gzip costs both ends more CPU than the bytes it saves.
    headers = {"Accept-Encoding": "identity"}
    return httpx.AsyncClient(base_url=url, auth=auth, timeout=TIMEOUT, limits=limits, headers=headers)


class MetricsStore:
    """InfluxDB's `/query` API (1.x, and 2.x/3.x and Timestream for InfluxDB through their v1 compatibility)."""

    def __init__(self, url: str, database: str, login: Login) -> None:
        self.url, self.database = url, database
        self.http = _client(url, login)

    async def series(
        self,
        measurement: Measurement,
        merchant_id: str,
        start: int,
        end: int,
        currency: str | None = None,
        group_by: tuple[str, ...] = (),
    ) -> list[Series]:
        """The merchant's points of `measurement` with start <= time < end (epoch seconds), one Series per value of
        the `group_by` tags, restricted to one currency if given."""
        fields = ", ".join(f'"{field}"' for field in measurement.fields)
        conditions = ['"merchant_id" = $merchant', f"time >= {int(start)}s", f"time < {int(end)}s"]
        params = {"merchant": merchant_id}
        if currency is not None:
            conditions.append('"currency" = $currency')
            params["currency"] = currency
        query = f'SELECT {fields} FROM "{measurement.name}" WHERE {" AND ".join(conditions)}'
        if group_by:
            query += " GROUP BY " + ", ".join(f'"{tag}"' for tag in group_by)
        answer = await self._query(query, params)
        return [
            Series(series.get("tags") or {}, series["columns"], series.get("values", []))
            for series in answer.get("series", [])
        ]

    async def _query(self, query: str, params: dict[str, str]) -> dict:
        form = {"db": self.database, "q": query, "params": json.dumps(params)}  # times come back in RFC 3339
        try:
            response = await self.http.post("/query", data=form)
        except httpx.HTTPError as error:
            raise StoreUnavailable(f"InfluxDB at {self.url}: {type(error).__name__}: {error}") from None
        if response.status_code != 200:
            raise StoreUnavailable(f"InfluxDB at {self.url} answered {response.status_code}: {response.text[:300]}")
        try:
            [result] = msgspec.json.decode(response.content)["results"]
        except (msgspec.DecodeError, KeyError, TypeError, ValueError):
            raise StoreUnavailable(f"InfluxDB at {self.url} answered what is not a query result") from None
        if "error" in result:
            raise StoreUnavailable(f"InfluxDB at {self.url}: {result['error'][:300]}")
        return result

    async def ready(self) -> bool:
        try:
            return (await self.http.get("/ping")).status_code == 204
        except httpx.HTTPError:
            return False

    async def close(self) -> None:
        await self.http.aclose()


class SearchStore:
    """OpenSearch's (or Elasticsearch's) `_search` API over the product index's alias."""

    def __init__(self, url: str, prefix: str, login: Login) -> None:
        self.url = url
        self.alias = INDICES["gold.product_daily"].alias(prefix)
        self.http = _client(url, login)

    async def products(
        self, merchant_id: str, text: str, size: int, first: date | None, last: date | None
    ) -> tuple[int, list[dict]]:
        """(how many product-days match, the best `size` of them as their documents). None published yet: (0, [])."""
        body = product_search(merchant_id, text, size, first, last)
        # A missing alias (nothing published yet) answers no hits instead of 404.
        params = {"ignore_unavailable": "true", "allow_no_indices": "true"}
        try:
            response = await self.http.post(f"/{self.alias}/_search", params=params, json=body)
        except httpx.HTTPError as error:
            raise StoreUnavailable(f"OpenSearch at {self.url}: {type(error).__name__}: {error}") from None
        if response.status_code != 200:
            raise StoreUnavailable(f"OpenSearch at {self.url} answered {response.status_code}: {response.text[:300]}")
        try:
            hits = msgspec.json.decode(response.content)["hits"]
            return hits["total"]["value"], [hit["_source"] for hit in hits["hits"]]
        except (msgspec.DecodeError, KeyError, TypeError):
            raise StoreUnavailable(f"OpenSearch at {self.url} answered what is not a search result") from None

    async def ready(self) -> bool:
        try:
            return (await self.http.get("/_cluster/health")).status_code == 200
        except httpx.HTTPError:
            return False

    async def close(self) -> None:
        await self.http.aclose()
