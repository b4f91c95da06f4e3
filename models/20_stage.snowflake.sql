-- 20_stage.snowflake.sql - 20_stage.sql with $b for the batch id.
CREATE OR REPLACE TEMPORARY TABLE _stg_orders AS
    SELECT * FROM staging.orders WHERE batch_id = $b;
CREATE OR REPLACE TEMPORARY TABLE _stg_customers AS
    SELECT * FROM staging.customers WHERE batch_id = $b;
