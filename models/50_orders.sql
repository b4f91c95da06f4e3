-- 50_orders.sql - the batch's new order events: valid rows, first
-- occurrence per event_id within the batch (source_key, line_no order),
-- and only event_ids core.order_events does not hold yet. _new_orders
-- holds just the rowids of those _stg_orders rows: the checks run on
-- narrow keys (a window over the few repeated ids, an anti-join probing
-- core.order_events' event_id column) and whole rows are read once, by
-- the inserts. The line itself stays in raw.orders (view core.orders).
CREATE OR REPLACE TEMP TABLE _new_orders AS
WITH valid AS (
    SELECT rowid AS r, event_id, source_key, line_no
    FROM _stg_orders WHERE reason IS NULL
), repeated AS (
    SELECT * FROM valid QUALIFY count(*) OVER (PARTITION BY event_id) > 1
), later AS (
    SELECT r FROM repeated
    QUALIFY row_number() OVER (PARTITION BY event_id
                               ORDER BY source_key, line_no) > 1
)
SELECT r FROM valid v
WHERE r NOT IN (SELECT r FROM later)
  AND NOT EXISTS (SELECT 1 FROM core.order_events o
                  WHERE o.event_id = v.event_id);

INSERT INTO core.order_events
    SELECT event_id, order_id, customer_id, status, items, total, currency,
           ts, dt, channel, coupon, batch_id, source_key, line_no
    FROM _stg_orders WHERE rowid IN (SELECT r FROM _new_orders);
