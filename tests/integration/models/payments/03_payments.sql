-- 03_payments.sql - setup: the typed table and the staging view of the
-- payments stream (raw.payments and quarantine.payments come from
-- payments.stream.yaml). Uses the macros of 01_staging.sql.
CREATE TABLE IF NOT EXISTS core.payments (
    payment_id VARCHAR NOT NULL,
    order_id VARCHAR NOT NULL,
    amount DECIMAL(12, 2) NOT NULL,
    currency VARCHAR NOT NULL,
    ts TIMESTAMP NOT NULL,
    dt DATE NOT NULL,
    _batch_id VARCHAR NOT NULL,
    _source_key VARCHAR NOT NULL,
    _line_no BIGINT NOT NULL
);

CREATE OR REPLACE VIEW staging.payments AS
WITH fields AS (
    SELECT batch_id, source_key, line_no, line, valid_utf8, is_json,
        nullif(COLUMNS(* EXCLUDE (batch_id, source_key, line_no, line,
                                  valid_utf8, is_json)), '')
    FROM staging.json_fields('raw.payments',
        '{"payment_id":"VARCHAR","order_id":"VARCHAR","amount":"VARCHAR",
          "currency":"VARCHAR","ts":"VARCHAR"}')
), typed AS (
    SELECT * EXCLUDE (amount, ts), amount AS amount_text,
        TRY_CAST(amount AS DECIMAL(12, 2)) AS amount, ts AS ts_text,
        staging.iso_ts(ts) AS ts
    FROM fields
)
SELECT batch_id, source_key, line_no, line,
    coalesce(staging.line_reason(line, valid_utf8, is_json), CASE
        WHEN payment_id IS NULL THEN 'missing payment_id'
        WHEN order_id IS NULL THEN 'missing order_id'
        WHEN amount_text IS NULL THEN 'missing amount'
        WHEN amount IS NULL OR amount < 0 THEN 'invalid amount'
        WHEN currency IS NULL THEN 'missing currency'
        WHEN ts IS NULL THEN 'missing or invalid ts'
    END) AS reason,
    payment_id, order_id, amount, currency, ts, CAST(ts AS DATE) AS dt
FROM typed;
