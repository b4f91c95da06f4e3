-- 70_daily_sales.snowflake.sql - 70_daily_sales.sql keyed by
-- (source_key, line_no), with IFF for DuckDB's FILTER.
INSERT INTO _touched_days
    SELECT DISTINCT o.dt, o.currency FROM _stg_orders o
    JOIN _new_orders n ON n.source_key = o.source_key
                      AND n.line_no = o.line_no;

DELETE FROM mart.daily_sales d
WHERE EXISTS (SELECT 1 FROM _touched_days t
              WHERE t.dt = d.dt AND t.currency = d.currency);

INSERT INTO mart.daily_sales
    SELECT o.dt, o.currency, COUNT(DISTINCT o.order_id), COUNT(*),
           SUM(IFF(o.status = 'paid', 1, 0)),
           COALESCE(SUM(IFF(o.status = 'paid', o.total, NULL)), 0)
    FROM core.order_events o
    WHERE EXISTS (SELECT 1 FROM _touched_days t
                  WHERE t.dt = o.dt AND t.currency = o.currency)
    GROUP BY o.dt, o.currency;
