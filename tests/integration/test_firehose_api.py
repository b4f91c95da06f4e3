"""End-to-end tests of `floe firehose` with real clients (AWS CLI, boto3,
raw HTTP): the Firehose JSON 1.1 API, error mapping, delivery into the
landing zone (names, gzip, byte-exact concatenation), restart, SIGTERM
flush, write-ahead-log replay after kill -9, back-pressure."""
import base64
import datetime
import gzip
import json
import re
import threading
import urllib.error
import urllib.request

import pytest

from conftest import Firehose, b64, gunzip, wait_for

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
TS = r"\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}"
ROLE = "arn:aws:iam::123456789012:role/firehose"


def s3_config(prefix="orders/", interval=1, size=5, compression="GZIP",
              **extra):
    cfg = {"RoleARN": ROLE, "BucketARN": "arn:aws:s3:::landing",
           "Prefix": prefix,
           "BufferingHints": {"SizeInMBs": size, "IntervalInSeconds": interval},
           "CompressionFormat": compression}
    cfg.update(extra)
    return cfg


def raw(fh, op, body, target_prefix="Firehose_20150804."):
    """POST a raw body; returns (status, headers, parsed JSON)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(fh.endpoint + "/", data=data, method="POST")
    req.add_header("Content-Type", "application/x-amz-json-1.1")
    if op is not None:
        req.add_header("X-Amz-Target", target_prefix + op)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, e.headers, json.loads(e.read() or b"{}")


def create(fh, name="orders", **kw):
    st, _, out = raw(fh, "CreateDeliveryStream", {
        "DeliveryStreamName": name, "DeliveryStreamType": "DirectPut",
        "ExtendedS3DestinationConfiguration": s3_config(**kw)})
    assert st == 200, out
    return out


def landed(fh, prefix, n=1):
    return wait_for(lambda: (lambda k: k if len(k) >= n else None)(
        fh.lake.keys(prefix)), timeout=30, what=f"{n} objects under {prefix}")


def content(fh, keys):
    out = b""
    for k in keys:
        data = fh.lake.read(k)
        out += gunzip(data) if k.endswith(".gz") else data
    return out


def log_text(fh):
    """The server log, also after stop (Proc.output needs an open log)."""
    return open(fh.proc.log_path, errors="replace").read()


def assert_alive(fh):
    st, h, out = raw(fh, "ListDeliveryStreams", {})
    assert st == 200 and "DeliveryStreamNames" in out
    assert h["x-amzn-RequestId"]
    # request ids: UUID-shaped and never the same twice
    _, h2, _ = raw(fh, "ListDeliveryStreams", {})
    uuid = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}"
                      r"-[0-9a-f]{12}$")
    assert uuid.match(h["x-amzn-RequestId"]), h["x-amzn-RequestId"]
    assert uuid.match(h2["x-amzn-RequestId"])
    assert h2["x-amzn-RequestId"] != h["x-amzn-RequestId"]


def test_cli_lifecycle_and_gzip_delivery(firehose, aws, tmp_path):
    ep = firehose.endpoint
    out = aws(ep, "firehose", "create-delivery-stream",
              "--delivery-stream-name", "orders",
              "--extended-s3-destination-configuration",
              json.dumps(s3_config(interval=1)))
    assert out["DeliveryStreamARN"] == (
        "arn:aws:firehose:us-east-1:123456789012:deliverystream/orders")
    # AWS CLI v1 takes blob arguments as raw text and base64-encodes them.
    out = aws(ep, "firehose", "put-record", "--delivery-stream-name",
              "orders", "--record", json.dumps({"Data": '{"event_id":"e1"}\n'}))
    assert out["RecordId"]
    recs = [{"Data": '{"event_id":"e%d"}\n' % i} for i in range(2, 6)]
    path = tmp_path / "recs.json"
    path.write_text(json.dumps(recs))
    out = aws(ep, "firehose", "put-record-batch", "--delivery-stream-name",
              "orders", "--records", f"file://{path}")
    assert out["FailedPutCount"] == 0
    ids = [r["RecordId"] for r in out["RequestResponses"]]
    assert len(ids) == 4 and len(set(ids)) == 4

    desc = aws(ep, "firehose", "describe-delivery-stream",
               "--delivery-stream-name", "orders")["DeliveryStreamDescription"]
    assert desc["DeliveryStreamStatus"] == "ACTIVE"
    assert desc["DeliveryStreamType"] == "DirectPut"
    assert desc["VersionId"] == "1"
    assert desc["HasMoreDestinations"] is False
    d = desc["Destinations"][0]
    assert d["DestinationId"] == "destinationId-000000000001"
    ext = d["ExtendedS3DestinationDescription"]
    assert ext["BucketARN"] == "arn:aws:s3:::landing"
    assert ext["Prefix"] == "orders/"
    assert ext["BufferingHints"] == {"SizeInMBs": 5, "IntervalInSeconds": 1}
    assert ext["CompressionFormat"] == "GZIP"
    assert ext["EncryptionConfiguration"] == {"NoEncryptionConfig": "NoEncryption"}
    assert d["S3DestinationDescription"]["BucketARN"] == "arn:aws:s3:::landing"

    names = aws(ep, "firehose", "list-delivery-streams")
    assert names == {"DeliveryStreamNames": ["orders"],
                     "HasMoreDeliveryStreams": False}

    want = b"".join(b'{"event_id":"e%d"}\n' % i for i in range(1, 6))
    wait_for(lambda: content(firehose, firehose.lake.keys("landing/orders/"))
             == want, what="all records delivered")
    pat = re.compile(r"^landing/orders/(\d{4})/(\d{2})/(\d{2})/(\d{2})/"
                     rf"orders-1-({TS})-{UUID}\.gz$")
    now = datetime.datetime.now(datetime.timezone.utc)
    for k in firehose.lake.keys("landing/"):
        m = pat.match(k)
        assert m, k
        y, mo, dd, hh, ts = m.groups()
        assert ts.startswith(f"{y}-{mo}-{dd}-{hh}-")
        t = datetime.datetime.strptime(ts, "%Y-%m-%d-%H-%M-%S").replace(
            tzinfo=datetime.timezone.utc)
        assert abs((now - t).total_seconds()) < 120
        # one gzip member
        data = firehose.lake.read(k)
        assert data[:2] == b"\x1f\x8b"
        assert gzip.decompress(data)


def test_boto3_binary_records_byte_exact(firehose, boto_firehose):
    fh = boto_firehose(firehose.endpoint)
    fh.create_delivery_stream(
        DeliveryStreamName="bin", DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration=s3_config(
            prefix="bin/", interval=0, compression="UNCOMPRESSED"))
    records = [bytes(range(256)), b"", b"\n", b"x" * 1024000, b"tail"]
    out = fh.put_record_batch(DeliveryStreamName="bin",
                              Records=[{"Data": r} for r in records])
    assert out["FailedPutCount"] == 0
    assert len(out["RequestResponses"]) == 5
    one = fh.put_record(DeliveryStreamName="bin", Record={"Data": b"last"})
    assert one["RecordId"] not in [r["RecordId"] for r in out["RequestResponses"]]
    want = b"".join(records) + b"last"

    def delivered():
        # Zero buffering may deliver the batch and the single record as two
        # objects named in the same second: their key order (a random
        # UUID) says nothing about arrival, so put the 'last' one last.
        parts = [content(firehose, [k])
                 for k in firehose.lake.keys("landing/bin/")]
        return b"".join(sorted(parts, key=lambda p: p == b"last"))
    wait_for(lambda: delivered() == want, what="byte-exact delivery")
    for k in firehose.lake.keys("landing/bin/"):
        assert re.match(rf"^landing/bin/\d{{4}}/\d{{2}}/\d{{2}}/\d{{2}}/"
                        rf"bin-1-{TS}-{UUID}$", k), k


def test_custom_prefix_expressions(firehose, boto_firehose):
    fh = boto_firehose(firehose.endpoint)
    fh.create_delivery_stream(
        DeliveryStreamName="custom",
        ExtendedS3DestinationConfiguration=s3_config(
            prefix="logs/!{timestamp:yyyy'-x-'MM}/r=!{firehose:random-string}/",
            ErrorOutputPrefix="err/!{firehose:error-output-type}/",
            interval=0))
    fh.put_record(DeliveryStreamName="custom", Record={"Data": b"abc"})
    keys = landed(firehose, "landing/logs/")
    assert re.match(rf"^landing/logs/\d{{4}}-x-\d{{2}}/r=[0-9a-f]{{8}}-"
                    rf"[0-9a-f]{{2}}/custom-1-{TS}-{UUID}\.gz$", keys[0]), keys


@pytest.mark.parametrize("cfg,needle", [
    ({"Prefix": "a/!{timestamp:yyyy}/"}, "ErrorOutputPrefix must be given"),
    ({"Prefix": "a/!{nope:x}/", "ErrorOutputPrefix": "e/"}, "namespace"),
    ({"Prefix": "a/!{timestamp:yyyy", "ErrorOutputPrefix": "e/"}, "!{"),
    ({"Prefix": "a/!{firehose:error-output-type}/"}, "error-output-type"),
    ({"Prefix": "a/!{timestamp:yyyy}/",
      "ErrorOutputPrefix": "e/!{timestamp:yyyy}/"}, "error-output-type"),
    ({"Prefix": "a/!{timestamp:QQ}/",
      "ErrorOutputPrefix": "e/!{firehose:error-output-type}"}, "letter"),
])
def test_prefix_rules_rejected(firehose, cfg, needle):
    st, h, out = raw(firehose, "CreateDeliveryStream", {
        "DeliveryStreamName": "p", "ExtendedS3DestinationConfiguration":
        dict(s3_config(), **cfg)})
    assert st == 400 and out["__type"] == "InvalidArgumentException", out
    assert h["x-amzn-ErrorType"] == "InvalidArgumentException"
    assert needle in out["message"]
    assert_alive(firehose)


def test_errors_and_server_keeps_serving(firehose):
    create(firehose, interval=900)
    cases = []

    def check(status, etype, op, body, needle=None, **kw):
        st, h, out = raw(firehose, op, body, **kw)
        assert st == status, (op, out)
        assert out.get("__type") == etype, (op, out)
        assert h["x-amzn-ErrorType"] == etype
        assert h["x-amzn-RequestId"]
        assert isinstance(out.get("message"), str)
        if needle:
            assert needle in out["message"], out
        assert_alive(firehose)
        cases.append(etype)

    check(400, "SerializationException", "PutRecord", b"{not json")
    check(400, "SerializationException", "PutRecord", b"[1,2]")
    check(400, "UnknownOperationException", "Bogus", {})
    check(400, "UnknownOperationException", "PutRecord", {},
          target_prefix="Kinesis_20131202.")
    check(400, "UnknownOperationException", None, {})
    check(400, "ResourceNotFoundException", "PutRecord",
          {"DeliveryStreamName": "nope", "Record": {"Data": b64(b"x")}},
          "Firehose nope under account 123456789012 not found.")
    check(400, "ResourceNotFoundException", "DescribeDeliveryStream",
          {"DeliveryStreamName": "nope"})
    check(400, "ResourceNotFoundException", "DeleteDeliveryStream",
          {"DeliveryStreamName": "nope"})
    big = b64(b"x" * 1024001)
    check(400, "ValidationException", "PutRecordBatch",
          {"DeliveryStreamName": "orders",
           "Records": [{"Data": b64(b"ok")}, {"Data": big}]},
          "records.2.member.data")
    check(400, "ValidationException", "PutRecord",
          {"DeliveryStreamName": "orders", "Record": {"Data": big}},
          "record.data")
    check(400, "ValidationException", "PutRecordBatch",
          {"DeliveryStreamName": "orders",
           "Records": [{"Data": b64(b"a")}] * 501}, "500")
    check(400, "ValidationException", "PutRecordBatch",
          {"DeliveryStreamName": "orders", "Records": []})
    check(400, "ValidationException", "PutRecordBatch",
          {"DeliveryStreamName": "orders", "Records": [{"NoData": "x"}]},
          "records.1.member.data")
    check(400, "ValidationException", "PutRecord",
          {"Record": {"Data": b64(b"x")}}, "deliveryStreamName")
    check(400, "ValidationException", "CreateDeliveryStream",
          {"DeliveryStreamName": "bad name!",
           "ExtendedS3DestinationConfiguration": s3_config()},
          "deliveryStreamName")
    check(400, "ValidationException", "CreateDeliveryStream",
          {"DeliveryStreamName": "x" * 65,
           "ExtendedS3DestinationConfiguration": s3_config()})
    check(400, "ValidationException", "CreateDeliveryStream",
          {"DeliveryStreamName": "s",
           "ExtendedS3DestinationConfiguration": s3_config(size=129)},
          "sizeInMBs")
    check(400, "ValidationException", "CreateDeliveryStream",
          {"DeliveryStreamName": "s",
           "ExtendedS3DestinationConfiguration": s3_config(interval=901)})
    check(400, "InvalidArgumentException", "CreateDeliveryStream",
          {"DeliveryStreamName": "s",
           "ExtendedS3DestinationConfiguration": s3_config(),
           "S3DestinationConfiguration": s3_config()})
    check(400, "InvalidArgumentException", "CreateDeliveryStream",
          {"DeliveryStreamName": "s",
           "DeliveryStreamType": "KinesisStreamAsSource",
           "ExtendedS3DestinationConfiguration": s3_config()},
          "not supported")
    check(400, "SerializationException", "CreateDeliveryStream",
          {"DeliveryStreamName": 7})
    check(400, "ResourceInUseException", "CreateDeliveryStream",
          {"DeliveryStreamName": "orders",
           "ExtendedS3DestinationConfiguration": s3_config()},
          "already exists")
    # 5 x 1,000,000 decoded bytes: over the 4 MiB batch limit.
    check(400, "InvalidArgumentException", "PutRecordBatch",
          {"DeliveryStreamName": "orders",
           "Records": [{"Data": b64(b"y" * 1000000)}] * 5},
          "Records size exceeds 4 MB limit")
    check(400, "SerializationException", "PutRecordBatch",
          {"DeliveryStreamName": "orders",
           "Records": [{"Data": b64(b"good")}, {"Data": "!!!!"}]})
    check(400, "SerializationException", "PutRecord",
          {"DeliveryStreamName": "orders", "Record": {"Data": "abc"}})
    check(400, "SerializationException", "PutRecord",
          {"DeliveryStreamName": "orders", "Record": {"Data": 12}})
    # A body over --max-request: test_firehose_http.py (refused unread).
    assert_alive(firehose)
    # Nothing of the refused batches reached the buffer: SIGTERM flushes
    # exactly the one good record below.
    st, _, out = raw(firehose, "PutRecord", {"DeliveryStreamName": "orders",
                                             "Record": {"Data": b64(b"ok\n")}})
    assert st == 200 and out["RecordId"]
    assert firehose.stop() == 0
    assert content(firehose, firehose.lake.keys("landing/")) == b"ok\n"


def test_list_pagination_and_delete_flushes(firehose, boto_firehose):
    fh = boto_firehose(firehose.endpoint)
    for n in ["c", "a", "b"]:
        create(firehose, name=n, prefix=f"{n}/", interval=900)
    out = fh.list_delivery_streams(Limit=2)
    assert out == {"DeliveryStreamNames": ["a", "b"],
                   "HasMoreDeliveryStreams": True, **{
                       k: v for k, v in out.items() if k == "ResponseMetadata"}}
    out = fh.list_delivery_streams(Limit=2, ExclusiveStartDeliveryStreamName="b")
    assert out["DeliveryStreamNames"] == ["c"]
    assert out["HasMoreDeliveryStreams"] is False
    fh.put_record(DeliveryStreamName="b", Record={"Data": b"kept\n"})
    assert firehose.lake.keys("landing/") == []
    fh.delete_delivery_stream(DeliveryStreamName="b")
    keys = landed(firehose, "landing/b/")
    assert content(firehose, keys) == b"kept\n"
    assert fh.list_delivery_streams()["DeliveryStreamNames"] == ["a", "c"]
    with pytest.raises(fh.exceptions.ResourceNotFoundException):
        fh.describe_delivery_stream(DeliveryStreamName="b")


def test_restart_keeps_streams(tmp_path, boto_firehose):
    fh1 = Firehose(tmp_path).start()
    try:
        create(fh1, name="orders", interval=1)
        create(fh1, name="customers", prefix="customers/", size=64)
    finally:
        assert fh1.stop() == 0
    fh2 = Firehose(tmp_path).start()
    try:
        c = boto_firehose(fh2.endpoint)
        assert c.list_delivery_streams()["DeliveryStreamNames"] == [
            "customers", "orders"]
        d = c.describe_delivery_stream(DeliveryStreamName="customers")
        ext = d["DeliveryStreamDescription"]["Destinations"][0][
            "ExtendedS3DestinationDescription"]
        assert ext["BufferingHints"]["SizeInMBs"] == 64
        c.put_record(DeliveryStreamName="customers", Record={"Data": b"c1\n"})
    finally:
        assert fh2.stop() == 0
    keys = fh2.lake.keys("landing/customers/")
    assert content(fh2, keys) == b"c1\n"


def test_sigterm_flushes_everything_acknowledged(firehose, boto_firehose):
    c = boto_firehose(firehose.endpoint)
    for n in ["orders", "customers"]:
        create(firehose, name=n, prefix=f"{n}/", interval=900, size=64)
    sent = {"orders": b"", "customers": b""}
    for i in range(20):
        for n in sent:
            batch = [b"%s-%d-%d\n" % (n.encode(), i, j) for j in range(50)]
            out = c.put_record_batch(DeliveryStreamName=n,
                                     Records=[{"Data": r} for r in batch])
            assert out["FailedPutCount"] == 0
            sent[n] += b"".join(batch)
    assert firehose.lake.keys("landing/") == []
    assert firehose.stop(15) == 0
    for n, want in sent.items():
        assert content(firehose, firehose.lake.keys(f"landing/{n}/")) == want
    assert "listening on 127.0.0.1:" in log_text(firehose)


def test_wal_replay_after_kill9(tmp_path, boto_firehose):
    fh1 = Firehose(tmp_path).start()
    create(fh1, name="orders", interval=900, size=64)
    c = boto_firehose(fh1.endpoint)
    want = b""
    for i in range(10):
        recs = [b"r%d-%d\n" % (i, j) for j in range(100)]
        assert c.put_record_batch(DeliveryStreamName="orders", Records=[
            {"Data": r} for r in recs])["FailedPutCount"] == 0
        want += b"".join(recs)
    fh1.stop(9)  # no flush: only the WAL has the records
    assert fh1.lake.keys("landing/") == []
    fh2 = Firehose(tmp_path).start()
    assert fh2.stop() == 0
    assert "replayed 10 write-ahead log entries" in log_text(fh2)
    assert content(fh2, fh2.lake.keys("landing/orders/")) == want
    # Delivered segments are gone: a third start replays nothing.
    fh3 = Firehose(tmp_path).start()
    assert fh3.stop() == 0
    assert "replayed" not in log_text(fh3)
    assert content(fh3, fh3.lake.keys("landing/orders/")) == want


def test_size_flush_and_concurrent_puts(firehose, boto_firehose):
    create(firehose, name="orders", interval=900, size=1)
    errors = []
    sent = [[] for _ in range(4)]

    def producer(t):
        try:
            c = boto_firehose(firehose.endpoint)
            for i in range(30):
                recs = [b"t%d-%d-%d-" % (t, i, j) + b"z" * 1000 + b"\n"
                        for j in range(20)]
                out = c.put_record_batch(DeliveryStreamName="orders", Records=[
                    {"Data": r} for r in recs])
                assert out["FailedPutCount"] == 0
                sent[t].extend(recs)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=producer, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    # ~2.4 MB with SizeInMBs 1: at least two objects by size alone.
    landed(firehose, "landing/orders/", n=2)
    assert firehose.stop() == 0
    got = content(firehose, firehose.lake.keys("landing/orders/"))
    lines = got.splitlines(keepends=True)
    assert sorted(lines) == sorted(r for s in sent for r in s)


def test_backpressure_refuses_then_delivers(tmp_path, boto_firehose):
    fh = Firehose(tmp_path, extra=["--max-buffered", "8M"]).start()
    try:
        create(fh, name="orders", interval=900, size=128)
        c = boto_firehose(fh.endpoint)
        rec, small = b"q" * 1000000, b"s" * 300000
        for _ in range(2):  # 8,000,000 of 8,388,608 bytes
            out = c.put_record_batch(DeliveryStreamName="orders",
                                     Records=[{"Data": rec}] * 4)
            assert out["FailedPutCount"] == 0
        # Partly fits: the first record is taken, the rest refused per record.
        out = c.put_record_batch(DeliveryStreamName="orders", Records=[
            {"Data": small}, {"Data": rec}, {"Data": small}])
        assert out["FailedPutCount"] == 2
        rr = out["RequestResponses"]
        assert "RecordId" in rr[0]
        assert [r.get("ErrorCode") for r in rr[1:]] == [
            "ServiceUnavailableException"] * 2
        # Nothing fits: the whole call is throttled (HTTP 500).
        st, h, out = raw(fh, "PutRecordBatch", {
            "DeliveryStreamName": "orders", "Records": [{"Data": b64(rec)}]})
        assert st == 500 and out["__type"] == "ServiceUnavailableException"
        st, _, out = raw(fh, "PutRecord", {"DeliveryStreamName": "orders",
                                           "Record": {"Data": b64(rec)}})
        assert st == 500 and out["__type"] == "ServiceUnavailableException"
        assert_alive(fh)
    finally:
        assert fh.stop() == 0
    assert content(fh, fh.lake.keys("landing/orders/")) == rec * 8 + small


def test_metrics_endpoint(firehose):
    create(firehose, interval=0)
    raw(firehose, "PutRecord", {"DeliveryStreamName": "orders",
                                "Record": {"Data": b64(b"m\n")}})
    landed(firehose, "landing/orders/")

    def metrics():
        with urllib.request.urlopen(firehose.endpoint + "/metrics") as r:
            return r.read().decode()
    # The object is visible a moment before the worker counts it.
    text = wait_for(lambda: (lambda t: t if re.search(
        r"floe_firehose_objects_delivered_total [1-9]", t) else None)(
            metrics()), what="the delivery counted")
    assert "floe_firehose_records_total 1" in text
