"""Every part of Floe on S3, against the strict server (versitygw checks
signatures and payload hashes): `floe firehose` delivers into an s3://
lake, `floe run` claims, loads and unloads there, the AWS CLI lists and
downloads what Floe wrote and pyarrow reads the Parquet; `floe demo
--lake s3://` reconciles with nothing lost or doubled; `floe run` killed
in the middle of a claim is completed exactly once by the next pass."""
import gzip
import json
import signal
import subprocess

import pyarrow.parquet as pq
import pytest

from conftest import FLOE, Proc, wait_for
from s3lib import BUCKET, FaultProxy, StrictS3

ROLE = "arn:aws:iam::123456789012:role/firehose"


def order(i):
    return (json.dumps({
        "event_id": f"00000000-0000-4000-8000-{i:012d}",
        "order_id": f"O{i:08d}", "customer_id": "C000001",
        "status": "created",
        "items": [{"sku": "SKU-1", "qty": i, "unit_price": 2.5}],
        "total": 2.5 * i, "currency": "EUR",
        "ts": "2026-11-24T19:56:00.123Z"}) + "\n").encode()


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    srv = StrictS3(tmp_path_factory.mktemp("strict")).start()
    yield srv
    srv.stop()


def s3_keys(s3, prefix):
    out = s3.aws_cli("s3api", "list-objects-v2", "--bucket", BUCKET,
                     "--prefix", prefix, "--output", "json")
    return [o["Key"] for o in json.loads(out or "{}").get("Contents", [])]


def processed_orders(s3, lake_prefix, tmp_path):
    """Download processed/orders with the AWS CLI; rows read by pyarrow."""
    dst = tmp_path / "dl"
    s3.aws_cli("s3", "cp", "--recursive",
               f"s3://{BUCKET}/{lake_prefix}/processed/orders/", str(dst))
    rows = []
    for f in sorted(dst.rglob("*.parquet")):
        rows += pq.read_table(f).to_pylist()
    return rows


def test_firehose_into_s3_then_run_unloads_parquet(s3, tmp_path):
    lake = s3.url("fh")
    ready = tmp_path / "port"
    fh = Proc([FLOE, "firehose", "--lake", lake, "--state-dir",
               str(tmp_path / "fh-state"), "--port", "0", "--ready-file",
               str(ready)], tmp_path / "firehose.log", env=s3.env())
    try:
        wait_for(lambda: ready.exists() or fh.p.poll() is not None,
                 what="firehose to listen")
        assert fh.p.poll() is None, fh.output()
        ep = f"http://127.0.0.1:{int(ready.read_text())}"
        import boto3
        fc = boto3.client("firehose", endpoint_url=ep, region_name="us-east-1",
                          aws_access_key_id="AKIDFLOETEST",
                          aws_secret_access_key="floe-test-secret")
        fc.create_delivery_stream(
            DeliveryStreamName="orders",
            ExtendedS3DestinationConfiguration={
                "RoleARN": ROLE, "BucketARN": "arn:aws:s3:::landing",
                "Prefix": "orders/", "CompressionFormat": "GZIP",
                "BufferingHints": {"SizeInMBs": 5, "IntervalInSeconds": 60}})
        sent = b"".join(order(i) for i in range(1, 6))
        out = fc.put_record_batch(DeliveryStreamName="orders", Records=[
            {"Data": order(i)} for i in range(1, 6)])
        assert out["FailedPutCount"] == 0
    finally:
        assert fh.stop() == 0, fh.output()  # SIGTERM flushes the buffer
    keys = s3_keys(s3, "fh/landing/orders/")
    assert len(keys) == 1 and keys[0].endswith(".gz"), keys
    got = tmp_path / "landed.gz"
    s3.aws_cli("s3", "cp", f"s3://{BUCKET}/{keys[0]}", str(got))
    assert gzip.decompress(got.read_bytes()) == sent

    r = subprocess.run([FLOE, "run", "--once", "--lake", lake, "--state-dir",
                        str(tmp_path / "run-state")], capture_output=True,
                       env=s3.env(), timeout=120)
    assert r.returncode == 0, r.stderr.decode()
    assert s3_keys(s3, "fh/landing/") == []
    rows = processed_orders(s3, "fh", tmp_path)
    assert sorted((r["event_id"], r["order_id"], float(r["total"]))
                  for r in rows) == \
        [(f"00000000-0000-4000-8000-{i:012d}", f"O{i:08d}", 2.5 * i)
         for i in range(1, 6)]


def test_demo_on_strict_s3(s3, tmp_path):
    r = subprocess.run([FLOE, "demo", "--dir", str(tmp_path / "demo"),
                        "--lake", s3.url("demo"), "--orders", "3000",
                        "--customers", "300", "--json"],
                       capture_output=True, env=s3.env(), timeout=300)
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    rec = json.loads(r.stdout)
    assert rec["lost"] == 0 and rec["doubled"] == 0, rec
    assert rec["processed_orders"] == 3000, rec
    # a second demo into the same prefix is refused, not mixed in
    r = subprocess.run([FLOE, "demo", "--dir", str(tmp_path / "demo2"),
                        "--lake", s3.url("demo"), "--orders", "10"],
                       capture_output=True, env=s3.env(), timeout=60)
    assert r.returncode != 0 and b"already holds objects" in r.stderr


@pytest.mark.parametrize("marker,n", [(b"x-amz-copy-source:", 2),
                                      (b"DELETE /", 1),
                                      (b"DELETE /", 3)])
def test_run_killed_mid_claim_completes_once(s3, tmp_path, marker, n):
    prefix = f"kill{n}{marker[:3].decode().strip('-')}"
    lake = s3.url(prefix)
    c = s3.client()
    want = set()
    for obj in range(3):
        body = b"".join(order(obj * 10 + i) for i in range(1, 4))
        want |= {f"00000000-0000-4000-8000-{obj * 10 + i:012d}"
                 for i in range(1, 4)}
        c.put_object(Bucket=BUCKET, Key=f"{prefix}/landing/orders/2026/11/24/"
                     f"19/orders-1-2026-11-24-19-56-0{obj}-x{obj}.gz",
                     Body=gzip.compress(body))
    state = tmp_path / "state"
    seen, victim = [0], []

    def nth_request(chunk):  # the n-th request with marker goes no further
        seen[0] += chunk.count(marker)
        return seen[0] >= n
    proxy = FaultProxy(s3.port, nth_request,
                       lambda: victim[0].send_signal(signal.SIGKILL))
    try:
        run = subprocess.Popen(
            [FLOE, "run", "--once", "--lake", lake, "--state-dir",
             str(state)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env=s3.env(endpoint=proxy.endpoint))
        victim.append(run)
        run.wait(timeout=120)
        assert proxy.fired.is_set() and run.returncode == -9, \
            run.stderr.read().decode()
    finally:
        proxy.close()
    # the claim is half done: a manifest, some objects moved
    assert s3_keys(s3, f"{prefix}/processing/")
    r = subprocess.run([FLOE, "run", "--once", "--lake", lake, "--state-dir",
                        str(state)], capture_output=True, env=s3.env(),
                       timeout=120)
    assert r.returncode == 0, r.stderr.decode()
    assert s3_keys(s3, f"{prefix}/landing/") == []
    rows = processed_orders(s3, prefix, tmp_path)
    ids = [r["event_id"] for r in rows]
    assert sorted(ids) == sorted(want)  # each exactly once


@pytest.mark.parametrize("cmd", ["firehose", "run"])
def test_refused_lake_stops_at_start_with_the_s3_reason(s3, tmp_path, cmd):
    """A wrong secret or a missing bucket is said at once, not retried."""
    args = [FLOE, cmd, "--state-dir", str(tmp_path / "st")] + (
        ["--port", "0"] if cmd == "firehose" else ["--once"])
    r = subprocess.run(args + ["--lake", s3.url("x")], capture_output=True,
                       env=s3.env(secret="wrong-secret"), timeout=60)
    assert r.returncode != 0
    assert b"SignatureDoesNotMatch" in r.stderr, r.stderr
    r = subprocess.run(args + ["--lake", "s3://floe-no-such-bucket/x"],
                       capture_output=True, env=s3.env(), timeout=60)
    assert r.returncode != 0
    assert b"NoSuchBucket" in r.stderr, r.stderr
