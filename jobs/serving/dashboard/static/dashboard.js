// The merchant's dashboard: signs in with a read key (kept for this tab only), then draws the last 7 days of the
// portal's /v1 answers. Every value from the API reaches the page as text (textContent), never as markup.
"use strict";

const KEY_ITEM = "merchant-insights.read-key";
const DAYS = 7;
const HOUR_MS = 3600 * 1000;
const $ = (id) => document.getElementById(id);

class ApiError extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind; // "key" (401), "down" (503 or no answer), "request" (anything else)
  }
}

async function api(path, params) {
  const query = new URLSearchParams(params).toString();
  let response;
  try {
    response = await fetch(`${path}?${query}`, {
      headers: { Authorization: `Bearer ${sessionStorage.getItem(KEY_ITEM) || ""}` },
    });
  } catch (error) {
    throw new ApiError("down", "The portal cannot be reached.");
  }
  const body = await response.json().catch(() => ({}));
  if (response.ok) return body;
  const reason = body.error || response.statusText;
  if (response.status === 401) throw new ApiError("key", reason);
  if (response.status === 503) throw new ApiError("down", reason);
  throw new ApiError("request", reason);
}

// Minor units as major units, exactly (BigInt: no floating point on money): 123456, 2 -> "1,234.56".
function majorUnits(minor, exponent) {
  const value = BigInt(minor);
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(exponent + 1, "0");
  const whole = digits.slice(0, digits.length - exponent).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const fraction = exponent ? "." + digits.slice(digits.length - exponent) : "";
  return (negative ? "-" : "") + whole + fraction;
}

function hourLabel(ms) {
  const iso = new Date(ms).toISOString(); // 2026-11-22T13:00:00.000Z
  return `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
}

// The x axis spans the whole 7 days, a tick each midnight, whatever hours have data.
function drawChart(canvasId, label, points, colour, days) {
  const canvas = $(canvasId);
  const existing = Chart.getChart(canvas);
  if (existing) existing.destroy();
  canvas.dataset.points = String(points.length);
  new Chart(canvas, {
    type: "line",
    data: { datasets: [{ label, data: points, borderColor: colour, backgroundColor: colour, pointRadius: 2 }] },
    options: {
      animation: false,
      parsing: false,
      maintainAspectRatio: false,
      plugins: { legend: { display: false }, tooltip: { callbacks: { title: (items) => hourLabel(items[0].parsed.x) } } },
      scales: {
        x: {
          type: "linear",
          min: Date.parse(days.from),
          max: Date.parse(days.to),
          ticks: { stepSize: 24 * HOUR_MS, callback: (value) => hourLabel(value) },
        },
        y: { beginAtZero: true },
      },
    },
  });
}

function showStatus(text, problem = false) {
  $("status").textContent = text;
  $("status").classList.toggle("problem", problem);
}

function showProblem(error) {
  if (error.kind === "key") {
    sessionStorage.removeItem(KEY_ITEM);
    showSignIn(`That key was not accepted (${error.message}). Check it and sign in again.`);
  } else if (error.kind === "down") {
    showStatus(`The numbers cannot be read right now: ${error.message}`, true);
    $("retry").hidden = false;
  } else {
    showStatus(`Something went wrong: ${error.message}`, true);
  }
}

// Nothing of the last merchant stays on the page for the next one to sign in on this tab.
function clearDashboard() {
  for (const id of ["events-chart", "orders-chart", "net-chart"]) Chart.getChart(id)?.destroy();
  for (const id of ["total-events", "total-orders", "total-net", "net-currency", "search-status"]) $(id).textContent = "";
  $("search-results").tBodies[0].replaceChildren();
  $("search-results").hidden = true;
  $("currency").replaceChildren();
}

function showSignIn(message) {
  clearDashboard();
  $("dashboard").hidden = true;
  $("sign-out").hidden = true;
  $("merchant").textContent = "";
  $("sign-in").hidden = false;
  showStatus(message || "", Boolean(message));
}

function windowOfDays() {
  const end = new Date(`${$("ending").value}T00:00:00Z`).getTime() + 24 * HOUR_MS;
  return { from: new Date(end - DAYS * 24 * HOUR_MS).toISOString(), to: new Date(end).toISOString() };
}

const state = { currencies: [] };

async function drawSales(days) {
  const currency = $("currency").value;
  if (!currency) {
    drawChart("net-chart", "net sales", [], "#2a9d8f", days);
    $("net-currency").textContent = "no sales";
    $("total-net").textContent = "—";
    return;
  }
  const sales = await api("/v1/sales/hourly", { ...days, currency });
  const [series] = sales.currencies;
  const points = series ? series.points.filter((p) => p.net_minor !== null) : [];
  const exponent = series ? series.exponent : 0;
  const scale = 10 ** exponent;
  drawChart("net-chart", `net sales (${currency})`, points.map((p) => ({ x: Date.parse(p.hour_start), y: p.net_minor / scale })), "#2a9d8f", days);
  const total = points.reduce((sum, p) => sum + BigInt(p.net_minor), 0n);
  $("net-currency").textContent = currency;
  $("total-net").textContent = `${majorUnits(total, exponent)} ${currency}`;
}

async function load() {
  $("retry").hidden = true;
  showStatus("Loading…");
  const days = windowOfDays();
  try {
    const [hourly, sales] = await Promise.all([api("/v1/metrics/hourly", days), api("/v1/sales/hourly", days)]);
    $("sign-in").hidden = true;
    $("sign-out").hidden = false;
    $("merchant").textContent = hourly.merchant_id;
    $("dashboard").hidden = false;
    const hours = hourly.points;
    const at = (p) => Date.parse(p.hour_start);
    drawChart("events-chart", "events", hours.filter((p) => p.events !== null).map((p) => ({ x: at(p), y: p.events })), "#264653", days);
    drawChart("orders-chart", "orders", hours.filter((p) => p.orders !== null).map((p) => ({ x: at(p), y: p.orders })), "#e76f51", days);
    $("total-events").textContent = hours.reduce((sum, p) => sum + (p.events || 0), 0).toLocaleString("en");
    $("total-orders").textContent = hours.reduce((sum, p) => sum + (p.orders || 0), 0).toLocaleString("en");
    const chosen = $("currency").value;
    state.currencies = sales.currencies.map((c) => c.currency);
    $("currency").replaceChildren(...state.currencies.map((code) => new Option(code, code)));
    // The currency chosen before, else the one with the most orders this week: usually the merchant's own.
    const orders = (c) => c.points.reduce((sum, p) => sum + (p.orders || 0), 0);
    const busiest = [...sales.currencies].sort((a, b) => orders(b) - orders(a))[0];
    if (state.currencies.includes(chosen)) $("currency").value = chosen;
    else if (busiest) $("currency").value = busiest.currency;
    await drawSales(days);
    showStatus(hours.length || state.currencies.length ? "" : `No data yet for the 7 days ending ${$("ending").value}.`);
  } catch (error) {
    showProblem(error);
  }
}

async function search(event) {
  event.preventDefault();
  const results = $("search-results");
  $("search-status").textContent = "Searching…";
  $("search-status").classList.remove("problem");
  try {
    const found = await api("/v1/products/search", { q: $("search-text").value, size: "50" });
    const rows = found.products.map((product) => {
      const row = document.createElement("tr");
      const revenue = product.revenue_minor === undefined ? "" : `${majorUnits(product.revenue_minor, product.exponent)} ${product.currency}`;
      for (const [value, number] of [[product.date], [product.sku], [product.name ?? ""], [product.units ?? "", true], [revenue, true]]) {
        const cell = row.insertCell();
        cell.textContent = String(value);
        if (number) cell.className = "number";
      }
      return row;
    });
    results.tBodies[0].replaceChildren(...rows);
    results.hidden = rows.length === 0;
    $("search-status").textContent = found.total
      ? `${found.total.toLocaleString("en")} product-days match; the best ${rows.length} are shown.`
      : "No product matches.";
  } catch (error) {
    $("search-status").textContent = "";
    showProblem(error);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const given = new URLSearchParams(location.search).get("ending");
  $("ending").value = /^\d{4}-\d{2}-\d{2}$/.test(given || "") ? given : new Date().toISOString().slice(0, 10);
  $("sign-in-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY_ITEM, $("key").value.trim());
    $("key").value = "";
    load();
  });
  $("sign-out").addEventListener("click", () => {
    sessionStorage.removeItem(KEY_ITEM);
    showSignIn("Signed out.");
  });
  $("retry").addEventListener("click", load);
  $("ending").addEventListener("change", load);
  $("currency").addEventListener("change", () => drawSales(windowOfDays()).catch(showProblem));
  $("search-form").addEventListener("submit", search);
  if (sessionStorage.getItem(KEY_ITEM)) load();
  else showSignIn();
});
