-- 20_stage.sql - materialize the batch's staged rows once (the JSON is
-- parsed here and nowhere else), so the following steps and the counts
-- read typed columns.
CREATE OR REPLACE TEMP TABLE _stg_orders AS
    SELECT * FROM staging.orders WHERE batch_id = getvariable('floe_batch');
CREATE OR REPLACE TEMP TABLE _stg_customers AS
    SELECT * FROM staging.customers
    WHERE batch_id = getvariable('floe_batch');
