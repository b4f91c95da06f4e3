-- 01_staging.snowflake.sql - 01_staging.sql in Snowflake's dialect: the
-- same rules, the same first reason per line. TRY_PARSE_JSON parses a
-- line once; fields are read as text (a number keeps its text) and ""
-- counts as missing, as in DuckDB.
CREATE OR REPLACE VIEW staging.orders AS
WITH parsed AS (
    SELECT batch_id, source_key, line_no, line, valid_utf8,
        TRY_PARSE_JSON(line) AS j
    FROM raw.orders
), fields AS (
    SELECT batch_id, source_key, line_no, line, valid_utf8, j,
        LOWER(NULLIF(j:event_id::VARCHAR, '')) AS event_id,
        NULLIF(j:order_id::VARCHAR, '') AS order_id,
        NULLIF(j:customer_id::VARCHAR, '') AS customer_id,
        NULLIF(j:status::VARCHAR, '') AS status,
        NULLIF(j:ts::VARCHAR, '') AS ts_text,
        NULLIF(j:total::VARCHAR, '') AS total_text,
        NULLIF(j:currency::VARCHAR, '') AS currency,
        NULLIF(j:channel::VARCHAR, '') AS channel,
        NULLIF(j:coupon::VARCHAR, '') AS coupon,
        j:items AS items
    FROM parsed
), items AS (
    SELECT f.batch_id, f.source_key, f.line_no, COUNT(*) AS n,
        SUM(IFF(NULLIF(i.value:sku::VARCHAR, '') IS NOT NULL
                AND REGEXP_LIKE(i.value:qty::VARCHAR, '[0-9]{1,9}')
                AND TRY_TO_NUMBER(i.value:qty::VARCHAR) >= 1
                AND TRY_TO_DECIMAL(i.value:unit_price::VARCHAR, 12, 2) >= 0,
                0, 1)) AS bad
    FROM fields f, LATERAL FLATTEN(input => f.items) i
    GROUP BY f.batch_id, f.source_key, f.line_no
), typed AS (
    SELECT f.*,
        CASE WHEN REGEXP_LIKE(ts_text,
            '\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?(Z|[+-]\\d{2}(:?\\d{2})?)')
        THEN CONVERT_TIMEZONE('UTC', TRY_CAST(ts_text AS TIMESTAMP_TZ))::TIMESTAMP_NTZ
        END AS ts,
        TRY_TO_DECIMAL(total_text, 12, 2) AS total,
        COALESCE(it.n, 0) AS n_items, COALESCE(it.bad, 0) AS bad_items
    FROM fields f
    LEFT JOIN items it ON it.batch_id = f.batch_id
        AND it.source_key = f.source_key AND it.line_no = f.line_no
)
SELECT batch_id, source_key, line_no, line,
    CASE
        WHEN NOT valid_utf8 THEN 'invalid UTF-8 or NUL byte'
        WHEN j IS NULL THEN
            CASE WHEN TRIM(line, ' \t\r') = '' THEN 'empty line'
                 ELSE 'invalid JSON' END
        WHEN LEFT(LTRIM(line, ' \t\r'), 1) <> '{'
            THEN 'not a JSON object'
        WHEN event_id IS NULL THEN 'missing event_id'
        WHEN NOT REGEXP_LIKE(event_id,
            '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}')
            THEN 'event_id not a uuid'
        WHEN order_id IS NULL THEN 'missing order_id'
        WHEN customer_id IS NULL THEN 'missing customer_id'
        WHEN status IS NULL THEN 'missing status'
        WHEN ts_text IS NULL THEN 'missing ts'
        WHEN ts IS NULL THEN 'invalid ts'
        WHEN total_text IS NULL THEN 'missing total'
        WHEN TRY_TO_DOUBLE(total_text) IS NULL THEN 'total not numeric'
        WHEN total IS NULL OR total < 0 THEN 'total out of range'
        WHEN currency IS NULL OR NOT REGEXP_LIKE(currency, '[A-Z]{3}')
            THEN 'missing or invalid currency'
        WHEN n_items = 0 THEN 'empty items'
        WHEN bad_items > 0 THEN 'bad item (sku, qty or unit_price)'
    END AS reason,
    event_id, order_id, customer_id, status, items, total, currency, ts,
    ts::DATE AS dt, channel, coupon
FROM typed;

CREATE OR REPLACE VIEW staging.customers AS
WITH parsed AS (
    SELECT batch_id, source_key, line_no, line, valid_utf8,
        TRY_PARSE_JSON(line) AS j
    FROM raw.customers
), fields AS (
    SELECT batch_id, source_key, line_no, line, valid_utf8, j,
        NULLIF(j:customer_id::VARCHAR, '') AS customer_id,
        NULLIF(j:name::VARCHAR, '') AS name,
        NULLIF(j:email::VARCHAR, '') AS email,
        NULLIF(j:country::VARCHAR, '') AS country,
        NULLIF(j:segment::VARCHAR, '') AS segment,
        NULLIF(j:created_at::VARCHAR, '') AS created_text,
        NULLIF(j:updated_at::VARCHAR, '') AS updated_text
    FROM parsed
), typed AS (
    SELECT f.*,
        CASE WHEN REGEXP_LIKE(created_text,
            '\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?(Z|[+-]\\d{2}(:?\\d{2})?)')
        THEN CONVERT_TIMEZONE('UTC', TRY_CAST(created_text AS TIMESTAMP_TZ))::TIMESTAMP_NTZ
        END AS created_at,
        CASE WHEN REGEXP_LIKE(updated_text,
            '\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?(Z|[+-]\\d{2}(:?\\d{2})?)')
        THEN CONVERT_TIMEZONE('UTC', TRY_CAST(updated_text AS TIMESTAMP_TZ))::TIMESTAMP_NTZ
        END AS updated_at
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
        WHEN customer_id IS NULL THEN 'missing customer_id'
        WHEN updated_text IS NULL THEN 'missing updated_at'
        WHEN updated_at IS NULL THEN 'invalid updated_at'
        WHEN created_text IS NULL THEN 'missing created_at'
        WHEN created_at IS NULL THEN 'invalid created_at'
        WHEN email IS NULL THEN 'missing email'
        WHEN NOT REGEXP_LIKE(email, '[^@\\s]+@[^@\\s]+') THEN 'bad email'
    END AS reason,
    customer_id, name, email, country, segment, created_at, updated_at
FROM typed;
