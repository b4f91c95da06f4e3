-- 00_schema.sql - tables every step relies on (run at open; idempotent).
-- Layers: raw (lines as loaded) -> staging (parsed views) -> core (typed,
-- deduplicated, MERGEd) -> mart (joined, aggregated); rejects land in
-- quarantine with a reason. Every table a batch writes carries its batch id
-- (batch_id / _batch_id) so a step can delete and redo exactly that batch.
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS staging;
CREATE SCHEMA IF NOT EXISTS core;
CREATE SCHEMA IF NOT EXISTS mart;
CREATE SCHEMA IF NOT EXISTS quarantine;

-- One row per line of a batch object, byte for byte (invalid UTF-8 bytes
-- and NULs are replaced by U+FFFD and flagged: valid_utf8 = false).
CREATE TABLE IF NOT EXISTS raw.orders (
    batch_id VARCHAR NOT NULL,
    source_key VARCHAR NOT NULL,
    line_no BIGINT NOT NULL,
    line VARCHAR NOT NULL,
    valid_utf8 BOOLEAN NOT NULL
);
CREATE TABLE IF NOT EXISTS raw.customers (
    batch_id VARCHAR NOT NULL,
    source_key VARCHAR NOT NULL,
    line_no BIGINT NOT NULL,
    line VARCHAR NOT NULL,
    valid_utf8 BOOLEAN NOT NULL
);

CREATE TABLE IF NOT EXISTS core.orders (
    event_id VARCHAR NOT NULL,
    order_id VARCHAR NOT NULL,
    customer_id VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    items STRUCT(sku VARCHAR, qty INTEGER, unit_price DECIMAL(12, 2))[],
    total DECIMAL(12, 2) NOT NULL,
    currency VARCHAR NOT NULL,
    ts TIMESTAMP NOT NULL,          -- UTC
    dt DATE NOT NULL,               -- ts::DATE, the partition key
    channel VARCHAR,                -- optional (schema drift)
    coupon VARCHAR,                 -- optional (schema drift)
    raw JSON NOT NULL,              -- the original record, extra keys kept
    _batch_id VARCHAR NOT NULL,
    _source_key VARCHAR NOT NULL,
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
CREATE TABLE IF NOT EXISTS core.customers (
    customer_id VARCHAR NOT NULL,
    name VARCHAR,
    email VARCHAR NOT NULL,
    country VARCHAR,
    segment VARCHAR,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    _batch_id VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS mart.orders_enriched (
    event_id VARCHAR NOT NULL,
    order_id VARCHAR NOT NULL,
    customer_id VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    items STRUCT(sku VARCHAR, qty INTEGER, unit_price DECIMAL(12, 2))[],
    total DECIMAL(12, 2) NOT NULL,
    currency VARCHAR NOT NULL,
    ts TIMESTAMP NOT NULL,
    dt DATE NOT NULL,
    channel VARCHAR,
    coupon VARCHAR,
    customer_known BOOLEAN NOT NULL, -- false: late-arriving dimension
    customer_name VARCHAR,
    customer_email VARCHAR,
    customer_country VARCHAR,
    customer_segment VARCHAR,
    _batch_id VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS mart.daily_sales (
    dt DATE NOT NULL,
    currency VARCHAR NOT NULL,
    orders BIGINT NOT NULL,         -- distinct order_id
    events BIGINT NOT NULL,
    paid_events BIGINT NOT NULL,
    revenue DECIMAL(18, 2) NOT NULL -- sum(total) of status 'paid' events
);

CREATE TABLE IF NOT EXISTS quarantine.orders (
    table_name VARCHAR NOT NULL,
    batch_id VARCHAR NOT NULL,
    source_key VARCHAR NOT NULL,
    line_no BIGINT NOT NULL,
    raw VARCHAR NOT NULL,
    reason VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS quarantine.customers (
    table_name VARCHAR NOT NULL,
    batch_id VARCHAR NOT NULL,
    source_key VARCHAR NOT NULL,
    line_no BIGINT NOT NULL,
    raw VARCHAR NOT NULL,
    reason VARCHAR NOT NULL
);
