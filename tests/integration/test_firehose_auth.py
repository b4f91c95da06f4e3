"""SigV4 authentication of `floe firehose` (--access-key-id plus the
secret from FLOE_FIREHOSE_SECRET_ACCESS_KEY): botocore-signed requests
from boto3, the AWS CLI and hand-made botocore AWSRequests; wrong secret,
unknown key, missing/malformed header, clock skew, wrong service scope and
a body changed after signing are refused with the AWS error names, and the
server keeps serving."""
import datetime
import json
import os
import urllib.error
import urllib.request

import boto3
import botocore.auth
import pytest
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from conftest import AWS_ENV, Firehose, VENV_BIN, b64, wait_for

KEY, SECRET = AWS_ENV["AWS_ACCESS_KEY_ID"], AWS_ENV["AWS_SECRET_ACCESS_KEY"]
ROLE = "arn:aws:iam::123456789012:role/firehose"


@pytest.fixture
def secured(tmp_path, monkeypatch, request):
    monkeypatch.setenv("FLOE_FIREHOSE_SECRET_ACCESS_KEY", SECRET)
    fh = Firehose(tmp_path, extra=["--access-key-id", KEY]).start()
    monkeypatch.delenv("FLOE_FIREHOSE_SECRET_ACCESS_KEY")
    yield fh
    fh.stop()
    if getattr(request.node, "rep_call", None) and request.node.rep_call.failed:
        print("---- firehose log ----\n" + open(fh.proc.log_path).read())


def client(fh, key=KEY, secret=SECRET, region="eu-west-3"):
    return boto3.client("firehose", endpoint_url=fh.endpoint,
                        region_name=region, aws_access_key_id=key,
                        aws_secret_access_key=secret,
                        config=Config(retries={"max_attempts": 1}))


def send(fh, op, body, key=KEY, secret=SECRET, service="firehose",
         when=None, tamper=None, auth=True, authorization=None,
         target_after=None):
    """POST a botocore-signed request; returns (status, parsed JSON).
    With target_after, X-Amz-Target is left out of the signature and set
    to that operation afterwards (a replayed signature)."""
    data = json.dumps(body).encode()
    hdrs = {"Content-Type": "application/x-amz-json-1.1"}
    if target_after is None:
        hdrs["X-Amz-Target"] = "Firehose_20150804." + op
    req = AWSRequest(method="POST", url=fh.endpoint + "/", data=data,
                     headers=hdrs)
    if auth:
        signer = botocore.auth.SigV4Auth(Credentials(key, secret), service,
                                         "us-east-1")
        if when is not None:
            orig = botocore.auth.get_current_datetime
            botocore.auth.get_current_datetime = lambda: when
            try:
                signer.add_auth(req)
            finally:
                botocore.auth.get_current_datetime = orig
        else:
            signer.add_auth(req)
    if authorization is not None:
        req.headers["Authorization"] = authorization
    if target_after is not None:
        req.headers["X-Amz-Target"] = "Firehose_20150804." + target_after
    p = req.prepare()
    payload = tamper(data) if tamper else data
    r = urllib.request.Request(p.url, data=payload, method="POST",
                               headers=dict(p.headers.items()))
    try:
        with urllib.request.urlopen(r, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def s3cfg(interval=0):
    return {"RoleARN": ROLE, "BucketARN": "arn:aws:s3:::landing",
            "Prefix": "orders/", "CompressionFormat": "UNCOMPRESSED",
            "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": interval}}


def test_signed_clients_succeed(secured):
    c = client(secured)
    c.create_delivery_stream(DeliveryStreamName="orders",
                             ExtendedS3DestinationConfiguration=s3cfg())
    out = c.put_record_batch(DeliveryStreamName="orders", Records=[
        {"Data": b"signed-%d\n" % i} for i in range(10)])
    assert out["FailedPutCount"] == 0
    # The AWS CLI (its own botocore session, region from the environment).
    env = dict(os.environ, **AWS_ENV)
    import subprocess
    r = subprocess.run([str(VENV_BIN / "aws"), "--endpoint-url",
                        secured.endpoint, "--output", "json", "firehose",
                        "put-record", "--delivery-stream-name", "orders",
                        "--record", '{"Data":"cli\\n"}'],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["RecordId"]
    st, out = send(secured, "DescribeDeliveryStream",
                   {"DeliveryStreamName": "orders"})
    assert st == 200, out
    assert secured.stop() == 0
    got = b"".join(secured.lake.read(k)
                   for k in secured.lake.keys("landing/orders/"))
    assert sorted(got.splitlines()) == sorted(
        [b"signed-%d" % i for i in range(10)] + [b"cli"])


def test_bad_credentials_refused_and_server_keeps_serving(secured):
    ok = client(secured)
    ok.create_delivery_stream(DeliveryStreamName="orders",
                              ExtendedS3DestinationConfiguration=s3cfg(900))
    put = {"DeliveryStreamName": "orders", "Record": {"Data": b64(b"no\n")}}

    def refused(code, fn):
        with pytest.raises(ClientError) as ei:
            fn()
        err = ei.value.response["Error"]
        assert err["Code"] == code, ei.value.response
        # still serving
        assert ok.list_delivery_streams()["DeliveryStreamNames"] == ["orders"]
        return err

    refused("InvalidSignatureException", lambda: client(
        secured, secret="wrong-secret").put_record(
            DeliveryStreamName="orders", Record={"Data": b"no\n"}))
    refused("UnrecognizedClientException", lambda: client(
        secured, key="AKIDUNKNOWN").list_delivery_streams())

    cases = [
        (dict(auth=False), "MissingAuthenticationTokenException", None),
        (dict(auth=False, authorization="AWS4-HMAC-SHA256 Credential=x"),
         "IncompleteSignatureException", None),
        (dict(authorization="Basic dXNlcjpwYXNz"),
         "IncompleteSignatureException", None),
        (dict(service="kinesis"), "InvalidSignatureException", "firehose"),
        # AWS's window is 5 minutes each way
        (dict(when=datetime.datetime.now(datetime.timezone.utc)
              - datetime.timedelta(minutes=7)),
         "InvalidSignatureException", "- 5 min.)"),
        (dict(when=datetime.datetime.now(datetime.timezone.utc)
              + datetime.timedelta(minutes=7)),
         "InvalidSignatureException", "+ 5 min.)"),
        (dict(target_after="PutRecord"), "InvalidSignatureException",
         "'X-Amz-Target' must be a 'SignedHeader'"),
        (dict(tamper=lambda d: d.replace(b"bm8K", b"eWVzCg")),
         "InvalidSignatureException", "does not match"),
        (dict(secret="wrong"), "InvalidSignatureException", None),
        (dict(key="AKIDOTHER"), "UnrecognizedClientException", None),
    ]
    for kw, code, needle in cases:
        st, out = send(secured, "PutRecord", put, **kw)
        assert st == 400 and out["__type"] == code, (kw, st, out)
        assert SECRET not in out["message"]
        if needle:
            assert needle in out["message"], out
        st, out = send(secured, "ListDeliveryStreams", {})
        assert st == 200, out
    # Within the skew window (3 min off) is accepted.
    st, out = send(secured, "PutRecord", {
        "DeliveryStreamName": "orders", "Record": {"Data": b64(b"skew\n")}},
        when=datetime.datetime.now(datetime.timezone.utc)
        - datetime.timedelta(minutes=3))
    assert st == 200, out
    with urllib.request.urlopen(secured.endpoint + "/metrics") as r:
        text = r.read().decode()
    assert "floe_firehose_auth_failures_total 12" in text
    assert secured.stop() == 0
    # Only the accepted record was stored; the secret never hit the log.
    got = b"".join(secured.lake.read(k)
                   for k in secured.lake.keys("landing/orders/"))
    assert got == b"skew\n"
    assert SECRET not in open(secured.proc.log_path).read()


def test_replayed_signature_with_another_target_is_refused(secured):
    """A signature that does not cover X-Amz-Target (captured from a
    PutRecord) must not authorise DeleteDeliveryStream."""
    ok = client(secured)
    ok.create_delivery_stream(DeliveryStreamName="orders",
                              ExtendedS3DestinationConfiguration=s3cfg(900))
    st, out = send(secured, "DeleteDeliveryStream",
                   {"DeliveryStreamName": "orders"},
                   target_after="DeleteDeliveryStream")
    assert st == 400 and out["__type"] == "InvalidSignatureException", out
    assert "X-Amz-Target" in out["message"]
    assert ok.list_delivery_streams()["DeliveryStreamNames"] == ["orders"]
    # Host and X-Amz-Date must be signed too.
    auth = ("AWS4-HMAC-SHA256 Credential=%s/20240101/us-east-1/firehose/"
            "aws4_request, SignedHeaders=x-amz-date;x-amz-target, "
            "Signature=%s" % (KEY, "0" * 64))
    st, out = send(secured, "DeleteDeliveryStream",
                   {"DeliveryStreamName": "orders"}, authorization=auth)
    assert st == 400 and out["__type"] == "InvalidSignatureException", out
    assert "'Host' or ':authority' must be a 'SignedHeader'" in \
        out["message"]
    assert ok.list_delivery_streams()["DeliveryStreamNames"] == ["orders"]


def test_secret_without_key_is_a_usage_error(tmp_path):
    import subprocess
    from conftest import FLOE
    r = subprocess.run([FLOE, "firehose", "--secret-access-key", "x",
                        "--state-dir", str(tmp_path / "s")],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "go together" in r.stderr
    r = subprocess.run([FLOE, "firehose", "--help"], capture_output=True,
                       text=True, timeout=30)
    assert "--access-key-id" in r.stdout and "--secret-access-key" in r.stdout
