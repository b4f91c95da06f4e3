-- 70_daily_sales.sql - recompute the (day, currency) rows this batch
-- touched, before or now, from core.order_events; other days stay as
-- they are.
INSERT INTO _touched_days
    SELECT DISTINCT dt, currency FROM _stg_orders
    WHERE rowid IN (SELECT r FROM _new_orders);

DELETE FROM mart.daily_sales d
WHERE EXISTS (SELECT 1 FROM _touched_days t
              WHERE t.dt = d.dt AND t.currency = d.currency);

INSERT INTO mart.daily_sales
    SELECT o.dt, o.currency, count(DISTINCT o.order_id), count(*),
           count(*) FILTER (WHERE o.status = 'paid'),
           coalesce(sum(o.total) FILTER (WHERE o.status = 'paid'), 0)
    FROM core.order_events o
    WHERE EXISTS (SELECT 1 FROM _touched_days t
                  WHERE t.dt = o.dt AND t.currency = o.currency)
    GROUP BY o.dt, o.currency
    ORDER BY o.dt, o.currency;
