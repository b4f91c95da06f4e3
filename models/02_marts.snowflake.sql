-- 02_marts.snowflake.sql - 02_marts.sql in Snowflake's dialect (the raw
-- record as a VARIANT).
CREATE OR REPLACE VIEW core.orders AS
    SELECT o.event_id, o.order_id, o.customer_id, o.status, o.items,
           o.total, o.currency, o.ts, o.dt, o.channel, o.coupon,
           PARSE_JSON(r.line) AS raw, o._batch_id, o._source_key, o._line_no
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
