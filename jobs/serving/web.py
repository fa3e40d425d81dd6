"""What the ingestion API and the portal answer alike: the key's merchant or 401, errors as one-line JSON with their
status (never a stack trace), and one JSON log line per request without keys or payloads."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import sqlite3
import time
from datetime import UTC, datetime

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from jobs.serving.keys import KeyStore


class Refused(Exception):
    """A request answered with an error and nothing sent on: its HTTP status and a one-line reason."""

    def __init__(self, status: int, reason: str, retry_after: float = 0.0):
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.retry_after = retry_after  # seconds, for 429 and 503


def bearer_key(request: Request) -> str:
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    return key.strip() if scheme.lower() == "bearer" else ""


async def merchant_of_request(keys: KeyStore, request: Request, scope: str, log: logging.Logger) -> str:
    """The merchant whose live `scope` key the request carries, else Refused(401); 503 if the store cannot tell."""
    try:
        merchant_id = await asyncio.to_thread(keys.merchant_of, bearer_key(request), scope)
    except sqlite3.Error as error:  # the key store locked or unreadable: the client retries
        log.warning(json.dumps({"key_store_error": str(error)[:200]}))
        raise Refused(503, "keys cannot be checked now; send the request again", retry_after=1) from None
    if merchant_id is None:
        raise Refused(401, f"missing, unknown or revoked {scope} key")
    return merchant_id


def refusal(refused: Refused) -> Response:
    headers = {"Retry-After": str(math.ceil(refused.retry_after))} if refused.retry_after else {}
    if refused.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse({"error": refused.reason}, status_code=refused.status, headers=headers)


async def http_error(_request: Request, error: Exception) -> Response:
    """404 and 405 as JSON like every other answer, with Starlette's short reason."""
    assert isinstance(error, HTTPException)
    return JSONResponse({"error": error.detail}, status_code=error.status_code, headers=error.headers)


def log_request(log: logging.Logger, request: Request, status: int, started: float, **noted: object) -> None:
    """One JSON line: when, what, the answer's status, the merchant and what else the caller noted, how long."""
    line = {
        "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "method": request.method,
        "path": request.url.path,
        "status": status,
        **noted,
        "ms": round((time.perf_counter() - started) * 1000, 2),
    }
    log.info(json.dumps(line))
