"""One object-store suite, the same cases for every backend: the local
directory (fs), moto's S3 server with signatures checked, and a strict S3
server that also checks payload hashes (versitygw). Each case drives the
real store code through build/store_tool (tests/tools/store_tool.c).

store_tool exits 0 on success, 2 when the store cannot be opened, else
10 - rc: 15 transient (FLOE_EAGAIN), 16 not found, 17 exists, 21 refused.
"""
import os
import pathlib
import subprocess

import pytest

from conftest import FLOE
from s3lib import BUCKET, SERVERS, CutProxy, FaultProxy

TOOL = str(pathlib.Path(FLOE).parent / "store_tool")
EAGAIN, ENOTFOUND, EEXIST = 15, 16, 17
PART = 5 << 20


class FsBackend:
    name = "fs"

    def __init__(self, tmp):
        self.tmp = tmp

    def url(self, prefix, **opts):
        return str(self.tmp / "lake" / prefix)

    def env(self, **kw):
        return dict(os.environ)

    def stop(self):
        pass


class Tool:
    def __init__(self, backend, prefix, **opts):
        self.backend = backend
        self.url = backend.url(prefix, **opts)

    def __call__(self, *args, env=None, check=True, url=None):
        r = subprocess.run([TOOL, url or self.url] + [str(a) for a in args],
                           capture_output=True, env=env or self.backend.env(),
                           timeout=120)
        if check:
            assert r.returncode == 0, r.stderr.decode(errors="replace")
        return r

    def put(self, key, data: bytes, cmd="put"):
        f = self.backend.tmp / "body.tmp"
        f.write_bytes(data)
        return self(cmd, key, f, check=False)

    def get(self, key, cmd="get"):
        f = self.backend.tmp / "got.tmp"
        if f.exists():
            f.unlink()
        r = self(cmd, key, f, check=False)
        return r.returncode, (f.read_bytes() if r.returncode == 0 else None)

    def keys(self, prefix=""):
        out = self("list", prefix).stdout.decode()
        return [line.split("\t")[0] for line in out.splitlines()]


def start_backend(name, tmp):
    if name == "fs":
        return FsBackend(tmp)
    return SERVERS[name](tmp).start()


@pytest.fixture(scope="module", params=["fs", "moto", "strict"])
def backend(request, tmp_path_factory):
    b = start_backend(request.param, tmp_path_factory.mktemp(request.param))
    yield b
    b.stop()


def test_put_get_head_list_copy_delete(backend):
    t = Tool(backend, "basic")
    assert t.put("landing/orders/2026/b.gz", b"bb").returncode == 0
    assert t.put("landing/orders/2026/a.gz", b"a").returncode == 0
    assert t.put("landing/orders-x/z", b"z").returncode == 0
    assert t.put("processed/t/p=1/f", b"").returncode == 0
    assert t.keys("landing/orders/") == ["landing/orders/2026/a.gz",
                                         "landing/orders/2026/b.gz"]
    assert t.keys("landing/orders") == ["landing/orders-x/z",
                                        "landing/orders/2026/a.gz",
                                        "landing/orders/2026/b.gz"]
    assert t.get("processed/t/p=1/f") == (0, b"")
    assert t("head", "landing/orders/2026/b.gz").stdout.split()[0] == b"2"
    t("copy", "landing/orders/2026/b.gz", "processing/batch=1/b.gz")
    t("del", "landing/orders/2026/b.gz")
    assert t.get("processing/batch=1/b.gz") == (0, b"bb")
    assert t.get("landing/orders/2026/b.gz")[0] == ENOTFOUND
    assert t("head", "landing/nope", check=False).returncode == ENOTFOUND
    assert t("copy", "landing/nope", "x/y", check=False).returncode == \
        ENOTFOUND
    t("del", "landing/never")  # deleting nothing is fine, as in S3
    assert t.put("processing/batch=1/b.gz", b"new").returncode == 0
    assert t.get("processing/batch=1/b.gz", cmd="getfile") == (0, b"new")


def test_list_more_than_1000_keys(backend):
    t = Tool(backend, "many")
    t("putmany", "k/", 1003)
    t("putmany", "j/", 2)
    keys = t.keys("k/")
    assert keys == [f"k/{i:05d}" for i in range(1003)]
    assert t.keys("k/0100") == [f"k/{i:05d}" for i in range(1000, 1003)]
    assert len(t.keys()) == 1005


def test_multipart_parts_and_odd_tail(backend):
    t = Tool(backend, "mp", part_size="5M")
    body = os.urandom(2 * PART + 12345)
    assert t.put("big/one.bin", body).returncode == 0
    assert t.get("big/one.bin") == (0, body)
    f = backend.tmp / "big.src"
    f.write_bytes(body[::-1])
    t("putfile", "big/two.bin", f)
    assert t.get("big/two.bin", cmd="getfile") == (0, body[::-1])
    assert t("head", "big/two.bin").stdout.split()[0] == str(len(body)).encode()
    # a copy above copy_max goes as UploadPartCopy ranges
    Tool(backend, "mp", part_size="5M", copy_max="5M")(
        "copy", "big/two.bin", "big/three.bin")
    assert t.get("big/three.bin") == (0, body[::-1])
    if backend.name != "fs":  # really three parts, from outside
        for k in ("mp/big/two.bin", "mp/big/three.bin"):
            head = backend.client().head_object(Bucket=BUCKET, Key=k)
            assert head["ETag"].endswith('-3"'), (k, head["ETag"])
            assert head["ContentLength"] == len(body)


def test_conditional_create(backend):
    t = Tool(backend, "cond")
    assert t.put("m/_manifest.json", b"first", cmd="putnew").returncode == 0
    r = t.put("m/_manifest.json", b"second", cmd="putnew")
    assert r.returncode == EEXIST, r.stderr
    assert t.get("m/_manifest.json") == (0, b"first")
    assert t.put("m/_manifest.json", b"third").returncode == 0  # plain put


ODD = ["odd/a b/c d.txt", "odd/plus+sign", "odd/100%25 and %", "odd/k=v/x=1",
       "odd/ünïcödé/日本語.gz", "odd/tilde~!$&'()*,;:@[]", "odd/q?x#y"]


def test_odd_keys(backend):
    t = Tool(backend, "odd")
    for i, k in enumerate(ODD):
        r = t.put(k, f"v{i}".encode())
        assert r.returncode == 0, (k, r.stderr)
    assert t.keys("odd/") == sorted(ODD, key=lambda s: s.encode())
    for i, k in enumerate(ODD):
        assert t.get(k) == (0, f"v{i}".encode()), k
        t("copy", k, "copied/" + k)
        assert t.get("copied/" + k) == (0, f"v{i}".encode()), k
        t("del", k)
    assert t.keys("odd/") == []
    if backend.name != "fs":  # the bucket holds exactly these keys
        seen = backend.client().list_objects_v2(Bucket=BUCKET,
                                                Prefix="odd/copied/")
        assert sorted(o["Key"] for o in seen["Contents"]) == \
            sorted("odd/copied/" + k for k in ODD)


def test_missing_bucket(backend):
    if backend.name == "fs":
        pytest.skip("a directory store creates its directory")
    url = backend.url("x").replace(BUCKET, "floe-no-such-bucket")
    r = subprocess.run([TOOL, url, "list", ""], capture_output=True,
                       env=backend.env(), timeout=60)
    assert r.returncode == 2
    assert b"NoSuchBucket" in r.stderr, r.stderr


def test_wrong_secret_is_refused_at_once(backend):
    if backend.name == "fs":
        pytest.skip("no credentials")
    t = Tool(backend, "auth", attempts=5)
    r = t("list", "", env=backend.env(secret="not-the-secret"), check=False)
    assert r.returncode == 2, r.stderr
    assert b"SignatureDoesNotMatch" in r.stderr, r.stderr
    assert b"tries" not in r.stderr  # refused once, not retried


def test_virtual_hosted_addressing(backend):
    if backend.name == "fs":
        pytest.skip("no addressing")
    # curl sends any *.localhost name to loopback: floe-lake.localhost:PORT
    t = Tool(backend, "vh", addressing="virtual")
    env = backend.env(endpoint=f"http://localhost:{backend.port}")
    f = backend.tmp / "vh.body"
    f.write_bytes(b"hosted")
    t("put", "a b/c+d", f, env=env)
    t("copy", "a b/c+d", "e", env=env)
    assert t("list", "", env=env).stdout == b"a b/c+d\t6\ne\t6\n"
    seen = backend.client().list_objects_v2(Bucket=BUCKET, Prefix="vh/")
    assert [o["Key"] for o in seen["Contents"]] == ["vh/a b/c+d", "vh/e"]


def test_session_token(backend):
    if not hasattr(backend, "session_env"):
        pytest.skip("no STS here: moto's server has it")
    t = Tool(backend, "sts")
    env = backend.session_env()
    assert t.put("k", b"v").returncode == 0
    assert t("list", "", env=env).stdout.startswith(b"k\t")
    env["AWS_SESSION_TOKEN"] = "not-a-token"
    r = t("list", "", env=env, check=False)
    assert r.returncode == 2 and b"InvalidToken" in r.stderr, r.stderr
    del env["AWS_SESSION_TOKEN"]  # temporary keys need their token
    r = t("list", "", env=env, check=False)
    assert r.returncode == 2 and b"InvalidAccessKeyId" in r.stderr, r.stderr


@pytest.mark.parametrize("name", ["fs", "moto", "strict"])
def test_server_stopped_mid_upload_then_clear_error(name, tmp_path):
    if name == "fs":
        pytest.skip("no server to stop")
    b = start_backend(name, tmp_path)
    try:
        sent = [0]

        def inside_2nd_part(chunk):
            sent[0] += len(chunk)
            return sent[0] >= PART + PART // 2
        proxy = FaultProxy(b.port, inside_2nd_part, b.kill)
        t = Tool(b, "cut", part_size="5M", attempts=3, endpoint=proxy.endpoint)
        body = os.urandom(3 * PART + 7)
        r = t.put("big/cut.bin", body)
        assert proxy.fired.is_set()
        assert r.returncode == EAGAIN, r.stderr
        assert b"after 3 tries" in r.stderr, r.stderr
        b.restart()
        t = Tool(b, "cut")
        assert t.get("big/cut.bin")[0] == ENOTFOUND
        assert t.keys() == []
    finally:
        b.stop()


@pytest.mark.parametrize("name", ["moto", "strict"])
@pytest.mark.parametrize("cmd", ["get", "getfile"])
def test_download_cut_short_resumes_with_range(name, cmd, tmp_path):
    """An answer cut in the middle of a 12 MiB object: the next try asks
    for the rest (Range, If-Match on the ETag) instead of starting over,
    and the bytes are the object's."""
    b = start_backend(name, tmp_path)
    try:
        body = os.urandom(12 << 20)
        assert Tool(b, "rng").put("big/r.bin", body).returncode == 0
        proxy = CutProxy(b.port, cut_at=5 << 20)
        try:
            rc, got = Tool(b, "rng", attempts=3,
                           endpoint=proxy.endpoint).get("big/r.bin", cmd)
        finally:
            proxy.close()
        assert proxy.cut.is_set()
        assert rc == 0
        assert got == body
        ranged = [h for h in proxy.requests if b"\r\nrange: bytes=" in
                  h.lower()]
        assert len(ranged) == 1, proxy.requests
        assert b"if-match:" in ranged[0].lower()
        assert proxy.down < len(body) + (6 << 20), proxy.down  # not twice
    finally:
        b.stop()
