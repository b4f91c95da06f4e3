-- 50_orders.snowflake.sql - 50_orders.sql keyed by (source_key, line_no)
-- instead of DuckDB's rowid: valid rows, first occurrence per event_id in
-- the batch, event_ids core.order_events does not hold yet.
CREATE OR REPLACE TEMPORARY TABLE _new_orders AS
    SELECT source_key, line_no FROM _stg_orders s
    WHERE reason IS NULL
      AND NOT EXISTS (SELECT 1 FROM core.order_events o
                      WHERE o.event_id = s.event_id)
    QUALIFY row_number() OVER (PARTITION BY event_id
                               ORDER BY source_key, line_no) = 1;

INSERT INTO core.order_events
    SELECT s.event_id, s.order_id, s.customer_id, s.status, s.items,
           s.total, s.currency, s.ts, s.dt, s.channel, s.coupon, s.batch_id,
           s.source_key, s.line_no
    FROM _stg_orders s
    JOIN _new_orders n ON n.source_key = s.source_key
                      AND n.line_no = s.line_no;
