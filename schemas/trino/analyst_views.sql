-- The analyst views of the lakehouse catalog: `lakehouse trino-register` creates or replaces each statement below
-- in Trino, in this order, after registering the tables, and drops any view of schema analyst that is no longer
-- here. Edit here, rerun trino-register; the file's history is the views' history.
--
-- Money stays exact: an amount in minor units times its currency's unit is a DECIMAL (12345 EUR cents -> 123.450).
-- Times are UTC; `date` and `hour_start` are the event's, `ingest_date` the day a record landed in bronze.

-- The size of one minor unit, for the ISO 4217 currencies whose exponent is not 2; any other currency has a unit of
-- 0.01. trino-register fills in the list from MINOR_UNIT_EXPONENTS in jobs/transforms/money.py, which the report uses too.
CREATE OR REPLACE VIEW analyst.currency_units
COMMENT 'currency -> size of its minor unit, for the currencies that do not have 2 decimals'
AS
SELECT currency, exponent, CAST(power(10, -exponent) AS DECIMAL(4, 3)) AS unit
FROM (VALUES :minor_unit_exponents) AS exponents (currency, exponent);

-- gold.merchant_hourly_sales with its amounts in major units: one row per merchant, event hour and currency.
CREATE OR REPLACE VIEW analyst.merchant_hourly_sales
COMMENT 'per merchant, hour and currency: orders, refunds and sales in major units'
AS
SELECT s.merchant_id, s.hour_start, s.date, s.currency, s.orders, s.refunds, s.items_sold,
       s.gross_minor * coalesce(u.unit, DECIMAL '0.01') AS gross,
       s.discount_minor * coalesce(u.unit, DECIMAL '0.01') AS discount,
       s.tax_minor * coalesce(u.unit, DECIMAL '0.01') AS tax,
       s.refunded_minor * coalesce(u.unit, DECIMAL '0.01') AS refunded,
       s.net_minor * coalesce(u.unit, DECIMAL '0.01') AS net,
       s.net_minor
FROM gold.merchant_hourly_sales AS s
LEFT JOIN analyst.currency_units AS u ON u.currency = s.currency;

-- The same per day: one row per merchant, event date and currency.
CREATE OR REPLACE VIEW analyst.merchant_daily_sales
COMMENT 'per merchant, date and currency: orders, refunds and sales in major units'
AS
SELECT merchant_id, date, currency,
       sum(orders) AS orders, sum(refunds) AS refunds, sum(items_sold) AS items_sold,
       sum(gross) AS gross, sum(discount) AS discount, sum(tax) AS tax, sum(refunded) AS refunded, sum(net) AS net,
       sum(net_minor) AS net_minor
FROM analyst.merchant_hourly_sales
GROUP BY merchant_id, date, currency;

-- One row per merchant and event date: the day's activity and conversion (gold.merchant_daily), its orders in all
-- currencies, and net sales per currency as a map (a merchant may sell in several; amounts of two currencies are
-- never added).
CREATE OR REPLACE VIEW analyst.merchant_daily_summary
COMMENT 'per merchant and date: activity, conversion, orders, and net sales per currency in major units'
AS
WITH sales AS (
    SELECT merchant_id, date, sum(orders) AS orders, sum(refunds) AS refunds, map_agg(currency, net) AS net_by_currency
    FROM analyst.merchant_daily_sales
    GROUP BY merchant_id, date
)
SELECT d.merchant_id, d.date,
       d.events, d.page_views, d.add_to_carts, d.checkouts, d.sessions, d.customers, d.conversion_rate,
       d.orders, coalesce(s.refunds, 0) AS refunds, s.net_by_currency
FROM gold.merchant_daily AS d
LEFT JOIN sales AS s ON s.merchant_id = d.merchant_id AND s.date = d.date;

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

-- How long accepted events took to land (landing time minus occurred_at), per event date, in five buckets; events
-- whose clock ran ahead of ours count as on time. `late_events` uses the pipeline's own meaning of late (as in
-- ops.batch_health): landed after the end of the event's hour.
CREATE OR REPLACE VIEW analyst.late_arrival_profile
COMMENT 'per event date: accepted events by how long after they occurred they landed'
AS
WITH delays AS (
    SELECT event_date,
           date_diff('second', occurred_at, ingested_at) AS seconds,
           ingested_at >= event_hour + INTERVAL '1' HOUR AS late
    FROM silver.events
),
bucketed AS (
    SELECT event_date, seconds, late,
           CASE
               WHEN seconds < 60 THEN 1
               WHEN seconds < 3600 THEN 2
               WHEN seconds < 6 * 3600 THEN 3
               WHEN seconds < 24 * 3600 THEN 4
               ELSE 5
           END AS bucket
    FROM delays
)
SELECT event_date, bucket,
       element_at(ARRAY['on time (< 1 min)', '1 min - 1 h', '1 h - 6 h', '6 h - 24 h', '24 h or more'], bucket)
           AS lateness,
       count(*) AS events,
       count_if(late) AS late_events,
       max(seconds) AS max_seconds
FROM bucketed
GROUP BY event_date, bucket;
