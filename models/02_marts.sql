-- 02_marts.sql - views over the tables (run at open, after they exist).
-- core.orders: every order event with its original record as JSON (raw,
-- extra keys kept), joined from the line it came from in raw.orders, so
-- the line is stored once. Transform and unload read core.order_events.
-- mart.orders_enriched: every order with the customer it was enriched
-- with at transform time; unload exports it per batch. Joined on the batch
-- id too, so a filter on _batch_id reaches both tables' scans.
CREATE OR REPLACE VIEW core.orders AS
    SELECT o.event_id, o.order_id, o.customer_id, o.status, o.items,
           o.total, o.currency, o.ts, o.dt, o.channel, o.coupon,
           r.line::JSON AS raw, o._batch_id, o._source_key, o._line_no
    FROM core.order_events o
    JOIN raw.orders r
      ON r.batch_id = o._batch_id AND r.source_key = o._source_key
     AND r.line_no = o._line_no;

CREATE OR REPLACE VIEW mart.orders_enriched AS
    SELECT o.event_id, o.order_id, o.customer_id, o.status, o.items,
           o.total, o.currency, o.ts, o.dt, o.channel, o.coupon,
           c.customer_known, c.customer_name, c.customer_email,
           c.customer_country, c.customer_segment, c._batch_id
    FROM mart.order_customers c
    JOIN core.order_events o
      ON o.event_id = c.event_id AND o._batch_id = c._batch_id;
