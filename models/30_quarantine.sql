-- 30_quarantine.sql - every rejected line, verbatim, with its reason.
INSERT INTO quarantine.orders
    SELECT 'orders', batch_id, source_key, line_no, line, reason
    FROM _stg_orders WHERE reason IS NOT NULL
    ORDER BY source_key, line_no;
INSERT INTO quarantine.customers
    SELECT 'customers', batch_id, source_key, line_no, line, reason
    FROM _stg_customers WHERE reason IS NOT NULL
    ORDER BY source_key, line_no;
