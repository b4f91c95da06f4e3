-- 60_orders_enriched.snowflake.sql - 60_orders_enriched.sql keyed by
-- (source_key, line_no).
INSERT INTO mart.order_customers
    SELECT o.event_id, c.customer_id IS NOT NULL, c.name, c.email,
           c.country, c.segment, o.batch_id
    FROM _stg_orders o
    JOIN _new_orders n ON n.source_key = o.source_key
                      AND n.line_no = o.line_no
    LEFT JOIN core.customers c ON c.customer_id = o.customer_id;
