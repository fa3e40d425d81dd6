"""The ingestion API (DESIGN.md §6): stores POST their events, which go to the stream once each is acknowledged.

    POST /v1/events   Authorization: Bearer <ingest key>; a JSON array or JSON Lines of event objects
    GET  /healthz     the process is alive
    GET  /readyz      the stream is reachable
    GET  /metrics     Prometheus text: requests by status, events accepted, the stream's acknowledgement latency

Checks in this order, and the first that fails answers: the key (401), the content type (415), the size (413), the
body's shape (400; more than 500 events 413), every event's merchant is the key's (403), the merchant's rate (429),
then the stream (503 if it does not acknowledge every event; 200 once it has). Nothing of a refused request is sent
on. One JSON log line per request, without keys or payloads.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from jobs.serving.batches import MAX_BYTES, MAX_EVENTS, events_of, media_type
from jobs.serving.keys import KeyStore
from jobs.serving.streams import EventStream, StreamUnavailable
from jobs.serving.web import Refused, http_error, log_request, merchant_of_request, refusal

log = logging.getLogger("lakehouse.ingest")
RETRY_AFTER_UNAVAILABLE_SECONDS = 2


@dataclass
class RateLimiter:
    """A token bucket per merchant: `rate` events a second, bursts of two seconds' worth (at least a full request)."""

    rate: float
    buckets: dict[str, tuple[float, float]] = field(default_factory=dict)  # merchant -> (tokens, when)

    @property
    def capacity(self) -> float:
        return max(2 * self.rate, MAX_EVENTS)

    def take(self, merchant_id: str, events: int, now: float) -> float:
        """0 if the merchant may send `events` now (and they are counted), else the seconds until it may."""
        tokens, then = self.buckets.get(merchant_id, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - then) * self.rate)
        if tokens < events:
            self.buckets[merchant_id] = (tokens, now)
            return (events - tokens) / self.rate
        self.buckets[merchant_id] = (tokens - events, now)
        return 0.0


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "ingest_requests", "POST /v1/events requests by status", ["status"], registry=self.registry
        )
        self.events = Counter("ingest_events_accepted", "events acknowledged by the stream", registry=self.registry)
        self.stream_latency = Histogram(
            "ingest_stream_seconds",
            "from handing a request's events to the stream to its acknowledgement of all of them",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )


async def body_within_limit(request: Request) -> bytes:
    """The body, read no further than the limit (a client's Content-Length is not trusted to be true)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BYTES:
        raise Refused(413, f"the body is larger than {MAX_BYTES} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BYTES:
            raise Refused(413, f"the body is larger than {MAX_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def ingest_app(keys: KeyStore, stream: EventStream, rate: float) -> Starlette:
    limiter = RateLimiter(rate)
    metrics = Metrics()

    async def accept(request: Request, noted: dict[str, object]) -> int:
        merchant_id = await merchant_of_request(keys, request, "ingest", log)
        noted["merchant"] = merchant_id
        kind = media_type(request.headers.get("content-type"))
        events = events_of(await body_within_limit(request), kind)
        noted["events"] = len(events)
        if foreign := next((number for number, e in enumerate(events, 1) if e.merchant_id != merchant_id), None):
            raise Refused(403, f"event {foreign} belongs to another merchant than the key's")
        stream.check(events)
        if not events:
            return 0
        if wait := limiter.take(merchant_id, len(events), time.monotonic()):
            raise Refused(429, f"over the merchant's rate of {rate:g} events a second", retry_after=wait)
        started = time.perf_counter()
        try:
            await stream.write(events)
        except StreamUnavailable as error:
            log.warning(json.dumps({"stream_error": str(error)[:500]}))
            raise Refused(
                503,
                "the stream did not acknowledge every event; send the request again",
                retry_after=RETRY_AFTER_UNAVAILABLE_SECONDS,
            ) from None
        metrics.stream_latency.observe(time.perf_counter() - started)
        metrics.events.inc(len(events))
        return len(events)

    async def post_events(request: Request) -> Response:
        started = time.perf_counter()
        noted: dict[str, object] = {}
        try:
            response: Response = JSONResponse({"accepted": await accept(request, noted)})
        except Refused as refused:
            response = refusal(refused)
        metrics.requests.labels(str(response.status_code)).inc()
        log_request(
            log, request, response.status_code, started, merchant=noted.get("merchant"), events=noted.get("events", 0)
        )
        return response

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"alive": True})

    async def readyz(_request: Request) -> Response:
        ready = await stream.ready()
        return JSONResponse({"ready": ready}, status_code=200 if ready else 503)

    async def prometheus(_request: Request) -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await stream.close()  # after the server has answered every request in flight

    return Starlette(
        exception_handlers={HTTPException: http_error},
        routes=[
            Route("/v1/events", post_events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", prometheus, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
