-- 00_schema.sql - tables every step relies on (run at open; idempotent).
-- Layers: raw (lines as loaded) -> staging (parsed views) -> core (typed,
-- deduplicated; customers MERGEd to the latest version) -> mart (joined,
-- aggregated); rejects land in quarantine with a reason. Every table a
-- batch writes carries its batch id (batch_id / _batch_id) so a step can
-- delete and redo exactly that batch.
-- The per-stream line tables (raw.orders, raw.customers, quarantine.orders,
-- quarantine.customers) share one layout each, so the engine creates them
-- right after this file from one definition (duckdb.c: stream_tables).
-- Compression is chosen per column: the loader and the transform write
-- every batch's rows at once, and DuckDB's per-segment analysis of every
-- method was most of that cost; wide unique text (lines, ids) is stored
-- as is, repetitive text as a dictionary.
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS staging;
CREATE SCHEMA IF NOT EXISTS core;
CREATE SCHEMA IF NOT EXISTS mart;
CREATE SCHEMA IF NOT EXISTS quarantine;

-- One row per order event, typed. The original line is not copied here:
-- raw.orders keeps every line of every batch (the replay source of
-- transform), and the view core.orders (02_marts.sql) joins it back as the
-- JSON column raw (extra keys kept). In floe 0.1 this table was
-- core.orders with the raw column stored (duckdb.c migrates it).
CREATE TABLE IF NOT EXISTS core.order_events (
    event_id VARCHAR NOT NULL USING COMPRESSION uncompressed,
    order_id VARCHAR NOT NULL USING COMPRESSION uncompressed,
    customer_id VARCHAR NOT NULL USING COMPRESSION dictionary,
    status VARCHAR NOT NULL USING COMPRESSION dictionary,
    items STRUCT(sku VARCHAR, qty INTEGER, unit_price DECIMAL(12, 2))[],
    total DECIMAL(12, 2) NOT NULL,
    currency VARCHAR NOT NULL USING COMPRESSION dictionary,
    ts TIMESTAMP NOT NULL,          -- UTC
    dt DATE NOT NULL,               -- ts::DATE, the partition key
    channel VARCHAR,                -- optional (schema drift)
    coupon VARCHAR,                 -- optional (schema drift)
    _batch_id VARCHAR NOT NULL USING COMPRESSION dictionary,
    _source_key VARCHAR NOT NULL USING COMPRESSION dictionary,
    _line_no BIGINT NOT NULL
);

-- One row per customer version (customer_id, updated_at).
CREATE TABLE IF NOT EXISTS core.customer_versions (
    customer_id VARCHAR NOT NULL,
    name VARCHAR,
    email VARCHAR NOT NULL,
    country VARCHAR,
    segment VARCHAR,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    _batch_id VARCHAR NOT NULL,
    _source_key VARCHAR NOT NULL,
    _line_no BIGINT NOT NULL
);

-- The latest version per customer_id.
CREATE TABLE IF NOT EXISTS core.customers AS
    SELECT * EXCLUDE (_source_key, _line_no) FROM core.customer_versions
    WITH NO DATA;

-- The customer each new order was enriched with when its batch was
-- transformed (the latest version then); the view mart.orders_enriched
-- (02_marts.sql) joins it to the order. Up to floe 0.1 this was a table
-- holding whole order rows (duckdb.c migrates it).
CREATE TABLE IF NOT EXISTS mart.order_customers (
    event_id VARCHAR NOT NULL USING COMPRESSION uncompressed,
    customer_known BOOLEAN NOT NULL, -- false: late-arriving dimension
    customer_name VARCHAR USING COMPRESSION dictionary,
    customer_email VARCHAR USING COMPRESSION dictionary,
    customer_country VARCHAR USING COMPRESSION dictionary,
    customer_segment VARCHAR USING COMPRESSION dictionary,
    _batch_id VARCHAR NOT NULL USING COMPRESSION dictionary
);

CREATE TABLE IF NOT EXISTS mart.daily_sales (
    dt DATE NOT NULL,
    currency VARCHAR NOT NULL,
    orders BIGINT NOT NULL,         -- distinct order_id
    events BIGINT NOT NULL,
    paid_events BIGINT NOT NULL,
    revenue DECIMAL(18, 2) NOT NULL -- sum(total) of status 'paid' events
);
