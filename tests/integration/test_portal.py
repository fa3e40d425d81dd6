"""The merchant portal over real published gold (InfluxDB and OpenSearch): each endpoint answers exactly what gold
holds for the key's merchant, and no request, however it is crafted, reaches another merchant's data or a 500."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import requests
from pyspark.sql import functions as F

from jobs.serving.portal import HOURLY, SALES
from jobs.storage.delta import read_table
from jobs.storage.published import MEASUREMENTS
from testkit.portals import portal_server


def rfc(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"


def gold_of(spark, portal, table: str, merchant: str) -> list:
    return read_table(spark, portal.published, table).filter(F.col("merchant_id") == merchant).collect()


def as_json(value):
    """A gold value as the portal's JSON carries it (exact sums are whole Decimals in gold)."""
    return value if value is None or isinstance(value, (int, float, str)) else int(value)


def hours_of(spark, portal, merchant: str) -> tuple[datetime, datetime]:
    """From the merchant's first hour to the end of its last one."""
    hours = [row.hour_start for row in gold_of(spark, portal, "gold.merchant_hourly", merchant)]
    return min(hours).replace(tzinfo=UTC), max(hours).replace(tzinfo=UTC) + timedelta(hours=1)


@pytest.fixture(scope="module")
def window(spark, portal) -> dict[str, str]:
    """A whole day around every hour of the published data: the parameters of a valid hourly request."""
    first, last = hours_of(spark, portal, portal.merchant)
    return {"from": rfc(first - timedelta(hours=12)), "to": rfc(last + timedelta(hours=12))}


EXPONENTS = {"USD": 2, "EUR": 2, "GBP": 2, "JPY": 0, "CAD": 2, "AUD": 2, "INR": 2, "BRL": 2}  # the generator's


def test_hourly_daily_and_sales_answer_exactly_what_gold_holds_for_the_keys_merchant(spark, portal, window):
    hourly = portal.get("/v1/metrics/hourly", window)
    assert hourly.status_code == 200, hourly.text
    assert hourly.headers["cache-control"] == "no-store"
    assert hourly.json()["merchant_id"] == portal.merchant
    expected = {
        rfc(row.hour_start.replace(tzinfo=UTC)): {field: as_json(row[field]) for field in HOURLY.fields}
        for row in gold_of(spark, portal, "gold.merchant_hourly", portal.merchant)
    }
    assert {point.pop("hour_start"): point for point in hourly.json()["points"]} == expected
    assert len(expected) >= 2

    days = sorted(row.date for row in gold_of(spark, portal, "gold.merchant_daily", portal.merchant))
    daily = portal.get("/v1/metrics/daily", {"from": str(days[0]), "to": str(days[-1])})
    assert daily.status_code == 200, daily.text
    fields = MEASUREMENTS["gold.merchant_daily"].fields
    expected_days = {
        str(row.date): {field: as_json(row[field]) for field in fields}
        for row in gold_of(spark, portal, "gold.merchant_daily", portal.merchant)
    }
    assert {point.pop("date"): point for point in daily.json()["points"]} == expected_days

    sales = portal.get("/v1/sales/hourly", window)
    assert sales.status_code == 200, sales.text
    expected_sales: dict[str, dict] = {}
    for row in gold_of(spark, portal, "gold.merchant_hourly_sales", portal.merchant):
        values = {field: as_json(row[field]) for field in SALES.fields}
        expected_sales.setdefault(row.currency, {})[rfc(row.hour_start.replace(tzinfo=UTC))] = values
    answered = {
        one["currency"]: {point.pop("hour_start"): point for point in one["points"]}
        for one in sales.json()["currencies"]
    }
    assert answered == expected_sales and len(answered) >= 2
    assert {one["currency"]: one["exponent"] for one in sales.json()["currencies"]} == {
        code: EXPONENTS[code] for code in expected_sales
    }

    currency = sorted(expected_sales)[1]
    one = portal.get("/v1/sales/hourly", {**window, "currency": currency}).json()["currencies"]
    assert [(c["currency"], {p["hour_start"] for p in c["points"]}) for c in one] == [
        (currency, set(expected_sales[currency]))
    ]


def test_search_finds_the_keys_merchants_products_only_though_others_share_the_words(spark, portal):
    products = read_table(spark, portal.published, "gold.product_daily")
    mine = [row for row in products.collect() if row.merchant_id == portal.merchant]
    word = mine[0].name.split()[0]
    theirs = [row for row in products.collect() if row.merchant_id != portal.merchant and word in row.name.split()]
    assert theirs, "another merchant's product shares the word: the search must leave it out"

    found = portal.get("/v1/products/search", {"q": word.upper(), "size": "100"})
    assert found.status_code == 200, found.text
    expected = {
        (str(row.date), row.sku, row.currency): (row.name, int(row.units), int(row.revenue_minor))
        for row in mine
        if word in row.name.split()
    }
    answered = {
        (p["date"], p["sku"], p["currency"]): (p["name"], p["units"], p["revenue_minor"])
        for p in found.json()["products"]
    }
    assert answered == expected and found.json()["total"] == len(expected)
    assert {p["merchant_id"] for p in found.json()["products"]} == {portal.merchant}

    last_day = max(day for (day, _, _) in expected)
    one_day = portal.get("/v1/products/search", {"q": word, "from": last_day, "to": last_day}).json()
    assert {p["date"] for p in one_day["products"]} == {last_day}


def test_the_other_merchants_key_reads_its_own_numbers(spark, portal, window):
    mine = portal.get("/v1/metrics/hourly", window).json()
    theirs = portal.get("/v1/metrics/hourly", window, key=portal.other_key).json()
    assert theirs["merchant_id"] == portal.other
    assert len(theirs["points"]) == len(gold_of(spark, portal, "gold.merchant_hourly", portal.other))
    assert theirs["points"] != mine["points"]


INJECTIONS = [
    "' OR '1'='1",
    '" OR 1=1 --',
    "$merchant",
    "m1' OR merchant_id =~ /.*/ --",
    "x; DROP DATABASE portal",
    '{"match_all": {}}',
    "*",
    "\\",
    "\u0000",
    "\ud7ff\ue000\U0001f600",
    "a" * 10_000,
]


def adversarial_requests(portal, window: dict[str, str]) -> list[tuple[str, str, dict | list, dict]]:
    """(label, path, params, headers): the other merchant's id wherever a value can go, injection strings in every
    parameter, overlong and malformed values, for every endpoint."""
    other = portal.other
    day_window = {"from": window["from"][:10], "to": window["to"][:10]}
    endpoints = {
        "/v1/metrics/hourly": window,
        "/v1/metrics/daily": day_window,
        "/v1/sales/hourly": window,
        "/v1/products/search": {"q": "shirt"},
    }
    cases = []
    for path, valid in endpoints.items():
        for name in ("merchant_id", "merchant", "merchant_id[]", "MERCHANT_ID", "tenant", other):
            cases.append((f"param {name}", path, {**valid, name: other}, {}))
        cases.append(("repeated", path, [*valid.items(), *valid.items()], {}))
        for header in ("X-Merchant-Id", "X-Forwarded-User", "X-Tenant", "Forwarded"):
            cases.append((f"header {header}", path, valid, {header: other}))
        cases.append(("cookie", path, valid, {"Cookie": f"merchant_id={other}"}))
        for name in valid:
            for bad in [other, *INJECTIONS, f"{valid[name]}' OR merchant_id='{other}'"]:
                cases.append((f"{name}={bad[:20]!r}", path, {**valid, name: bad}, {}))
        for suffix in (f"/{other}", f";merchant_id={other}", "/../daily", f"%2F{other}", "/"):
            cases.append((f"path {suffix}", path + suffix, valid, {}))
    for bad in [other, *INJECTIONS, "EU", "eur", "EURO", "EUR\n"]:
        cases.append((f"currency={bad[:20]!r}", "/v1/sales/hourly", {**window, "currency": bad}, {}))
    for bad in ["0", "101", "-1", "1e2", "99999999999999999999", "\u0661\u0662", " 5", other]:
        cases.append((f"size={bad!r}", "/v1/products/search", {"q": "shirt", "size": bad}, {}))
    for text in [
        other,
        f"merchant_id:{other}",
        f'name:* OR merchant_id:"{other}"',
        f'{{"term": {{"merchant_id": "{other}"}}}}',
    ]:
        cases.append((f"search {text[:20]!r}", "/v1/products/search", {"q": text}, {}))
    for path in (f"/v1/merchants/{other}/metrics/hourly", f"/v1/{other}/metrics/hourly", "/v1/metrics", "/v2/x"):
        cases.append((f"path {path}", path, window, {}))
    return cases


def test_no_crafted_request_reaches_the_other_merchant_or_a_500(portal, window):
    cases = adversarial_requests(portal, window)
    assert len(cases) > 180
    statuses: dict[int, int] = {}
    for label, path, params, headers in cases:
        response = portal.get(path, params, **headers)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        assert response.status_code in (200, 400, 404, 405), (label, response.status_code, response.text[:300])
        assert portal.other not in response.text, (label, response.text[:300])
        assert response.status_code == 200 or "error" in response.json(), label
        if response.status_code == 200:
            assert response.json()["merchant_id"] == portal.merchant, label
            assert {p["merchant_id"] for p in response.json().get("products", [])} <= {portal.merchant}, label
    assert statuses[200] > 10 and statuses[400] > 100 and statuses[404] > 10, statuses
    assert portal.key not in portal.log.read_text()


def test_only_a_live_read_key_opens_the_api(portal, window):
    bad = {
        "no key": None,
        "empty": "",
        "the ingest key": portal.ingest_key,
        "a revoked key": portal.revoked_key,
        "a key with a changed secret": portal.key[:-1] + ("A" if portal.key[-1] != "A" else "B"),
        "two keys": f"{portal.key}, Bearer {portal.other_key}",
        "a key and more": portal.key + portal.other_key,
    }
    for label, key in bad.items():
        headers = {} if key is None else {"Authorization": f"Bearer {key}"}
        response = requests.get(f"{portal.url}/v1/metrics/hourly", params=window, headers=headers, timeout=10)
        assert response.status_code == 401, label
        assert response.headers["www-authenticate"] == "Bearer" and "read key" in response.json()["error"], label
    basic = requests.get(f"{portal.url}/v1/metrics/hourly", params=window, auth=("x", portal.key), timeout=10)
    assert basic.status_code == 401
    lowercase = requests.get(
        f"{portal.url}/v1/metrics/hourly", params=window, headers={"Authorization": f"bearer {portal.key}"}, timeout=10
    )
    assert lowercase.status_code == 200
    assert portal.get("/v1/metrics/hourly", {}, key="").status_code == 401, "the key is checked before parameters"


@pytest.mark.parametrize(
    ("path", "params", "reason"),
    [
        ("/v1/metrics/hourly", {"from": "2026-11-22T00:00:00Z"}, "missing parameter 'to'"),
        ("/v1/metrics/hourly", {"from": "2026-11-22", "to": "2026-11-23"}, "RFC 3339"),
        ("/v1/metrics/hourly", {"from": "2026-11-22T00:00:00", "to": "2026-11-23T00:00:00"}, "RFC 3339"),
        ("/v1/metrics/hourly", {"from": "2026-11-22T00:00:00Z", "to": "2026-11-22T00:00:00Z"}, "later than"),
        ("/v1/metrics/hourly", {"from": "2026-10-01T00:00:00Z", "to": "2026-11-01T00:00:01Z"}, "at most 31 days"),
        ("/v1/metrics/hourly", {"from": "2026-02-30T00:00:00Z", "to": "2026-03-01T00:00:00Z"}, "not a real time"),
        ("/v1/metrics/hourly", {"from": "1969-12-31T00:00:00Z", "to": "1970-01-01T01:00:00Z"}, "between 1970"),
        ("/v1/metrics/hourly", {"from": "0001-01-01T00:30:00+01:00", "to": "1970-01-01T01:00:00Z"}, "not a real time"),
        ("/v1/metrics/daily", {"from": "2025-01-01", "to": "2026-01-02"}, "at most 366 days"),
        ("/v1/metrics/daily", {"from": "2026-11-23", "to": "2026-11-22"}, "not be earlier"),
        ("/v1/products/search", {"q": "   "}, "1 to 200 characters"),
        ("/v1/products/search", {"q": "x" * 201}, "1 to 200 characters"),
        ("/v1/products/search", {"q": "x", "from": "2026-11-22"}, "both from and to"),
    ],
)
def test_bad_parameters_are_refused_with_what_was_expected(portal, path, params, reason):
    response = portal.get(path, params)
    assert response.status_code == 400 and reason in response.json()["error"], response.text


def test_limits_at_their_edge_are_accepted(portal):
    month = portal.get("/v1/metrics/hourly", {"from": "2026-10-01T00:00:00Z", "to": "2026-11-01T00:00:00Z"})
    offset = portal.get(
        "/v1/metrics/hourly", {"from": "2026-11-22T23:00:00+01:00", "to": "2026-11-23T01:30:00.5-00:00"}
    )
    year = portal.get("/v1/metrics/daily", {"from": "2024-01-01", "to": "2024-12-31"})  # a leap year: 366 days
    assert [month.status_code, offset.status_code, year.status_code] == [200, 200, 200]
    assert offset.json()["from"] == "2026-11-22T22:00:00Z"
    assert portal.get("/v1/products/search", {"q": "x" * 200, "size": "100"}).status_code == 200


def test_a_store_that_is_down_answers_503_and_the_page_still_loads(portal, influxdb_service, tmp_path):
    from jobs.services.base import free_port

    closed = f"http://127.0.0.1:{free_port()}"
    down = {"LAKEHOUSE_INFLUXDB_URL": closed, "LAKEHOUSE_OPENSEARCH_URL": closed}
    with portal_server(portal.published, influxdb_service, tmp_path, portal.merchant, portal.other, down) as broken:
        for path, params in [
            ("/v1/metrics/hourly", {"from": "2026-11-22T00:00:00Z", "to": "2026-11-23T00:00:00Z"}),
            ("/v1/metrics/daily", {"from": "2026-11-22", "to": "2026-11-23"}),
            ("/v1/sales/hourly", {"from": "2026-11-22T00:00:00Z", "to": "2026-11-23T00:00:00Z"}),
            ("/v1/products/search", {"q": "shirt"}),
        ]:
            response = broken.get(path, params)
            assert response.status_code == 503, response.text
            assert response.headers["retry-after"] == "5" and "unavailable" in response.json()["error"]
        assert broken.get("/readyz").json() == {"ready": False, "influxdb": False, "opensearch": False}
        assert broken.get("/healthz").status_code == 200 and broken.get("/").status_code == 200
        assert "ConnectError" in broken.log.read_text()  # the cause is logged, not sent to the client
    assert portal.get("/readyz").json() == {"ready": True, "influxdb": True, "opensearch": True}


def test_the_page_its_library_and_the_api_description_are_served(portal):
    page = requests.get(f"{portal.url}/", timeout=10)
    assert page.status_code == 200 and '<canvas id="events-chart">' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    for script in re.findall(r'src="([^"]+)"', page.text):
        served = requests.get(f"{portal.url}{script}", timeout=10)
        assert served.status_code == 200 and "javascript" in served.headers["content-type"], script
    described = requests.get(f"{portal.url}/openapi.json", timeout=10).json()
    assert set(described["paths"]) == {
        "/v1/metrics/hourly",
        "/v1/metrics/daily",
        "/v1/sales/hourly",
        "/v1/products/search",
    }
    metrics = requests.get(f"{portal.url}/metrics", timeout=10).text
    assert 'portal_requests_total{route="/v1/metrics/hourly",status="200"}' in metrics


def test_a_day_with_nothing_published_answers_empty_not_an_error(portal):
    empty = portal.get("/v1/metrics/daily", {"from": "2001-01-01", "to": "2001-01-31"})
    assert empty.status_code == 200 and empty.json()["points"] == []
    none = portal.get("/v1/products/search", {"q": "zzzzunknownword"})
    assert none.status_code == 200 and none.json() == {"merchant_id": portal.merchant, "total": 0, "products": []}
    assert date.fromisoformat(empty.json()["to"]) == date(2001, 1, 31)
