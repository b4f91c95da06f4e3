"""The HTTP front door of `floe firehose` under hostile input: NUL
characters in JSON strings (cJSON would cut them short), connection
floods and slow clients (limits, timeouts, a fast 503 when full), bodies
whose Content-Length lies, and errors libmicrohttpd answers itself."""
import ctypes
import json
import re
import socket
import subprocess
import threading
import time
import urllib.request

import pytest

from conftest import FLOE, Firehose, b64, wait_for
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


# ---- raw sockets ---------------------------------------------------------

def connect(fh, timeout=15):
    s = socket.create_connection(("127.0.0.1", fh.port), timeout=timeout)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                 b"\x01\x00\x00\x00\x00\x00\x00\x00")  # close = reset
    return s


def head(op, length, extra=b""):
    return (b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-amz-json-1.1\r\n"
            b"X-Amz-Target: Firehose_20150804." + op.encode() + b"\r\n"
            b"Content-Length: " + str(length).encode() + b"\r\n" + extra +
            b"\r\n")


def read_answer(s):
    """Everything the server sends until it closes (a reset counts as a
    close); raises socket.timeout if it neither answers nor closes."""
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk


def status_of(answer):
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") \
        else None


# ---- item 5: lying Content-Length, oversized bodies ---------------------

def test_oversized_body_is_refused_unread(firehose):
    """413 comes back at once on the head alone: nothing of the declared
    body is sent (before, the server waited for all of it)."""
    for length in [9 << 20, 1 << 40]:
        s = connect(firehose)
        s.sendall(head("PutRecord", length))
        ans = read_answer(s)
        s.close()
        assert status_of(ans) == 413, ans[:200]
        assert b"SerializationException" in ans
        assert ans.count(b"HTTP/1.1") == 1, ans
    assert_alive(firehose)


# pool sizes the connection tests run with (None: the default, 32)
POOLS = [1, 4, 17, None]


def linked_mhd_version():
    """The libmicrohttpd that floe loads, as (major, minor, patch); None
    when floe does not load it as a shared library (a build linked in)."""
    out = subprocess.run(["ldd", FLOE], capture_output=True,
                         text=True).stdout
    m = re.search(r"libmicrohttpd\.so\S*\s+=>\s+(\S+)", out)
    if m is None:
        return None
    lib = ctypes.CDLL(m.group(1))
    lib.MHD_get_version.restype = ctypes.c_char_p
    return tuple(int(x) for x in
                 lib.MHD_get_version().decode().split(".")[:3])


MHD_VERSION = linked_mhd_version()


def answers(data):
    """Split what a server sent into (status, headers, body) answers,
    each body as long as its Content-Length; whatever is left over is a
    last, unparsable entry (status None)."""
    out = []
    while data:
        head_end = data.find(b"\r\n\r\n")
        m = re.match(rb"HTTP/1\.1 (\d{3}) ", data)
        if head_end < 0 or m is None:
            out.append((None, b"", data))
            break
        head = data[:head_end]
        cl = re.search(rb"(?im)^content-length: *(\d+)\r?$", head)
        n = int(cl.group(1)) if cl else 0
        body = data[head_end + 4:head_end + 4 + n]
        out.append((int(m.group(1)), head, body))
        data = data[head_end + 4 + n:]
    return out


@pytest.mark.xfail(
    MHD_VERSION is not None and MHD_VERSION < (1, 0, 0), strict=True,
    reason="libmicrohttpd before 1.0.0 (Debian 12: 0.9.75) sends the head "
    "of the errors it answers itself twice (fixed upstream in 1.0.0); it "
    "calls floe neither before nor after, so floe cannot mend it")
def test_errors_libmicrohttpd_answers_itself_come_once(firehose):
    """A Content-Length that is not a number, or one past 64 bits, is
    answered by libmicrohttpd itself (400, 413) and the connection closed:
    one status line, one head, a body as long as it says, on a fresh
    connection and on a keep-alive one after a good request."""
    good = head("ListDeliveryStreams", 2) + b"{}"
    for first in (b"", good):
        for length, status in [(b"-1", 400), (b"abc", 400),
                               (b"99999999999999999999999", 413)]:
            s = connect(firehose)
            s.sendall(first + b"POST / HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Length: " + length + b"\r\n\r\n")
            got = answers(read_answer(s))
            s.close()
            want = ([200] if first else []) + [status]
            assert [a[0] for a in got] == want, (length, got)
    assert_alive(firehose)


@pytest.fixture
def strict(tmp_path, request):
    """--max-connections 16 and 1 s deadlines; request.param may set
    "head" (a longer head deadline, where a test must see the server full
    first) and "threads" (the pool size)."""
    param = getattr(request, "param", {})
    threads = param.get("threads")
    fh = Firehose(tmp_path, extra=[
        "--header-timeout", f"{param.get('head', 1)}s",
        "--body-timeout", "1s", "--max-connections", "16"] +
        (["--threads", str(threads)] if threads else [])).start()
    yield fh
    fh.stop()
    if getattr(request.node, "rep_call", None) and request.node.rep_call.failed:
        print("---- firehose log ----\n" + open(fh.proc.log_path).read())


def pools(**extra):
    """Parameters for `strict`: each pool size, with `extra`."""
    return pytest.mark.parametrize(
        "strict", [dict(extra, threads=t) for t in POOLS], indirect=True,
        ids=[f"threads{t or '-default'}" for t in POOLS])


def test_short_body_and_slow_head_are_cut_at_their_deadline(strict):
    """A Content-Length larger than the body sent, or a head that never
    ends, holds a connection only until --body-timeout/--header-timeout
    (a 15 s socket timeout would fail the test: the old server kept them
    120 s)."""
    short = connect(strict)
    short.sendall(head("ListDeliveryStreams", 100) + b"{}")
    slow = connect(strict)
    slow.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n")
    idle = connect(strict)  # keep-alive with nothing sent
    for s in (short, slow, idle):
        assert read_answer(s) == b""
        s.close()
    assert_alive(strict)
    text = urllib.request.urlopen(
        strict.endpoint + "/metrics", timeout=15).read().decode()
    assert "floe_http_connections_timed_out_total 3" in text, text


# ---- item 4: connection limits, slowloris -------------------------------

def probe(fh):
    """One request on a fresh connection: its status, or None when the
    server closed the connection without an answer."""
    s = connect(fh)
    try:
        s.sendall(head("ListDeliveryStreams", 2) + b"{}")
    except (BrokenPipeError, ConnectionResetError):
        pass
    ans = read_answer(s)
    s.close()
    return status_of(ans), ans


def open_connections(fh):
    """floe_http_connections_open, or None when /metrics does not answer
    (the server is full, or the connection landed on a wedged worker)."""
    s = connect(fh, timeout=5)
    try:
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n"
                  b"Connection: close\r\n\r\n")
        ans = read_answer(s)
    except OSError:  # socket.timeout included
        return None
    finally:
        s.close()
    m = re.search(rb"floe_http_connections_open (\d+)", ans)
    return int(m.group(1)) if m else None


@pools(head=5)
def test_full_server_answers_503_at_once_then_recovers(strict):
    """16 connections that never finish a head fill --max-connections 16:
    a request on a connection made after them gets 503
    ServiceUnavailableException at once, never a wait; once the head
    deadline cuts the squatters, requests are served again. Which
    connection is past the limit goes by arrival: before, it went by the
    order the pool's workers started them, so the request sometimes got a
    200 and a squatter the 503."""
    for attempt in range(3):
        squat = [connect(strict) for _ in range(16)]
        for s in squat:
            s.sendall(b"POST / HTTP/1.1\r\n")
        st, ans = probe(strict)
        assert st == 503, (attempt, ans)
        assert b"ServiceUnavailableException" in ans
        assert b"Retry-After: 1" in ans
        if attempt < 2:
            for s in squat:
                s.close()
            wait_for(lambda: open_connections(strict) == 1, timeout=20,
                     what="the squatters to leave")
    st, ans = wait_for(lambda: (lambda r: r if r[0] == 200 else None)(
        probe(strict)), timeout=15, what="service after the squatters")
    for s in squat:
        s.close()


@pools()
def test_slowloris_flood_does_not_stop_service(strict):
    """300 connections dribbling their heads a byte at a time: every probe
    gets an answer or a closed connection quickly (none waits), and the
    server keeps serving (503 or 200 while flooded, 200 after)."""
    stop = threading.Event()
    socks = []

    def dribble():
        while not stop.is_set() and len(socks) < 300:
            try:
                s = connect(strict, timeout=5)
                s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n")
                socks.append(s)
            except OSError:
                pass
        while not stop.wait(0.2):
            for s in list(socks):
                try:
                    s.send(b"X")
                except OSError:
                    socks.remove(s)
                    s.close()
    t = threading.Thread(target=dribble)
    t.start()
    try:
        wait_for(lambda: len(socks) >= 100, timeout=30, what="a flood")
        seen = [probe(strict)[0] for _ in range(8)]
        assert all(st in (200, 503, None) for st in seen), seen
        wait_for(lambda: probe(strict)[0] == 200, timeout=20,
                 what="a 200 during the flood")
    finally:
        stop.set()
        t.join()
        for s in socks:
            s.close()
    text = urllib.request.urlopen(
        strict.endpoint + "/metrics", timeout=15).read().decode()
    timed_out = int(re.search(
        r"floe_http_connections_timed_out_total (\d+)", text).group(1))
    assert timed_out >= 16, text


@pools()
def test_connection_bursts_never_wedge_a_worker(strict):
    """Bursts of connections opened faster than the pool starts them,
    then closed. Before, the accept thread handed libmicrohttpd more
    connections than a worker's share of the limit; 0.9.75 then left a
    lock held and that worker hung for good with every connection it
    held (never closed, still counted), so the server filled up. Every
    closed connection must leave the open gauge."""
    for _ in range(8):
        burst = []
        for _ in range(150):
            try:
                burst.append(connect(strict, timeout=5))
            except OSError:
                pass
        for s in burst:
            s.close()
    # 1: the /metrics request itself
    wait_for(lambda: open_connections(strict) == 1, timeout=20,
             what="every closed connection to leave the gauge")
    assert_alive(strict)


def test_fd_limit_raised_and_connection_limit_fits(tmp_path):
    """The soft open-file limit is raised to the hard one; a
    --max-connections that does not fit under it is lowered, with a
    warning, instead of failing at accept."""
    import resource

    def low():
        resource.setrlimit(resource.RLIMIT_NOFILE, (200, 600))
    log = tmp_path / "fh.log"
    ready = tmp_path / "port"
    p = subprocess.Popen(
        [FLOE, "firehose", "--lake", str(tmp_path / "lake"), "--state-dir",
         str(tmp_path / "st"), "--port", "0", "--ready-file", str(ready),
         "--max-connections", "5000"], stdout=open(log, "wb"),
        stderr=subprocess.STDOUT, preexec_fn=low)
    try:
        wait_for(lambda: ready.exists() or p.poll() is not None)
        assert p.poll() is None, log.read_text()
        limits = open(f"/proc/{p.pid}/limits").read()
        soft = re.search(r"Max open files\s+(\d+)\s+(\d+)", limits)
        assert soft.group(1) == soft.group(2) == "600", limits
        text = log.read_text()
        assert "serving at most" in text and "instead of 5000" in text, text
    finally:
        p.terminate()
        p.wait(timeout=30)
