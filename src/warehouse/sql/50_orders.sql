-- 50_orders.sql - new order events: valid rows of the batch, first
-- occurrence per event_id (source_key, line_no order), inserted only when
-- the event_id is not in core.orders yet (MERGE ... WHEN NOT MATCHED).
MERGE INTO core.orders t
USING (
    SELECT event_id, order_id, customer_id, status, items, total, currency,
           ts, dt, channel, coupon, line::JSON AS raw,
           batch_id AS _batch_id, source_key AS _source_key,
           line_no AS _line_no
    FROM _stg_orders
    WHERE reason IS NULL
    QUALIFY row_number() OVER (PARTITION BY event_id
                               ORDER BY source_key, line_no) = 1
) s
ON t.event_id = s.event_id
WHEN NOT MATCHED THEN INSERT BY NAME;
