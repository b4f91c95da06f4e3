"""`floe run` as a service: while batches keep coming it holds the
warehouse and the runner lock between passes, and once none came for
--hold it lets go (checkpoint, lock free for `floe task` or another
runner) without waiting for the next --schedule tick."""
import fcntl
import gzip
import time

from conftest import FLOE, Proc, wait_for

ORDER = (b'{"event_id":"6f1c1f0e-8a39-4c1e-9a55-0d2b7a1c0001",'
         b'"order_id":"O00000001","customer_id":"C000001",'
         b'"status":"created","items":[{"sku":"SKU-1","qty":1,'
         b'"unit_price":5.5}],"total":5.5,"currency":"EUR",'
         b'"ts":"2026-11-24T19:56:00.123Z"}\n')


def lock_free(path):
    with open(path, "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(f, fcntl.LOCK_UN)
        return True


def test_run_lets_go_after_hold(tmp_path):
    lake, state = tmp_path / "lake", tmp_path / "state"
    key = lake / "landing/orders/2026/11/24/19"
    key.mkdir(parents=True)
    (key / "orders-1-2026-11-24-19-56-00-x.gz").write_bytes(
        gzip.compress(ORDER))
    run = Proc([FLOE, "run", "--lake", str(lake), "--state-dir", str(state),
                "--schedule", "60s", "--hold", "1s"], tmp_path / "run.log")
    try:
        wait_for(lambda: list((lake / "processed/orders").rglob("*.parquet")),
                 what="the batch in processed/orders")
        t0 = time.monotonic()
        lock = state / "orchestrator.lock"
        wait_for(lambda: lock.exists() and lock_free(lock), timeout=10,
                 what="the runner lock after --hold 1s")
        # released after about --hold, long before the 60 s tick
        assert time.monotonic() - t0 < 10
        assert run.p.poll() is None, run.output()
    finally:
        assert run.stop() == 0, run.output()
