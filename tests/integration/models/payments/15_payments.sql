-- 15_payments.sql - transform step of the payments stream: redo the
-- batch (idempotent), quarantine its invalid lines, add its new payments
-- (first occurrence of a payment_id wins, within and across batches).
DELETE FROM core.payments WHERE _batch_id = getvariable('floe_batch');
DELETE FROM quarantine.payments WHERE batch_id = getvariable('floe_batch');
CREATE OR REPLACE TEMP TABLE _stg_payments AS
    SELECT * FROM staging.payments WHERE batch_id = getvariable('floe_batch');
INSERT INTO quarantine.payments
    SELECT 'payments', batch_id, source_key, line_no, line, reason
    FROM _stg_payments WHERE reason IS NOT NULL
    ORDER BY source_key, line_no;
INSERT INTO core.payments
    SELECT payment_id, order_id, amount, currency, ts, dt, batch_id,
           source_key, line_no
    FROM _stg_payments s
    WHERE reason IS NULL
      AND NOT EXISTS (SELECT 1 FROM core.payments p
                      WHERE p.payment_id = s.payment_id)
    QUALIFY row_number() OVER (PARTITION BY payment_id
                               ORDER BY source_key, line_no) = 1
    ORDER BY source_key, line_no;
