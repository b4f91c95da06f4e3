"""One stream's delivery failures never stop the others (issue 13, item 1).

Keys the store would refuse are refused at CreateDeliveryStream and
UpdateDestination; store errors are permanent (error output at once) or
transient (retried with a per-stream backoff, in the queue, not in a
delivery thread); error-output attempts are bounded; a deleted stream's
objects are not retried; SIGTERM exits promptly and what the store refused
stays in the write-ahead log, delivered at the next start.

A transient failure is made by a FILE occupying a directory of the key
(the fs store's mkdir fails: an I/O error); a permanent one by a stream
registry written by an older floe with a prefix the store refuses."""
import base64
import datetime
import json
import re
import signal
import urllib.request

import pytest
from botocore.exceptions import ClientError

from conftest import Firehose, wait_for

ROLE = "arn:aws:iam::123456789012:role/firehose"


def cfg(prefix, eprefix=None, bucket="landing"):
    c = {"RoleARN": ROLE, "BucketARN": f"arn:aws:s3:::{bucket}",
         "Prefix": prefix, "CompressionFormat": "UNCOMPRESSED",
         "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 0}}
    if eprefix is not None:
        c["ErrorOutputPrefix"] = eprefix
    return c


def metric(fh, name):
    with urllib.request.urlopen(fh.endpoint + "/metrics") as r:
        text = r.read().decode()
    m = re.search(rf"^{name} (\d+)$", text, re.M)
    return int(m.group(1)) if m else None


def content(fh, prefix):
    return b"".join(fh.lake.read(k) for k in fh.lake.keys(prefix))


def error_docs(fh, prefix):
    out = []
    for k in fh.lake.keys(prefix):
        out += [json.loads(line) for line in fh.lake.read(k).splitlines()]
    return out


def start(tmp_path, request, extra=()):
    fh = Firehose(tmp_path, extra=list(extra)).start()
    request.addfinalizer(fh.stop)
    return fh


def create_refused(c, word, **kw):
    """CreateDeliveryStream "s" must fail with InvalidArgumentException
    whose message has `word`, and create nothing."""
    with pytest.raises(ClientError) as ei:
        c.create_delivery_stream(DeliveryStreamName="s",
                                 ExtendedS3DestinationConfiguration=cfg(**kw))
    assert ei.value.response["Error"]["Code"] == "InvalidArgumentException"
    assert word in ei.value.response["Error"]["Message"]
    assert c.list_delivery_streams()["DeliveryStreamNames"] == []


def wait_failures(fh, n, what="a failed put"):
    wait_for(lambda: (metric(fh, "floe_firehose_store_put_failures_total")
                      or 0) >= n, timeout=20, what=what)


def block(tmp_path, *dirs):
    """Files where the store needs directories: puts under them fail."""
    for d in dirs:
        p = tmp_path / "lake" / "landing" / d
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("blocks this folder\n")


def failing_b1(tmp_path, request, boto_firehose, eprefix="errors/",
               extra=()):
    """A firehose with stream b1 whose puts fail (transient)."""
    block(tmp_path, "b1")
    fh = start(tmp_path, request, extra)
    c = boto_firehose(fh.endpoint)
    c.create_delivery_stream(DeliveryStreamName="b1",
                             ExtendedS3DestinationConfiguration=cfg(
                                 "b1/", eprefix))
    return fh, c


def unblock(tmp_path, *dirs):
    for d in dirs:
        (tmp_path / "lake" / "landing" / d).unlink()


def restart_delivers_b1(tmp_path, request, want):
    """Unblock b1, start again: its records come from the WAL."""
    unblock(tmp_path, "b1")
    fh2 = start(tmp_path, request)
    wait_for(lambda: content(fh2, "landing/b1/") == want, timeout=20,
             what="b1 delivered from the WAL")
    assert fh2.stop() == 0
    return fh2


@pytest.mark.parametrize("prefix,eprefix", [
    ("a//b/", None),
    ("/abs/", None),
    ("a/./b/", None),
    ("a/../b/", None),
    ("x\x01y/", None),
    ("ok/", "e//!{firehose:error-output-type}/"),
    ("ok/", "/errors/"),
    ("/", None),
])
def test_prefixes_the_store_refuses_are_refused(tmp_path, request,
                                               boto_firehose, prefix,
                                               eprefix):
    fh = start(tmp_path, request)
    c = boto_firehose(fh.endpoint)
    create_refused(c, "refuses", prefix=prefix, eprefix=eprefix)
    # UpdateDestination is checked the same way; the stream is unchanged.
    c.create_delivery_stream(DeliveryStreamName="s",
                             ExtendedS3DestinationConfiguration=cfg(
                                 "good/", "errors/"))
    upd = {"Prefix": prefix}
    if eprefix is not None:
        upd["ErrorOutputPrefix"] = eprefix
    with pytest.raises(ClientError) as ei:
        c.update_destination(DeliveryStreamName="s",
                             CurrentDeliveryStreamVersionId="1",
                             DestinationId="destinationId-000000000001",
                             ExtendedS3DestinationUpdate=upd)
    assert ei.value.response["Error"]["Code"] == "InvalidArgumentException"
    d = c.describe_delivery_stream(DeliveryStreamName="s")[
        "DeliveryStreamDescription"]
    assert d["VersionId"] == "1"
    dest = d["Destinations"][0]["ExtendedS3DestinationDescription"]
    assert dest["Prefix"] == "good/" and dest["ErrorOutputPrefix"] == "errors/"
    assert fh.stop() == 0


@pytest.mark.parametrize("bucket", ["processed", "processing", ".floe-tmp",
                                    ".floe"])
def test_buckets_floe_owns_are_refused(tmp_path, request, boto_firehose,
                                       bucket):
    fh = start(tmp_path, request)
    c = boto_firehose(fh.endpoint)
    create_refused(c, "reserved", prefix="p/", bucket=bucket)
    assert fh.stop() == 0


def test_failing_streams_do_not_hold_the_others(tmp_path, request,
                                                boto_firehose):
    # Two failing streams against the two default delivery threads: the
    # third stream must still deliver, SIGTERM must exit at once, and the
    # failing streams' records come from the WAL once the store is fixed.
    block(tmp_path, "b1", "b2")
    fh = start(tmp_path, request)
    c = boto_firehose(fh.endpoint)
    for name in ("b1", "b2", "good"):
        c.create_delivery_stream(DeliveryStreamName=name,
                                 ExtendedS3DestinationConfiguration=cfg(
                                     name + "/", "errors/"))
    c.put_record(DeliveryStreamName="b1", Record={"Data": b"one\n"})
    c.put_record(DeliveryStreamName="b2", Record={"Data": b"two\n"})
    # Both are failing and being retried.
    wait_failures(fh, 4, what="retries of b1 and b2")
    c.put_record(DeliveryStreamName="good", Record={"Data": b"fine\n"})
    wait_for(lambda: fh.lake.keys("landing/good/"), timeout=20,
             what="the healthy stream's object")
    assert content(fh, "landing/good/") == b"fine\n"
    assert fh.stop() == 0
    log = fh.proc.output()
    assert "kept in the write-ahead log" in log
    assert fh.lake.keys("landing/errors/") == []
    unblock(tmp_path, "b1", "b2")
    fh2 = start(tmp_path, request)
    wait_for(lambda: fh2.lake.keys("landing/b1/") and
             fh2.lake.keys("landing/b2/"), timeout=20,
             what="b1 and b2 delivered from the WAL")
    assert content(fh2, "landing/b1/") == b"one\n"
    assert content(fh2, "landing/b2/") == b"two\n"
    assert content(fh2, "landing/good/") == b"fine\n"  # not again
    assert fh2.stop() == 0


def test_sigterm_with_a_failing_stream_exits_and_delivers_at_restart(
        tmp_path, request, boto_firehose):
    fh, c = failing_b1(tmp_path, request, boto_firehose)
    c.put_record_batch(DeliveryStreamName="b1", Records=[
        {"Data": b"r%d\n" % i} for i in range(3)])
    wait_failures(fh, 1)
    assert fh.stop() == 0  # at once, not after the 24 h retry window
    restart_delivers_b1(tmp_path, request, b"r0\nr1\nr2\n")


def test_deleting_a_failing_stream_frees_its_work(tmp_path, request,
                                                  boto_firehose):
    fh, c = failing_b1(tmp_path, request, boto_firehose,
                       "errors/!{firehose:error-output-type}/")
    c.put_record(DeliveryStreamName="b1", Record={"Data": b"gone\n"})
    wait_failures(fh, 1)
    c.delete_delivery_stream(DeliveryStreamName="b1")
    # No more retry window: its records go to the error output now.
    wait_for(lambda: fh.lake.keys("landing/errors/s3-delivery-failed/"),
             timeout=20, what="the deleted stream's error output")
    docs = error_docs(fh, "landing/errors/s3-delivery-failed/")
    assert [base64.b64decode(d["rawData"]) for d in docs] == [b"gone\n"]
    assert fh.stop() == 0


def legacy_stream(tmp_path, request, boto_firehose, prefix, eprefix):
    """A stream whose registry entry an older floe accepted: created valid,
    then its prefixes rewritten in streams.json while floe is down."""
    fh = start(tmp_path, request)
    c = boto_firehose(fh.endpoint)
    c.create_delivery_stream(DeliveryStreamName="old",
                             ExtendedS3DestinationConfiguration=cfg(
                                 "tmp/", "tmp-errors/"))
    assert fh.stop() == 0
    reg = tmp_path / "firehose-state" / "streams.json"
    doc = json.loads(reg.read_text())
    doc["streams"][0]["prefix"] = prefix
    doc["streams"][0]["error_prefix"] = eprefix
    reg.write_text(json.dumps(doc))
    fh = start(tmp_path, request)
    return fh, boto_firehose(fh.endpoint)


def test_permanent_store_error_goes_to_error_output_at_once(
        tmp_path, request, boto_firehose):
    fh, c = legacy_stream(tmp_path, request, boto_firehose, "a//b/",
                          "errors/!{firehose:error-output-type}/")
    c.put_record(DeliveryStreamName="old", Record={"Data": b"x\n"})
    # Default 24 h retry window: only a permanent classification gets the
    # records there now.
    wait_for(lambda: fh.lake.keys("landing/errors/s3-delivery-failed/"),
             timeout=20, what="the error output")
    docs = error_docs(fh, "landing/errors/s3-delivery-failed/")
    assert [base64.b64decode(d["rawData"]) for d in docs] == [b"x\n"]
    assert docs[0]["attemptsMade"] == 1
    assert fh.stop() == 0


def test_refused_error_output_falls_back(tmp_path, request, boto_firehose):
    fh, c = legacy_stream(tmp_path, request, boto_firehose, "a//b/",
                          "e//!{firehose:error-output-type}/")
    c.put_record(DeliveryStreamName="old", Record={"Data": b"y\n"})
    year = datetime.datetime.now(datetime.timezone.utc).strftime("%Y")
    keys = wait_for(lambda: fh.lake.keys(
        f"landing/s3-delivery-failed/{year}/"), timeout=20,
        what="the fallback error output")
    assert keys[0].split("/")[-1].startswith("old-1-")
    docs = error_docs(fh, "landing/s3-delivery-failed/")
    assert [base64.b64decode(d["rawData"]) for d in docs] == [b"y\n"]
    assert fh.stop() == 0


def test_error_output_retries_are_bounded(tmp_path, request, boto_firehose):
    # The object and its error output both fail (transient): after the
    # retry window and the bounded error-output attempts the records are
    # left to the WAL, and delivered once the store is fixed.
    block(tmp_path, "errors")
    fh, c = failing_b1(tmp_path, request, boto_firehose,
                       extra=["--retry-window", "500ms"])
    c.put_record(DeliveryStreamName="b1", Record={"Data": b"kept\n"})
    wait_for(lambda: metric(fh, "floe_firehose_undelivered_objects_total")
             == 1, timeout=60, what="the object left to the WAL")
    assert metric(fh, "floe_firehose_error_output_objects_total") == 0
    assert metric(fh, "floe_firehose_store_put_failures_total") >= 2
    assert fh.stop() == 0
    assert "kept in the write-ahead log" in fh.proc.output()
    unblock(tmp_path, "errors")
    fh2 = restart_delivers_b1(tmp_path, request, b"kept\n")
    assert fh2.lake.keys("landing/errors/") == []


def test_a_failing_stream_cannot_take_the_whole_buffer(tmp_path, request,
                                                       boto_firehose):
    # --max-buffered 8M: the failing stream is refused once it holds a
    # quarter of it, so the healthy one can still buffer and deliver.
    fh, c = failing_b1(tmp_path, request, boto_firehose,
                       extra=["--max-buffered", "8M"])
    c.create_delivery_stream(DeliveryStreamName="good",
                             ExtendedS3DestinationConfiguration=cfg(
                                 "good/", "errors/"))
    big = b"x" * (900 << 10)
    c.put_record(DeliveryStreamName="b1", Record={"Data": big})
    wait_failures(fh, 1)
    accepted = 1
    for _ in range(20):
        try:
            c.put_record(DeliveryStreamName="b1", Record={"Data": big})
            accepted += 1
        except ClientError as e:
            assert e.response["Error"]["Code"] == \
                "ServiceUnavailableException"
            break
    assert accepted < 8
    c.put_record(DeliveryStreamName="good", Record={"Data": big})
    wait_for(lambda: fh.lake.keys("landing/good/"), timeout=20,
             what="the healthy stream's object")
    assert fh.stop() == 0
    restart_delivers_b1(tmp_path, request, big * accepted)


def test_more_signals_during_shutdown(tmp_path, request, boto_firehose):
    # The second signal's watcher uses the deliverer: it must be done with
    # it before the deliverer is freed, however late the signal comes
    # (under ASan, FLOE_BIN=build-asan/floe, a use after free aborts).
    fh, c = failing_b1(tmp_path, request, boto_firehose)
    c.put_record(DeliveryStreamName="b1", Record={"Data": b"sig\n"})
    wait_failures(fh, 1)
    p = fh.proc.p

    def signalled():
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
        return p.poll() is not None
    wait_for(signalled, interval=0.001, timeout=30, what="exit")
    assert fh.stop() == 0
    assert "AddressSanitizer" not in fh.proc.output()
    restart_delivers_b1(tmp_path, request, b"sig\n")
