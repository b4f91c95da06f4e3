-- 15_payments.snowflake.sql - 15_payments.sql with $b for the batch id.
DELETE FROM core.payments WHERE _batch_id = $b;
DELETE FROM quarantine.payments WHERE batch_id = $b;
CREATE OR REPLACE TEMPORARY TABLE _stg_payments AS
    SELECT * FROM staging.payments WHERE batch_id = $b;
INSERT INTO quarantine.payments
    SELECT 'payments', batch_id, source_key, line_no, line, reason
    FROM _stg_payments WHERE reason IS NOT NULL;
INSERT INTO core.payments
    SELECT payment_id, order_id, amount, currency, ts, dt, batch_id,
           source_key, line_no
    FROM _stg_payments s
    WHERE reason IS NULL
      AND NOT EXISTS (SELECT 1 FROM core.payments p
                      WHERE p.payment_id = s.payment_id)
    QUALIFY row_number() OVER (PARTITION BY payment_id
                               ORDER BY source_key, line_no) = 1;
