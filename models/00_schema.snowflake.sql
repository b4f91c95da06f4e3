-- 00_schema.snowflake.sql - 00_schema.sql in Snowflake's types (no
-- compression hints; items as VARIANT). The per-stream tables come from
-- the stream declarations (snowflake.c).
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS staging;
CREATE SCHEMA IF NOT EXISTS core;
CREATE SCHEMA IF NOT EXISTS mart;
CREATE SCHEMA IF NOT EXISTS quarantine;

CREATE TABLE IF NOT EXISTS core.order_events (
    event_id VARCHAR NOT NULL,
    order_id VARCHAR NOT NULL,
    customer_id VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    items VARIANT,
    total NUMBER(12, 2) NOT NULL,
    currency VARCHAR NOT NULL,
    ts TIMESTAMP_NTZ NOT NULL,
    dt DATE NOT NULL,
    channel VARCHAR,
    coupon VARCHAR,
    _batch_id VARCHAR NOT NULL,
    _source_key VARCHAR NOT NULL,
    _line_no NUMBER NOT NULL
);

CREATE TABLE IF NOT EXISTS core.customer_versions (
    customer_id VARCHAR NOT NULL,
    name VARCHAR,
    email VARCHAR NOT NULL,
    country VARCHAR,
    segment VARCHAR,
    created_at TIMESTAMP_NTZ NOT NULL,
    updated_at TIMESTAMP_NTZ NOT NULL,
    _batch_id VARCHAR NOT NULL,
    _source_key VARCHAR NOT NULL,
    _line_no NUMBER NOT NULL
);

CREATE TABLE IF NOT EXISTS core.customers (
    customer_id VARCHAR NOT NULL,
    name VARCHAR,
    email VARCHAR NOT NULL,
    country VARCHAR,
    segment VARCHAR,
    created_at TIMESTAMP_NTZ NOT NULL,
    updated_at TIMESTAMP_NTZ NOT NULL,
    _batch_id VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS mart.order_customers (
    event_id VARCHAR NOT NULL,
    customer_known BOOLEAN NOT NULL,
    customer_name VARCHAR,
    customer_email VARCHAR,
    customer_country VARCHAR,
    customer_segment VARCHAR,
    _batch_id VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS mart.daily_sales (
    dt DATE NOT NULL,
    currency VARCHAR NOT NULL,
    orders NUMBER NOT NULL,
    events NUMBER NOT NULL,
    paid_events NUMBER NOT NULL,
    revenue NUMBER(18, 2) NOT NULL
);
