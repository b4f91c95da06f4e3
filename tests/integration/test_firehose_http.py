"""The HTTP front door of `floe firehose` under hostile input: NUL
characters in JSON strings (cJSON would cut them short), connection
floods and slow clients (limits, timeouts, a fast 503 when full), bodies
whose Content-Length lies, and errors libmicrohttpd answers itself."""
import json
import socket
import threading
import time
import urllib.request

import pytest

from conftest import Firehose, b64, wait_for
from test_firehose_api import raw, create, s3_config, assert_alive

NAME_PATTERN = "Member must satisfy regular expression pattern"


# ---- item 6: NUL inside JSON strings ------------------------------------

def test_nul_in_stream_name_is_a_validation_error(firehose):
    create(firehose, "api", interval=900)
    for body in [
            # the general parser's path: \u0000 escape, raw NUL byte
            b'{"DeliveryStreamName":"api\\u0000junk",'
            b'"Record":{"Data":"' + b64(b"x\n").encode() + b'"}}',
            b'{"DeliveryStreamName":"api\x00junk",'
            b'"Record":{"Data":"' + b64(b"x\n").encode() + b'"}}',
            b'{"Record":{"Data":"' + b64(b"x\n").encode() + b'"},'
            b'"DeliveryStreamName":"api\\u0000"}']:
        st, _, out = raw(firehose, "PutRecord", body)
        assert st == 400 and out["__type"] == "ValidationException", out
        assert "deliveryStreamName" in out["message"], out
        assert NAME_PATTERN in out["message"]
    st, _, out = raw(firehose, "PutRecordBatch",
                     b'{"DeliveryStreamName":"api\\u0000junk","Records":'
                     b'[{"Data":"' + b64(b"x\n").encode() + b'"}]}')
    assert st == 400 and out["__type"] == "ValidationException", out
    for body in [b'{"DeliveryStreamName":"ab\\u0000cd",',
                 b'{"DeliveryStreamName":"ab\x00cd",']:
        st, _, out = raw(firehose, "CreateDeliveryStream", body + json.dumps(
            {"ExtendedS3DestinationConfiguration": s3_config()})[1:].encode())
        assert st == 400 and out["__type"] == "ValidationException", out
    st, _, out = raw(firehose, "DeleteDeliveryStream",
                     b'{"DeliveryStreamName":"api\\u0000x"}')
    assert st == 400 and out["__type"] == "ValidationException", out
    st, _, out = raw(firehose, "ListDeliveryStreams", {})
    assert out["DeliveryStreamNames"] == ["api"]
    # nothing went into "api"
    assert firehose.stop() == 0
    assert firehose.lake.keys("landing/") == []


def test_nul_in_any_string_member_is_refused_by_name(firehose):
    cfg = json.dumps(s3_config(prefix="x\u0000y/",
                               ErrorOutputPrefix="err/"))
    st, _, out = raw(firehose, "CreateDeliveryStream",
                     b'{"DeliveryStreamName":"ok",'
                     b'"ExtendedS3DestinationConfiguration":' + cfg.encode()
                     + b'}')
    assert st == 400 and out["__type"] == "ValidationException", out
    assert "'extendedS3DestinationConfiguration.prefix'" in out["message"]
    create(firehose, "ok", interval=900)
    st, _, out = raw(firehose, "TagDeliveryStream", {
        "DeliveryStreamName": "ok",
        "Tags": [{"Key": "a", "Value": "b"}, {"Key": "k\u0000", "Value": "v"}]})
    assert st == 400 and out["__type"] == "ValidationException", out
    assert "'tags.2.member.key'" in out["message"], out
    st, _, out = raw(firehose, "ListTagsForDeliveryStream",
                     {"DeliveryStreamName": "ok"})
    assert out["Tags"] == [], out
    # an escaped backslash before u0000 is no NUL: an ordinary bad name
    st, _, out = raw(firehose, "DescribeDeliveryStream",
                     b'{"DeliveryStreamName":"ok\\\\u0000"}')
    assert st == 400 and out["__type"] == "ValidationException", out
    assert "ok\\\\u0000" in out["message"] or "ok\\u0000" in out["message"]
    assert_alive(firehose)
