"""The portal's API as an OpenAPI 3.1 document, served at /openapi.json and fuzzed by schemathesis in the slow tier.
The API's limits are declared here, and jobs/serving/portal.py enforces these same constants: the document cannot
drift from the code."""

from __future__ import annotations

from functools import cache

from jobs.storage.published import MEASUREMENTS

MAX_HOURLY_DAYS = 31
MAX_DAILY_DAYS = 366
MAX_SEARCH_TEXT = 200
MAX_SEARCH_SIZE = 100
DEFAULT_SEARCH_SIZE = 20


def _query(name: str, description: str, schema: dict, example: str | int, required: bool = True) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": schema,
        "example": example,
    }


TIME = {"type": "string", "format": "date-time"}
DAY = {"type": "string", "format": "date"}
CURRENCY = {"type": "string", "pattern": "^[A-Z]{3}$"}
FROM_TIME = _query("from", "first hour's start (RFC 3339), included", TIME, "2026-11-22T00:00:00Z")
TO_TIME = _query(
    "to", f"end (RFC 3339), excluded; at most {MAX_HOURLY_DAYS} days after from", TIME, "2026-11-23T00:00:00Z"
)
FROM_DAY = _query("from", "first day, included", DAY, "2026-11-01")
TO_DAY = _query("to", f"last day, included; at most {MAX_DAILY_DAYS} days in all", DAY, "2026-11-30")


def _fields(table: str) -> dict:
    measurement = MEASUREMENTS[table]
    fields = {name: {"type": ["integer", "null"]} for name in measurement.integer_fields}
    return fields | {name: {"type": ["number", "null"]} for name in measurement.float_fields}


def _points(time_name: str, time_schema: dict, table: str) -> dict:
    point = {"type": "object", "required": [time_name], "properties": {time_name: time_schema, **_fields(table)}}
    return {"type": "array", "items": point}


def _answer(description: str, properties: dict) -> dict:
    properties = {"merchant_id": {"type": "string"}, **properties}
    schema = {"type": "object", "required": list(properties), "properties": properties}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string", "description": "one line saying what was wrong"}},
}


def _errors(*statuses: str) -> dict:
    reasons = {
        "400": "a parameter is missing, unknown, repeated or out of its range",
        "401": "no read key, or an unknown or revoked one",
        "503": "a store is unavailable; Retry-After says when to try again",
    }
    return {
        status: {"description": reasons[status], "content": {"application/json": {"schema": ERROR}}}
        for status in statuses
    }


def _get(summary: str, parameters: list[dict], answer: dict) -> dict:
    return {
        "get": {
            "summary": summary,
            "parameters": parameters,
            "responses": {"200": answer, **_errors("400", "401", "503")},
        }
    }


@cache
def portal_openapi() -> dict:
    product = {
        "type": "object",
        "required": ["merchant_id", "date", "sku", "currency", "exponent"],
        "properties": {
            "merchant_id": {"type": "string"},
            "date": DAY,
            "sku": {"type": "string"},
            "currency": {"type": "string"},
            "name": {"type": "string"},
            "units": {"type": "integer"},
            "revenue_minor": {"type": "integer"},
            "exponent": {"type": "integer", "description": "decimals of the currency's major unit"},
        },
    }
    sales = {
        "type": "array",
        "items": {
            "type": "object",
            "required": ["currency", "exponent", "points"],
            "properties": {
                "currency": {"type": "string"},
                "exponent": {"type": "integer", "description": "decimals of the currency's major unit"},
                "points": _points("hour_start", TIME, "gold.merchant_hourly_sales"),
            },
        },
    }
    hourly = {"from": TIME, "to": TIME, "points": _points("hour_start", TIME, "gold.merchant_hourly")}
    daily = {"from": DAY, "to": DAY, "points": _points("date", DAY, "gold.merchant_daily")}
    found = {"total": {"type": "integer"}, "products": {"type": "array", "items": product}}
    text = {"type": "string", "minLength": 1, "maxLength": MAX_SEARCH_TEXT}
    size = {"type": "integer", "minimum": 1, "maximum": MAX_SEARCH_SIZE, "default": DEFAULT_SEARCH_SIZE}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Merchant Insights portal",
            "version": "1",
            "description": "Each merchant's published hourly and daily metrics, sales and products. The merchant is "
            "the read key's; no parameter names one. Money is in minor units, with the currency's exponent.",
        },
        "components": {"securitySchemes": {"readKey": {"type": "http", "scheme": "bearer"}}},
        "security": [{"readKey": []}],
        "paths": {
            "/v1/metrics/hourly": _get("hourly activity", [FROM_TIME, TO_TIME], _answer("the hours", hourly)),
            "/v1/metrics/daily": _get("daily activity", [FROM_DAY, TO_DAY], _answer("the days", daily)),
            "/v1/sales/hourly": _get(
                "hourly sales per currency",
                [FROM_TIME, TO_TIME, _query("currency", "only this currency", CURRENCY, "EUR", required=False)],
                _answer("the hours, per currency", {"from": TIME, "to": TIME, "currencies": sales}),
            ),
            "/v1/products/search": _get(
                "products whose name matches, best first",
                [
                    _query("q", "words of a product name", text, "linen shirt"),
                    _query("from", "first day, included (with to)", DAY, "2026-11-01", required=False),
                    _query("to", "last day, included (with from)", DAY, "2026-11-30", required=False),
                    _query("size", "at most this many products", size, 20, required=False),
                ],
                _answer("the product-days", found),
            ),
        },
    }
