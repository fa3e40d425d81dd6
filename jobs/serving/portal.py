"""The merchant portal (DESIGN.md §7): each merchant reads its own published numbers, as JSON and as a dashboard.

    GET /v1/metrics/hourly?from=<RFC 3339>&to=<RFC 3339>        at most 31 days, from <= hour_start < to
    GET /v1/metrics/daily?from=<date>&to=<date>                 at most 366 days, both days included
    GET /v1/sales/hourly?from=…&to=…[&currency=XXX]             per currency: minor units and the exponent
    GET /v1/products/search?q=<text>[&from=<date>&to=<date>][&size=N]
    GET /                the dashboard page; GET /openapi.json   this API described
    GET /healthz, /readyz (both stores answer), /metrics (Prometheus)

Every /v1 request carries `Authorization: Bearer <read key>`, and the merchant is the key's: no endpoint takes a
merchant from the client, and a parameter the endpoint does not name is refused. Checks in order: the route (404,
405), the key (401), the parameters (400), then the stores (503 while one cannot answer). It reads only InfluxDB and
OpenSearch, never the lake (jobs/serving/stores.py).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import msgspec
from async_lru import alru_cache
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from jobs.serving.keys import KeyStore
from jobs.serving.openapi import (
    DEFAULT_SEARCH_SIZE,
    MAX_DAILY_DAYS,
    MAX_HOURLY_DAYS,
    MAX_SEARCH_SIZE,
    MAX_SEARCH_TEXT,
    portal_openapi,
)
from jobs.serving.stores import MetricsStore, SearchStore, Series, StoreUnavailable
from jobs.serving.web import Refused, http_error, log_request, merchant_of_request, refusal
from jobs.storage.currencies import exponent_of
from jobs.storage.published import MEASUREMENTS

log = logging.getLogger("lakehouse.portal")

DASHBOARD = Path(__file__).parent / "dashboard"
CHART_LIBRARY = DASHBOARD / "node_modules" / "chart.js" / "dist"
RETRY_AFTER_UNAVAILABLE_SECONDS = 5
# How long an answer is served again to the same merchant's same request: the freshness it costs (gold is
# published hourly, aimed at a minute) buys the latency of 50 dashboards at once (docs/performance.md).
CACHE_SECONDS = 10
CACHED_ANSWERS = 1024  # at most ~100 KB each (a 31-day hourly series)
# InfluxDB keeps nanoseconds in 64 bits: its times end in April 2262.
EARLIEST, LATEST = datetime(1970, 1, 1, tzinfo=UTC), datetime(2262, 1, 1, tzinfo=UTC)
RFC_3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([Zz]|[+-]\d{2}:\d{2})", re.ASCII)
DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
CURRENCY = re.compile(r"[A-Z]{3}")
SIZE = re.compile(r"[0-9]{1,3}")
API_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
# The page loads its script, styles and chart library from this app only, and talks only to it.
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HOURLY = MEASUREMENTS["gold.merchant_hourly"]
DAILY = MEASUREMENTS["gold.merchant_daily"]
SALES = MEASUREMENTS["gold.merchant_hourly_sales"]


# --- parameters: each a pure function of the query string, raising Refused(400) with what was expected -----------


Query = tuple[tuple[str, str], ...]  # a request's query parameters, (name, value) in the order given


def parameters(query: Query, allowed: tuple[str, ...], required: tuple[str, ...]) -> dict[str, str]:
    """The query's parameters, each given once, none that the endpoint does not name, every required one there."""
    given: dict[str, str] = {}
    for name, value in query:
        if name not in allowed:
            # The name is not repeated back: nothing a client sends is echoed in an answer.
            raise Refused(400, f"unknown parameter; this endpoint takes {', '.join(allowed)}")
        if name in given:
            raise Refused(400, f"parameter {name!r} is given more than once")
        given[name] = value
    if missing := [name for name in required if name not in given]:
        raise Refused(400, f"missing parameter {missing[0]!r}")
    return given


def instant(name: str, text: str) -> datetime:
    """An RFC 3339 time with its offset, as UTC."""
    if not RFC_3339.fullmatch(text):
        raise Refused(400, f"{name} must be an RFC 3339 time such as 2026-11-22T13:00:00Z (a + written %2B)")
    try:
        moment = datetime.fromisoformat(text.upper().replace("Z", "+00:00")).astimezone(UTC)
    except (ValueError, OverflowError):  # an offset can push year 1 or 9999 out of range
        raise Refused(400, f"{name} is not a real time") from None
    if not EARLIEST <= moment < LATEST:
        raise Refused(400, f"{name} must be between {EARLIEST:%Y} and {LATEST:%Y}")
    return moment


def day(name: str, text: str) -> date:
    if not DAY.fullmatch(text):
        raise Refused(400, f"{name} must be a date such as 2026-11-22")
    try:
        found = date.fromisoformat(text)
    except ValueError:
        raise Refused(400, f"{name} is not a real date") from None
    if not EARLIEST.date() <= found < LATEST.date():
        raise Refused(400, f"{name} must be between {EARLIEST:%Y} and {LATEST:%Y}")
    return found


@dataclass(frozen=True)
class Window:
    """From `start` (included) to `end` (excluded), both whole seconds of UTC."""

    start: datetime
    end: datetime

    @property
    def seconds(self) -> tuple[int, int]:
        return int(self.start.timestamp()), int(self.end.timestamp())


def hourly_window(given: dict[str, str]) -> Window:
    start, end = instant("from", given["from"]), instant("to", given["to"])
    if end <= start:
        raise Refused(400, "to must be later than from")
    if end - start > timedelta(days=MAX_HOURLY_DAYS):
        raise Refused(400, f"at most {MAX_HOURLY_DAYS} days from from to to")
    return Window(start, end)


def daily_window(given: dict[str, str], required: bool = True) -> Window | None:
    """Days `from` to `to`, both included. Optional where not `required`: None when neither is given."""
    if not required and "from" not in given and "to" not in given:
        return None
    if "from" not in given or "to" not in given:
        raise Refused(400, "give both from and to, or neither")
    first, last = day("from", given["from"]), day("to", given["to"])
    if last < first:
        raise Refused(400, "to must not be earlier than from")
    if (last - first).days + 1 > MAX_DAILY_DAYS:
        raise Refused(400, f"at most {MAX_DAILY_DAYS} days from from to to")
    midnight = datetime.min.time()
    return Window(datetime.combine(first, midnight, UTC), datetime.combine(last + timedelta(days=1), midnight, UTC))


def currency(given: dict[str, str]) -> str | None:
    if "currency" not in given:
        return None
    if not CURRENCY.fullmatch(given["currency"]):
        raise Refused(400, "currency must be an ISO 4217 code such as EUR")
    return given["currency"]


def search_text(given: dict[str, str]) -> str:
    text = given["q"].strip()
    if not text or len(text) > MAX_SEARCH_TEXT:
        raise Refused(400, f"q must hold 1 to {MAX_SEARCH_TEXT} characters")
    return text


def search_size(given: dict[str, str]) -> int:
    text = given.get("size", str(DEFAULT_SEARCH_SIZE))
    if not SIZE.fullmatch(text) or not 1 <= int(text) <= MAX_SEARCH_SIZE:
        raise Refused(400, f"size must be a whole number from 1 to {MAX_SEARCH_SIZE}")
    return int(text)


# --- answers ------------------------------------------------------------------------------------------------------


def rfc_3339(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"


def hour_points(series: Series) -> list[dict]:
    """InfluxDB's points with their time named `hour_start` (RFC 3339 from InfluxDB: whole hours, `Z`)."""
    columns = ["hour_start", *series.columns[1:]]
    return [dict(zip(columns, values, strict=True)) for values in series.values]


def day_points(series: Series) -> list[dict]:
    """InfluxDB's points with their time as a `date` (midnight UTC, so its first ten characters)."""
    columns = series.columns[1:]
    return [{"date": values[0][:10], **dict(zip(columns, values[1:], strict=True))} for values in series.values]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "portal_requests", "/v1 requests by route and status", ["route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "portal_request_seconds",
            "from a /v1 request's arrival to its answer",
            ["route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=self.registry,
        )


Handler = Callable[[Query, str], Awaitable[dict]]


def portal_app(keys: KeyStore, metrics_store: MetricsStore, search_store: SearchStore) -> Starlette:
    metrics = Metrics()

    @alru_cache(maxsize=CACHED_ANSWERS, ttl=CACHE_SECONDS)
    async def cached_answer(handler: Handler, query: Query, merchant_id: str) -> bytes:
        """The handler's answer as JSON (msgspec: a 720-point series in a fifth of the standard library's time),
        kept CACHE_SECONDS: a dashboard's requests, repeated by every open page, cost the stores one query, and
        identical requests arriving together share it. A refusal or a store's failure is not kept."""
        return msgspec.json.encode(await handler(query, merchant_id))

    def endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        """A /v1 route: the key's merchant, then `handler(query, merchant)`'s JSON, or its refusal."""

        async def answer(request: Request) -> Response:
            started = time.perf_counter()
            merchant_id = None
            try:
                merchant_id = await merchant_of_request(keys, request, "read", log)
                query = tuple(request.query_params.multi_items())
                body = await cached_answer(handler, query, merchant_id)
                response: Response = Response(body, media_type="application/json", headers=API_HEADERS)
            except Refused as refused:
                response = refusal(refused)
            except StoreUnavailable as error:
                log.warning(json.dumps({"store_error": str(error)[:500]}))
                response = refusal(
                    Refused(503, "a store is unavailable; try again shortly", RETRY_AFTER_UNAVAILABLE_SECONDS)
                )
            route = request.url.path
            metrics.requests.labels(route, str(response.status_code)).inc()
            metrics.latency.labels(route).observe(time.perf_counter() - started)
            log_request(log, request, response.status_code, started, merchant=merchant_id)
            return response

        return answer

    async def hourly_metrics(query: Query, merchant_id: str) -> dict:
        window = hourly_window(parameters(query, ("from", "to"), ("from", "to")))
        series = await metrics_store.series(HOURLY, merchant_id, *window.seconds)
        points = hour_points(series[0]) if series else []
        return {
            "merchant_id": merchant_id,
            "from": rfc_3339(window.start),
            "to": rfc_3339(window.end),
            "points": points,
        }

    async def daily_metrics(query: Query, merchant_id: str) -> dict:
        window = daily_window(parameters(query, ("from", "to"), ("from", "to")))
        assert window is not None
        series = await metrics_store.series(DAILY, merchant_id, *window.seconds)
        points = day_points(series[0]) if series else []
        last = window.end - timedelta(days=1)
        return {
            "merchant_id": merchant_id,
            "from": f"{window.start:%Y-%m-%d}",
            "to": f"{last:%Y-%m-%d}",
            "points": points,
        }

    async def hourly_sales(query: Query, merchant_id: str) -> dict:
        given = parameters(query, ("from", "to", "currency"), ("from", "to"))
        window, only = hourly_window(given), currency(given)
        series = await metrics_store.series(SALES, merchant_id, *window.seconds, currency=only, group_by=("currency",))
        currencies = [
            {"currency": code, "exponent": exponent_of(code), "points": hour_points(one)}
            for one in sorted(series, key=lambda one: one.tags.get("currency", ""))
            if (code := one.tags.get("currency", ""))
        ]
        return {
            "merchant_id": merchant_id,
            "from": rfc_3339(window.start),
            "to": rfc_3339(window.end),
            "currencies": currencies,
        }

    async def products(query: Query, merchant_id: str) -> dict:
        given = parameters(query, ("q", "from", "to", "size"), ("q",))
        text, size, window = search_text(given), search_size(given), daily_window(given, required=False)
        first, last = (window.start.date(), (window.end - timedelta(days=1)).date()) if window else (None, None)
        total, documents = await search_store.products(merchant_id, text, size, first, last)
        found = [
            {**document, "exponent": exponent_of(document.get("currency", ""))}
            for document in documents
            if document.get("merchant_id") == merchant_id  # the query filters on it; this only makes sure
        ]
        return {"merchant_id": merchant_id, "total": total, "products": found}

    async def dashboard(_request: Request) -> Response:
        return FileResponse(DASHBOARD / "index.html", headers={"Content-Security-Policy": PAGE_POLICY})

    async def openapi(_request: Request) -> Response:
        return JSONResponse(portal_openapi())

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"alive": True})

    async def readyz(_request: Request) -> Response:
        stores = {"influxdb": await metrics_store.ready(), "opensearch": await search_store.ready()}
        return JSONResponse({"ready": all(stores.values()), **stores}, status_code=200 if all(stores.values()) else 503)

    async def prometheus(_request: Request) -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    async def internal_error(request: Request, error: Exception) -> Response:
        # A bug's last line of defence: logged here, and the client gets one line, never a stack trace.
        log.exception("unexpected error on %s", request.url.path)
        return JSONResponse({"error": "internal error"}, status_code=500)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await metrics_store.close()
        await search_store.close()

    get = ["GET"]
    return Starlette(
        exception_handlers={HTTPException: http_error, Exception: internal_error},
        routes=[
            Route("/v1/metrics/hourly", endpoint(hourly_metrics), methods=get),
            Route("/v1/metrics/daily", endpoint(daily_metrics), methods=get),
            Route("/v1/sales/hourly", endpoint(hourly_sales), methods=get),
            Route("/v1/products/search", endpoint(products), methods=get),
            Route("/", dashboard, methods=get),
            Mount("/static", StaticFiles(directory=DASHBOARD / "static")),
            Mount("/vendor/chart.js", StaticFiles(directory=CHART_LIBRARY, check_dir=False)),
            Route("/openapi.json", openapi, methods=get),
            Route("/healthz", healthz, methods=get),
            Route("/readyz", readyz, methods=get),
            Route("/metrics", prometheus, methods=get),
        ],
        lifespan=lifespan,
    )
