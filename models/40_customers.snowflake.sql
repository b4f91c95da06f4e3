-- 40_customers.snowflake.sql - 40_customers.sql with the MERGE's columns
-- spelled out (Snowflake has no EXCLUDE in MERGE sources, no INSERT BY
-- NAME).
INSERT INTO core.customer_versions
    SELECT s.customer_id, s.name, s.email, s.country, s.segment,
           s.created_at, s.updated_at, s.batch_id, s.source_key, s.line_no
    FROM _stg_customers s
    WHERE s.reason IS NULL
      AND NOT EXISTS (SELECT 1 FROM core.customer_versions v
                      WHERE v.customer_id = s.customer_id
                        AND v.updated_at = s.updated_at)
    QUALIFY row_number() OVER (PARTITION BY s.customer_id, s.updated_at
                               ORDER BY s.source_key, s.line_no) = 1;

INSERT INTO _touched_customers
    SELECT DISTINCT customer_id FROM _stg_customers WHERE reason IS NULL;

MERGE INTO core.customers t
USING (
    SELECT v.customer_id, v.name, v.email, v.country, v.segment,
           v.created_at, v.updated_at, v._batch_id
    FROM core.customer_versions v
    WHERE v.customer_id IN (SELECT customer_id FROM _touched_customers)
    QUALIFY row_number() OVER (PARTITION BY v.customer_id
                               ORDER BY v.updated_at DESC) = 1
) s
ON t.customer_id = s.customer_id
WHEN MATCHED AND (t.updated_at <> s.updated_at OR t._batch_id <> s._batch_id)
    THEN UPDATE SET name = s.name, email = s.email, country = s.country,
        segment = s.segment, created_at = s.created_at,
        updated_at = s.updated_at, _batch_id = s._batch_id
WHEN NOT MATCHED THEN INSERT (customer_id, name, email, country, segment,
        created_at, updated_at, _batch_id)
    VALUES (s.customer_id, s.name, s.email, s.country, s.segment,
        s.created_at, s.updated_at, s._batch_id);

DELETE FROM core.customers
WHERE customer_id IN (SELECT customer_id FROM _touched_customers)
  AND customer_id NOT IN (SELECT customer_id FROM core.customer_versions);
