-- 10_reset.sql - make transform idempotent: remember what this batch
-- touched (customers, sales days), then remove every row it added to
-- core, mart and quarantine. Later steps re-apply the batch from raw.
-- The batch id is the session variable floe_batch; the engine runs all
-- transform files in one transaction.
CREATE OR REPLACE TEMP TABLE _touched_customers AS
    SELECT DISTINCT customer_id FROM core.customer_versions
    WHERE _batch_id = getvariable('floe_batch');
CREATE OR REPLACE TEMP TABLE _touched_days AS
    SELECT DISTINCT dt, currency FROM core.order_events
    WHERE _batch_id = getvariable('floe_batch');

DELETE FROM core.order_events WHERE _batch_id = getvariable('floe_batch');
DELETE FROM core.customer_versions WHERE _batch_id = getvariable('floe_batch');
DELETE FROM mart.order_customers WHERE _batch_id = getvariable('floe_batch');
DELETE FROM quarantine.orders WHERE batch_id = getvariable('floe_batch');
DELETE FROM quarantine.customers WHERE batch_id = getvariable('floe_batch');
