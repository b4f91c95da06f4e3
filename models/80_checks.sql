-- 80_checks.sql - invariants of the default models, checked inside the
-- transform's transaction (a failure rolls the batch back): every new
-- order of the batch was enriched exactly once.
SELECT CASE WHEN
    (SELECT count(*) FROM mart.order_customers
     WHERE _batch_id = getvariable('floe_batch'))
    <> (SELECT count(*) FROM core.order_events
        WHERE _batch_id = getvariable('floe_batch'))
THEN error('counts do not add up: enriched orders are not the new orders')
END;
