"""`floe run` as a service: while batches keep coming it holds the
warehouse and the runner lock between passes, and once none came for
--hold it lets go (checkpoint, lock free for `floe task` or another
runner) without waiting for the next --schedule tick."""
import fcntl
import gzip
import time

from conftest import FLOE, Proc, b64, wait_for

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


def test_tmp_like_stream_names_are_claimed_or_reported(tmp_path, firehose,
                                                       aws):
    """'x.tmp-1' is a legal stream name, so its objects (named
    x.tmp-1-1-<time>-<uuid>.gz) are listed like any other: under orders/
    they are claimed and processed; under a prefix of no known stream they
    are reported as unknown, never hidden."""
    import json as _json
    import subprocess

    ep = firehose.endpoint
    for name, prefix in (("x.tmp-1", "orders/"), ("y.tmp-2", "y.tmp-2/")):
        aws(ep, "firehose", "create-delivery-stream",
            "--delivery-stream-name", name,
            "--extended-s3-destination-configuration",
            "BucketARN=arn:aws:s3:::landing,RoleARN=arn:aws:iam::"
            f"123456789012:role/x,Prefix={prefix},CompressionFormat=GZIP,"
            "BufferingHints={SizeInMBs=1,IntervalInSeconds=0}")
        aws(ep, "firehose", "put-record", "--delivery-stream-name", name,
            "--record", _json.dumps({"Data": b64(ORDER)}))
    wait_for(lambda: len(firehose.lake.keys("landing/")) == 2,
             what="both objects in landing/")
    keys = firehose.lake.keys("landing/")
    assert any(".tmp-" in k for k in keys), keys
    r = subprocess.run([FLOE, "run", "--once", "--json", "--lake",
                        str(firehose.lake.root), "--state-dir",
                        str(tmp_path / "state")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = _json.loads(r.stdout)
    assert out["objects"] == 1 and out["unknown"] == 1, out
    assert "landing/y.tmp-2/" in r.stderr  # reported by name
    assert out["counts"]["raw_orders"] == 1, out
    assert [p.name for p in (firehose.lake.root / "processing").rglob(
        "x.tmp-1-1-*.gz")], "claimed into processing/"
