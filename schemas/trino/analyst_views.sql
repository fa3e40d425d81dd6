-- The analyst views of the lakehouse catalog: `lakehouse trino-register` creates or replaces each statement below
-- in Trino, in this order, after registering the tables. Edit here, rerun trino-register; the file is the history.
--
-- Money stays exact: an amount in minor units times its currency's unit is a DECIMAL (12345 EUR cents -> 123.45).
-- Times are UTC; `date` and `hour_start` are the event's, `ingest_date` the day a record landed in bronze.

-- The size of one minor unit, for the ISO 4217 currencies whose exponent is not 2 (trino-register fills in the list
-- from jobs/report.py's MINOR_UNIT_EXPONENTS; any other currency has a unit of 0.01).
CREATE OR REPLACE VIEW analyst.currency_units
COMMENT 'currency -> size of its minor unit, for the currencies that do not have 2 decimals'
AS
SELECT currency, exponent, CAST(power(10, -exponent) AS DECIMAL(4, 3)) AS unit
FROM (VALUES $minor_unit_exponents) AS exponents (currency, exponent);

-- One row per merchant, event date and currency sold in (currency NULL on a day without sales): the day's activity
-- from gold.merchant_daily (repeated on each currency row) and its sales in major units.
CREATE OR REPLACE VIEW analyst.merchant_daily_summary
COMMENT 'per merchant, date and currency: activity, conversion and sales in major units'
AS
WITH sales AS (
    SELECT merchant_id, date, currency,
           sum(orders) AS orders, sum(refunds) AS refunds, sum(items_sold) AS items_sold,
           sum(gross_minor) AS gross_minor, sum(refunded_minor) AS refunded_minor, sum(net_minor) AS net_minor
    FROM gold.merchant_hourly_sales
    GROUP BY merchant_id, date, currency
)
SELECT d.merchant_id, d.date, s.currency,
       d.events, d.page_views, d.add_to_carts, d.checkouts, d.sessions, d.customers, d.conversion_rate,
       coalesce(s.orders, 0) AS orders, coalesce(s.refunds, 0) AS refunds, coalesce(s.items_sold, 0) AS items_sold,
       s.gross_minor * coalesce(u.unit, DECIMAL '0.01') AS gross,
       s.refunded_minor * coalesce(u.unit, DECIMAL '0.01') AS refunded,
       s.net_minor * coalesce(u.unit, DECIMAL '0.01') AS net,
       s.net_minor
FROM gold.merchant_daily AS d
LEFT JOIN sales AS s ON s.merchant_id = d.merchant_id AND s.date = d.date
LEFT JOIN analyst.currency_units AS u ON u.currency = s.currency;

-- Each merchant's products per day, ranked by revenue within the merchant, day and currency (1 = best seller).
CREATE OR REPLACE VIEW analyst.top_products
COMMENT 'per merchant, date and currency: products ranked by revenue, in major units'
AS
SELECT p.merchant_id, p.date, p.currency, p.sku, p.name, p.units,
       p.revenue_minor * coalesce(u.unit, DECIMAL '0.01') AS revenue,
       rank() OVER (PARTITION BY p.merchant_id, p.date, p.currency ORDER BY p.revenue_minor DESC) AS revenue_rank
FROM gold.product_daily AS p
LEFT JOIN analyst.currency_units AS u ON u.currency = p.currency;

-- What silver rejected, per day records landed and reason, against everything that landed that day.
CREATE OR REPLACE VIEW analyst.quarantine_breakdown
COMMENT 'per ingest date and reason: records quarantined, replayed since, share of the records landed that day'
AS
WITH landed AS (
    SELECT ingest_date, count(*) AS records FROM bronze.events GROUP BY ingest_date
)
SELECT q.ingest_date, q.reason,
       count(*) AS records,
       count_if(q.replayed_at IS NOT NULL) AS replayed,
       l.records AS landed,
       CAST(count(*) AS DOUBLE) / l.records AS share_of_landed
FROM silver.quarantine AS q
JOIN landed AS l ON l.ingest_date = q.ingest_date
GROUP BY q.ingest_date, q.reason, l.records;

-- How late accepted events reached the lakehouse (landing time minus occurred_at), per event date. Events whose
-- clock ran ahead of ours count as on time.
CREATE OR REPLACE VIEW analyst.late_arrival_profile
COMMENT 'per event date: accepted events by how long after they occurred they landed'
AS
WITH lateness AS (
    SELECT event_date, date_diff('second', occurred_at, ingested_at) AS seconds FROM silver.events
)
SELECT event_date,
       CASE
           WHEN seconds < 60 THEN 1
           WHEN seconds < 3600 THEN 2
           WHEN seconds < 6 * 3600 THEN 3
           WHEN seconds < 24 * 3600 THEN 4
           ELSE 5
       END AS bucket,
       CASE
           WHEN seconds < 60 THEN 'on time (< 1 min)'
           WHEN seconds < 3600 THEN '1 min - 1 h'
           WHEN seconds < 6 * 3600 THEN '1 h - 6 h'
           WHEN seconds < 24 * 3600 THEN '6 h - 24 h'
           ELSE '24 h or more'
       END AS lateness,
       count(*) AS events,
       max(seconds) AS max_seconds
FROM lateness
GROUP BY 1, 2, 3;
