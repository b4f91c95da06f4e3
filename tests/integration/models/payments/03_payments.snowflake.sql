-- 03_payments.snowflake.sql - 03_payments.sql in Snowflake's dialect.
CREATE TABLE IF NOT EXISTS core.payments (
    payment_id VARCHAR NOT NULL,
    order_id VARCHAR NOT NULL,
    amount NUMBER(12, 2) NOT NULL,
    currency VARCHAR NOT NULL,
    ts TIMESTAMP_NTZ NOT NULL,
    dt DATE NOT NULL,
    _batch_id VARCHAR NOT NULL,
    _source_key VARCHAR NOT NULL,
    _line_no NUMBER NOT NULL
);

CREATE OR REPLACE VIEW staging.payments AS
WITH parsed AS (
    SELECT batch_id, source_key, line_no, line, valid_utf8,
        TRY_PARSE_JSON(line) AS j
    FROM raw.payments
), fields AS (
    SELECT batch_id, source_key, line_no, line, valid_utf8, j,
        NULLIF(j:payment_id::VARCHAR, '') AS payment_id,
        NULLIF(j:order_id::VARCHAR, '') AS order_id,
        NULLIF(j:amount::VARCHAR, '') AS amount_text,
        NULLIF(j:currency::VARCHAR, '') AS currency,
        NULLIF(j:ts::VARCHAR, '') AS ts_text
    FROM parsed
), typed AS (
    SELECT f.*, TRY_TO_DECIMAL(amount_text, 12, 2) AS amount,
        CASE WHEN REGEXP_LIKE(ts_text,
            '\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?(Z|[+-]\\d{2}(:?\\d{2})?)')
        THEN CONVERT_TIMEZONE('UTC', TRY_CAST(ts_text AS TIMESTAMP_TZ))::TIMESTAMP_NTZ
        END AS ts
    FROM fields f
)
SELECT batch_id, source_key, line_no, line,
    CASE
        WHEN NOT valid_utf8 THEN 'invalid UTF-8 or NUL byte'
        WHEN j IS NULL THEN
            CASE WHEN TRIM(line, ' \t\r') = '' THEN 'empty line'
                 ELSE 'invalid JSON' END
        WHEN LEFT(LTRIM(line, ' \t\r'), 1) <> '{'
            THEN 'not a JSON object'
        WHEN payment_id IS NULL THEN 'missing payment_id'
        WHEN order_id IS NULL THEN 'missing order_id'
        WHEN amount_text IS NULL THEN 'missing amount'
        WHEN amount IS NULL OR amount < 0 THEN 'invalid amount'
        WHEN currency IS NULL THEN 'missing currency'
        WHEN ts IS NULL THEN 'missing or invalid ts'
    END AS reason,
    payment_id, order_id, amount, currency, ts, ts::DATE AS dt
FROM typed;
