-- 01_staging.sql - staging views: parse raw lines, type them, and give
-- every invalid line exactly one reason (the first rule it breaks).
-- Run at open (CREATE OR REPLACE), so a new binary brings its new rules.
-- Each JSON line is validated and parsed once (json_valid, then a
-- non-strict from_json into VARCHAR fields, unpacked into columns); checks
-- run on those texts. A missing key, null and "" are all "missing" (every
-- text field goes through one nullif); extra keys are ignored here and
-- kept in raw.orders, shown as core.orders.raw (schema drift never breaks
-- loading).

-- ISO 8601 with a zone (Z or +hh:mm) -> UTC TIMESTAMP, else NULL.
CREATE OR REPLACE MACRO staging.iso_ts(s) AS
    CASE WHEN regexp_full_match(s,
        '\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}(:?\d{2})?)')
    THEN TRY_CAST(s AS TIMESTAMPTZ) AT TIME ZONE 'UTC' END;

-- The lines of a raw table (named by `tbl`), each checked once for JSON
-- and, when it is JSON, parsed by the from_json structure `spec` into one
-- column per field. Non-strict from_json: a value of the wrong shape
-- becomes NULL, a scalar read as VARCHAR keeps its text (so 12.5 and
-- "12.5" both reach the numeric checks).
CREATE OR REPLACE MACRO staging.json_fields(tbl, spec) AS TABLE
    SELECT batch_id, source_key, line_no, line, valid_utf8, is_json,
        unnest(CASE WHEN is_json THEN from_json(line, spec) END)
    FROM (SELECT *, valid_utf8 AND json_valid(line) AS is_json
          FROM query_table(tbl));

-- Why a line is no JSON object at all, else NULL. The costly checks run
-- only on lines that failed the cheap ones (CASE narrows row by row).
CREATE OR REPLACE MACRO staging.line_reason(line, valid_utf8, is_json) AS
    CASE
        WHEN NOT valid_utf8 THEN 'invalid UTF-8 or NUL byte'
        WHEN NOT is_json THEN
            CASE WHEN trim(line, E' \t\r') = '' THEN 'empty line'
                 ELSE 'invalid JSON' END
        WHEN NOT (starts_with(line, '{')
                  OR starts_with(ltrim(line, E' \t\r'), '{'))
            THEN 'not a JSON object'
    END;

CREATE OR REPLACE VIEW staging.orders AS
WITH fields AS (
    SELECT COLUMNS(c -> c NOT IN ('event_id', 'order_id', 'customer_id',
            'status', 'total', 'currency', 'ts', 'channel', 'coupon')),
        nullif(COLUMNS(c -> c IN ('event_id', 'order_id', 'customer_id',
            'status', 'total', 'currency', 'ts', 'channel', 'coupon')), '')
    FROM staging.json_fields('raw.orders',
        '{"event_id":"VARCHAR","order_id":"VARCHAR","customer_id":"VARCHAR",
          "status":"VARCHAR","total":"VARCHAR","currency":"VARCHAR",
          "ts":"VARCHAR","channel":"VARCHAR","coupon":"VARCHAR",
          "items":[{"sku":"VARCHAR","qty":"VARCHAR","unit_price":"VARCHAR"}]}')
), typed AS (
    SELECT batch_id, source_key, line_no, line, valid_utf8, is_json,
        lower(event_id) AS event_id, order_id, customer_id, status,
        ts AS ts_text, staging.iso_ts(ts) AS ts,
        total AS total_text, TRY_CAST(total AS DECIMAL(12, 2)) AS total,
        currency,
        list_transform(items, lambda e: {
            'sku': nullif(e.sku, ''),
            'qty': CASE WHEN regexp_full_match(e.qty, '[0-9]{1,9}')
                        THEN CAST(e.qty AS INTEGER) END,
            'unit_price': TRY_CAST(e.unit_price AS DECIMAL(12, 2))})
            AS items,
        channel, coupon
    FROM fields
)
SELECT batch_id, source_key, line_no, line,
    coalesce(staging.line_reason(line, valid_utf8, is_json), CASE
        WHEN event_id IS NULL THEN 'missing event_id'
        WHEN NOT regexp_full_match(event_id,
            '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}')
            THEN 'event_id not a uuid'
        WHEN order_id IS NULL THEN 'missing order_id'
        WHEN customer_id IS NULL THEN 'missing customer_id'
        WHEN status IS NULL THEN 'missing status'
        WHEN ts_text IS NULL THEN 'missing ts'
        WHEN ts IS NULL THEN 'invalid ts'
        WHEN total_text IS NULL THEN 'missing total'
        WHEN TRY_CAST(total_text AS DOUBLE) IS NULL
            THEN 'total not numeric'
        WHEN total IS NULL OR total < 0 THEN 'total out of range'
        WHEN currency IS NULL OR NOT regexp_full_match(currency, '[A-Z]{3}')
            THEN 'missing or invalid currency'
        WHEN coalesce(len(items), 0) = 0 THEN 'empty items'
        WHEN NOT coalesce(list_bool_and(list_transform(items, lambda e:
                coalesce(e.sku IS NOT NULL AND e.qty >= 1
                         AND e.unit_price >= 0, false))), false)
            THEN 'bad item (sku, qty or unit_price)'
    END) AS reason,
    event_id, order_id, customer_id, status, items, total, currency, ts,
    CAST(ts AS DATE) AS dt, channel, coupon
FROM typed;

CREATE OR REPLACE VIEW staging.customers AS
WITH fields AS (
    SELECT batch_id, source_key, line_no, line, valid_utf8, is_json,
        nullif(COLUMNS(* EXCLUDE (batch_id, source_key, line_no, line,
                                  valid_utf8, is_json)), '')
    FROM staging.json_fields('raw.customers',
        '{"customer_id":"VARCHAR","name":"VARCHAR","email":"VARCHAR",
          "country":"VARCHAR","segment":"VARCHAR","created_at":"VARCHAR",
          "updated_at":"VARCHAR"}')
), typed AS (
    SELECT * EXCLUDE (created_at, updated_at),
        created_at AS created_text, staging.iso_ts(created_at) AS created_at,
        updated_at AS updated_text, staging.iso_ts(updated_at) AS updated_at
    FROM fields
)
SELECT batch_id, source_key, line_no, line,
    coalesce(staging.line_reason(line, valid_utf8, is_json), CASE
        WHEN customer_id IS NULL THEN 'missing customer_id'
        WHEN updated_text IS NULL THEN 'missing updated_at'
        WHEN updated_at IS NULL THEN 'invalid updated_at'
        WHEN created_text IS NULL THEN 'missing created_at'
        WHEN created_at IS NULL THEN 'invalid created_at'
        WHEN email IS NULL THEN 'missing email'
        WHEN NOT regexp_full_match(email, '[^@\s]+@[^@\s]+')
            THEN 'bad email'
    END) AS reason,
    customer_id, name, email, country, segment, created_at, updated_at
FROM typed;
