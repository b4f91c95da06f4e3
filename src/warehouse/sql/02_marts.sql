-- 02_marts.sql - mart views (run at open, after the tables exist).
-- mart.orders_enriched: every order with the customer it was enriched
-- with at transform time; unload exports it per batch. Joined on the batch
-- id too, so a filter on _batch_id reaches both tables' scans.
CREATE OR REPLACE VIEW mart.orders_enriched AS
    SELECT o.event_id, o.order_id, o.customer_id, o.status, o.items,
           o.total, o.currency, o.ts, o.dt, o.channel, o.coupon,
           c.customer_known, c.customer_name, c.customer_email,
           c.customer_country, c.customer_segment, c._batch_id
    FROM mart.order_customers c
    JOIN core.orders o
      ON o.event_id = c.event_id AND o._batch_id = c._batch_id;
