-- 10_reset.snowflake.sql - 10_reset.sql with $b (the batch id, spelled
-- out by the engine) for DuckDB's getvariable('floe_batch').
CREATE OR REPLACE TEMPORARY TABLE _touched_customers AS
    SELECT DISTINCT customer_id FROM core.customer_versions
    WHERE _batch_id = $b;
CREATE OR REPLACE TEMPORARY TABLE _touched_days AS
    SELECT DISTINCT dt, currency FROM core.order_events
    WHERE _batch_id = $b;

DELETE FROM core.order_events WHERE _batch_id = $b;
DELETE FROM core.customer_versions WHERE _batch_id = $b;
DELETE FROM mart.order_customers WHERE _batch_id = $b;
DELETE FROM quarantine.orders WHERE batch_id = $b;
DELETE FROM quarantine.customers WHERE batch_id = $b;
