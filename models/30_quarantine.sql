-- 30_quarantine.sql - every rejected line, verbatim, with its reason; once.
-- A line is known by its object's key below processing/batch=<id>/ (the
-- landing key without landing/) and its line number, so re-processing an
-- object (floe backfill) does not quarantine its lines a second time.
-- (regexp_replace is spelled the same in DuckDB and Snowflake.)
INSERT INTO quarantine.orders
    SELECT 'orders', s.batch_id, s.source_key, s.line_no, s.line, s.reason
    FROM _stg_orders s WHERE s.reason IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM quarantine.orders q
                      WHERE q.line_no = s.line_no
                        AND regexp_replace(q.source_key,
                                           '^processing/batch=[^/]*/', '') =
                            regexp_replace(s.source_key,
                                           '^processing/batch=[^/]*/', ''))
    ORDER BY s.source_key, s.line_no;
INSERT INTO quarantine.customers
    SELECT 'customers', s.batch_id, s.source_key, s.line_no, s.line, s.reason
    FROM _stg_customers s WHERE s.reason IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM quarantine.customers q
                      WHERE q.line_no = s.line_no
                        AND regexp_replace(q.source_key,
                                           '^processing/batch=[^/]*/', '') =
                            regexp_replace(s.source_key,
                                           '^processing/batch=[^/]*/', ''))
    ORDER BY s.source_key, s.line_no;
