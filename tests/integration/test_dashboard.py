"""The dashboard page in a real browser (Debian's chromium, driven by Playwright) over the real portal and published
gold: it signs in, draws the merchant's hours, switches currency, searches the merchant's own products, and says so
plainly when a key is refused or there is nothing to show. The signed-in page is kept as test-artifacts/dashboard.png.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from pyspark.sql import functions as F

from jobs.runtime.settings import REPO_ROOT
from jobs.storage.currencies import major_units
from jobs.storage.delta import read_table

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags chromium keeps dialling Google's hosts, which this machine refuses.
CHROMIUM_FLAGS = [
    "--no-sandbox",  # the tests may run as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = REPO_ROOT / "test-artifacts"
TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 1400})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == [], f"the page's script failed: {errors}"


def last_day(spark, portal) -> str:
    """The last day of the merchant's published hours: the dashboard's 7 days end with it."""
    hours = read_table(spark, portal.published, "gold.merchant_hourly").filter(F.col("merchant_id") == portal.merchant)
    return f"{hours.agg(F.max('hour_start')).first()[0]:%Y-%m-%d}"


def in_the_week(spark, portal, table: str, ending: str, where) -> list:
    """The merchant's gold rows of `table` in the 7 days ending `ending`, that satisfy `where`."""
    end = datetime.fromisoformat(ending).replace(tzinfo=UTC) + timedelta(days=1)
    rows = read_table(spark, portal.published, table).filter(F.col("merchant_id") == portal.merchant)
    rows = rows.filter((F.col("hour_start") >= end - timedelta(days=7)) & (F.col("hour_start") < end))
    return [row for row in rows.collect() if where(row)]


def points_drawn(page, canvas: str) -> list[dict]:
    return page.evaluate(f"Chart.getChart('{canvas}').data.datasets[0].data")


def sign_in(page, portal, key: str, ending: str) -> None:
    page.goto(f"{portal.url}/?ending={ending}")
    page.fill("#key", key)
    page.click("#sign-in-form button")


def test_signed_in_the_charts_draw_the_merchants_hours_and_currency_switches_the_sales(spark, portal, page):
    ending = last_day(spark, portal)
    sign_in(page, portal, portal.key, ending)
    page.wait_for_selector("#dashboard:not([hidden])")
    expect(page.locator("#status")).to_have_text("")
    assert page.text_content("#merchant") == portal.merchant

    hours = in_the_week(spark, portal, "gold.merchant_hourly", ending, lambda row: row.events is not None)
    drawn = points_drawn(page, "events-chart")
    assert len(drawn) == len(hours) > 1
    assert sorted(point["y"] for point in drawn) == sorted(row.events for row in hours)
    with_orders = in_the_week(spark, portal, "gold.merchant_hourly", ending, lambda row: row.orders is not None)
    assert len(points_drawn(page, "orders-chart")) == len(with_orders)
    assert page.text_content("#total-events") == f"{sum(row.events for row in hours):,}"

    sales = in_the_week(spark, portal, "gold.merchant_hourly_sales", ending, lambda row: row.net_minor is not None)
    currencies = sorted({row.currency for row in sales})
    assert page.eval_on_selector_all("#currency option", "options => options.map(o => o.value)") == currencies
    every_sale = in_the_week(spark, portal, "gold.merchant_hourly_sales", ending, lambda row: True)
    orders = {code: sum(row.orders or 0 for row in every_sale if row.currency == code) for code in currencies}
    assert page.input_value("#currency") == max(currencies, key=orders.__getitem__), "the busiest currency first"
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    for currency in currencies:
        page.select_option("#currency", currency)
        expect(page.locator("#net-currency")).to_have_text(currency)
        mine = [row for row in sales if row.currency == currency]
        drawn = points_drawn(page, "net-chart")
        exponent = {"JPY": 0}.get(currency, 2)  # the generator's currencies: only JPY has no decimals
        assert sorted(point["y"] for point in drawn) == sorted(int(row.net_minor) / 10**exponent for row in mine)
        assert page.text_content("#total-net") == major_units(sum(int(row.net_minor) for row in mine), currency)


def test_the_search_box_shows_the_merchants_products_only(spark, portal, page):
    products = read_table(spark, portal.published, "gold.product_daily").collect()
    mine = [row for row in products if row.merchant_id == portal.merchant]
    word = mine[0].name.split()[0]
    expected = sorted((str(row.date), row.sku, row.name) for row in mine if word in row.name.split())
    assert any(row.merchant_id != portal.merchant and word in row.name.split() for row in products)

    sign_in(page, portal, portal.key, last_day(spark, portal))
    page.wait_for_selector("#dashboard:not([hidden])")
    page.fill("#search-text", word.lower())
    page.click("#search-form button")
    expect(page.locator("#search-status")).to_contain_text(f"{len(expected)} product-days match")
    rows = page.eval_on_selector_all(
        "#search-results tbody tr", "rows => rows.map(r => Array.from(r.cells, c => c.textContent))"
    )
    assert sorted((date, sku, name) for date, sku, name, _, _ in rows) == expected


def test_a_bad_key_is_refused_with_its_message_and_the_sign_in_form_again(portal, page):
    sign_in(page, portal, portal.ingest_key, "2026-11-23")
    page.wait_for_selector("#sign-in:not([hidden])")
    expect(page.locator("#status")).to_contain_text("not accepted")
    assert page.is_hidden("#dashboard")
    assert page.evaluate("sessionStorage.length") == 0, "a refused key is not kept"


def test_a_week_without_data_says_so(portal, page):
    sign_in(page, portal, portal.key, "2001-01-07")
    expect(page.locator("#status")).to_have_text(re.compile("^No data yet"))
    assert points_drawn(page, "events-chart") == []
