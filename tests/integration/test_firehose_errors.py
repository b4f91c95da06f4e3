"""Error output: when the store put of an object keeps failing for
--retry-window, its records are written under the stream's
ErrorOutputPrefix (error-output-type "s3-delivery-failed") as one JSON
document per record with the record's base64 rawData, or, with no
ErrorOutputPrefix, under <Prefix>s3-delivery-failed/yyyy/MM/dd/HH/
(Firehose rule 7). A put is made to fail by a FILE occupying a directory
of the primary key; the error prefix's directory is free."""
import base64
import datetime
import gzip
import json
import time
import urllib.request

from conftest import Firehose, wait_for

ROLE = "arn:aws:iam::123456789012:role/firehose"


def cfg(prefix, eprefix=None, comp="GZIP"):
    c = {"RoleARN": ROLE, "BucketARN": "arn:aws:s3:::landing",
         "Prefix": prefix, "CompressionFormat": comp,
         "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 0}}
    if eprefix is not None:
        c["ErrorOutputPrefix"] = eprefix
    return c


def docs(fh, keys):
    out = []
    for k in keys:
        data = fh.lake.read(k)
        if k.endswith(".gz"):
            data = gzip.decompress(data)
        lines = data.split(b"\n")
        assert lines[-1] == b""
        out += [json.loads(line) for line in lines[:-1]]
    return out


def test_undeliverable_records_go_to_error_output(tmp_path, boto_firehose,
                                                 request):
    year = datetime.datetime.now(datetime.timezone.utc).strftime("%Y")
    landing = tmp_path / "lake" / "landing"
    landing.mkdir(parents=True)
    (landing / "blocked").write_text("a file where a directory must be\n")
    (landing / "p").mkdir()
    (landing / "p" / year).write_text("blocks p/yyyy/...\n")
    fh = Firehose(tmp_path, extra=["--retry-window", "2s"]).start()
    request.addfinalizer(fh.stop)
    try:
        c = boto_firehose(fh.endpoint)
        c.create_delivery_stream(
            DeliveryStreamName="orders", ExtendedS3DestinationConfiguration=cfg(
                "blocked/", "errors/!{firehose:error-output-type}/"
                "!{timestamp:yyyy}/"))
        c.create_delivery_stream(
            DeliveryStreamName="plain", ExtendedS3DestinationConfiguration=cfg(
                "p/", comp="UNCOMPRESSED"))
        t0 = int(time.time() * 1000)
        recs = [b"rec-%d\n" % i for i in range(5)] + [bytes(range(256))]
        out = c.put_record_batch(DeliveryStreamName="orders", Records=[
            {"Data": r} for r in recs])
        assert out["FailedPutCount"] == 0
        c.put_record(DeliveryStreamName="plain", Record={"Data": b"lonely\n"})
        ekeys = wait_for(lambda: fh.lake.keys(
            f"landing/errors/s3-delivery-failed/{year}/orders-1-"),
            timeout=20, what="error object of orders")
        pkeys = wait_for(lambda: fh.lake.keys(
            f"landing/p/s3-delivery-failed/{year}/"),
            timeout=20, what="rule-7 error object of plain")
        t1 = int(time.time() * 1000)
        assert ekeys[0].endswith(".gz") and not pkeys[0].endswith(".gz")
        # landing/p/s3-delivery-failed/yyyy/MM/dd/HH/plain-1-...
        assert pkeys[0].split("/")[7].startswith("plain-1-"), pkeys
        got = docs(fh, ekeys)
        assert [base64.b64decode(d["rawData"]) for d in got] == recs
        for d in got:
            assert set(d) == {"attemptsMade", "arrivalTimestamp", "errorCode",
                              "errorMessage", "attemptEndingTimestamp",
                              "rawData"}
            assert d["attemptsMade"] >= 2
            assert d["errorCode"] == "S3.PutObjectFailed"
            assert "landing/blocked/" in d["errorMessage"]
            assert t0 - 1000 <= d["arrivalTimestamp"] <= t1
            assert d["arrivalTimestamp"] + 2000 <= \
                d["attemptEndingTimestamp"] <= t1
        assert [base64.b64decode(d["rawData"]) for d in docs(fh, pkeys)] == \
            [b"lonely\n"]
        def counted():  # counted just after the object is put
            with urllib.request.urlopen(fh.endpoint + "/metrics") as r:
                text = r.read().decode()
            return ("floe_firehose_error_output_records_total 7" in text and
                    "floe_firehose_error_output_objects_total 2" in text)
        wait_for(counted, timeout=10, what="7 records, 2 error objects "
                 "on /metrics")
    finally:
        assert fh.stop() == 0
    # Nothing reached the blocked primary paths; error output is the
    # delivery: the WAL is retired, a restart replays nothing.
    assert (landing / "blocked").is_file()
    fh2 = Firehose(tmp_path, extra=["--retry-window", "2s"]).start()
    request.addfinalizer(fh2.stop)
    assert fh2.stop() == 0
    assert "replayed" not in open(fh2.proc.log_path).read()
