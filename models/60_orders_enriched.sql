-- 60_orders_enriched.sql - the customer of each of the batch's new orders:
-- the latest version in core.customers now. An unknown customer is valid
-- (late-arriving dimension): its fields are NULL and customer_known is
-- false. Only the customer columns are stored (mart.order_customers); the
-- view mart.orders_enriched adds the order's own columns from core.orders.
INSERT INTO mart.order_customers
    SELECT o.event_id, c.customer_id IS NOT NULL, c.name, c.email,
           c.country, c.segment, o.batch_id
    FROM _stg_orders o
    LEFT JOIN core.customers c ON c.customer_id = o.customer_id
    WHERE o.rowid IN (SELECT r FROM _new_orders);
