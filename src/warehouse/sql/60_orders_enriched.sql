-- 60_orders_enriched.sql - the batch's new orders joined with the latest
-- customers. An unknown customer is valid (late-arriving dimension): its
-- customer fields are NULL and customer_known is false.
INSERT INTO mart.orders_enriched
    SELECT o.event_id, o.order_id, o.customer_id, o.status, o.items, o.total,
           o.currency, o.ts, o.dt, o.channel, o.coupon,
           c.customer_id IS NOT NULL, c.name, c.email, c.country, c.segment,
           o._batch_id
    FROM core.orders o
    LEFT JOIN core.customers c ON c.customer_id = o.customer_id
    WHERE o._batch_id = getvariable('floe_batch')
    ORDER BY o._source_key, o._line_no;
