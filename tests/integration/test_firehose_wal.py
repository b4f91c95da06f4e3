"""The write-ahead log under damage and failure, end to end.

- A byte flipped at the start of a segment (after kill -9) costs only the
  entry it hit: replay resynchronises on the next intact entry, the
  segment is kept under wal/quarantine/, /metrics counts the skip.
- A torn last entry (the crash cut its write short) stays quiet.
- A failed WAL write (RLIMIT_FSIZE: a real write(2) failing with EFBIG)
  refuses the put, fails GET /ready and shows on /metrics until a write
  succeeds again; the process stays up and loses nothing acknowledged.
- A failed fdatasync (EIO from an LD_PRELOAD shim once a trigger file
  exists) makes the process exit with status 74 (crash-only); a restart
  replays and delivers every acknowledged record.
"""
import gzip
import struct
import subprocess
import urllib.error
import urllib.request
import zlib

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

import conftest
from conftest import AWS_ENV, Firehose, wait_for

ROLE = "arn:aws:iam::123456789012:role/firehose"


def client(fh):
    """boto3 without retries (the conftest client still retries once)."""
    return boto3.client(
        "firehose", endpoint_url=fh.endpoint, region_name="us-east-1",
        aws_access_key_id=AWS_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=AWS_ENV["AWS_SECRET_ACCESS_KEY"],
        config=Config(retries={"total_max_attempts": 1}, read_timeout=10))


def create(c):
    c.create_delivery_stream(
        DeliveryStreamName="orders", ExtendedS3DestinationConfiguration={
            "RoleARN": ROLE, "BucketARN": "arn:aws:s3:::landing",
            "Prefix": "orders/", "CompressionFormat": "GZIP",
            # Nothing is delivered before the test stops the server.
            "BufferingHints": {"SizeInMBs": 5, "IntervalInSeconds": 900}})


def metrics(fh):
    with urllib.request.urlopen(fh.endpoint + "/metrics") as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        if line.startswith("floe_firehose_wal_"):
            name, value = line.split()
            out[name[len("floe_firehose_wal_"):]] = float(value)
    return out


def ready(fh):
    try:
        with urllib.request.urlopen(fh.endpoint + "/ready") as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def delivered(fh, prefix="landing/orders/"):
    out = []
    for k in fh.lake.keys(prefix):
        out += gzip.decompress(fh.lake.read(k)).splitlines(keepends=True)
    return out


def segments(fh):
    return [p for p in sorted((fh.state / "wal").glob("wal-*.log"))
            if p.stat().st_size > 0]


def entry(stream, ms, data):
    """One WAL entry as wal.c writes it (to forge a torn tail)."""
    name = stream.encode()
    payload = struct.pack("<H", len(name)) + name + struct.pack("<q", ms) \
        + data
    head = struct.pack("<III", 0x31574846, len(payload), zlib.crc32(payload))
    return head + struct.pack("<I", zlib.crc32(head[:8])) + payload


def wrap(tmp_path, monkeypatch, lines):
    """Run floe through a shell script (limits, LD_PRELOAD) from now on."""
    script = tmp_path / "floe-wrapped"
    script.write_text("#!/bin/sh\n" + "\n".join(lines) +
                      f'\nexec "{conftest.FLOE}" "$@"\n')
    script.chmod(0o755)
    monkeypatch.setattr(conftest, "FLOE", str(script))


def three_records(tmp_path, request):
    """A server with three acknowledged PutRecord calls: three WAL entries
    in one segment, nothing delivered yet."""
    fh = Firehose(tmp_path).start()
    request.addfinalizer(fh.stop)
    c = client(fh)
    create(c)
    recs = [b"rec-%d\n" % i for i in range(3)]
    for r in recs:
        c.put_record(DeliveryStreamName="orders", Record={"Data": r})
    return fh, c, recs


def three_records_then_kill(tmp_path, request):
    fh, _, recs = three_records(tmp_path, request)
    fh.stop(9)
    [seg] = segments(fh)
    return fh, recs, seg


def test_flipped_byte_costs_one_entry_and_is_counted(tmp_path, request):
    fh, recs, seg = three_records_then_kill(tmp_path, request)
    data = bytearray(seg.read_bytes())
    assert len(data) == 3 * len(entry("orders", 0, recs[0]))
    data[0] ^= 0xFF  # the first entry's magic
    seg.write_bytes(bytes(data))

    fh.start()
    m = metrics(fh)
    assert fh.stop() == 0
    assert sorted(delivered(fh)) == recs[1:]
    assert m.get("damaged_entries_total") == 1
    assert m["damaged_bytes_total"] == len(entry("orders", 0, recs[0]))
    assert m["quarantined_segments_total"] == 1
    assert m["torn_bytes_total"] == 0
    assert m["replayed_entries_total"] == 2
    assert (fh.state / "wal" / "quarantine" / seg.name).read_bytes() == data
    log = fh.proc.output()
    assert "is damaged" in log and "quarantine" in log, log
    # The quarantined copy outlives delivery; the next start is clean.
    assert (fh.state / "wal" / "quarantine" / seg.name).exists()
    assert segments(fh) == []
    fh.start()
    assert metrics(fh)["damaged_entries_total"] == 0
    assert fh.stop() == 0


def test_torn_last_entry_is_quiet(tmp_path, request):
    fh, recs, seg = three_records_then_kill(tmp_path, request)
    torn = entry("orders", 0, b"never acknowledged\n")[:-5]
    with open(seg, "ab") as f:
        f.write(torn)

    fh.start()
    m = metrics(fh)
    assert fh.stop() == 0
    assert sorted(delivered(fh)) == recs
    assert m.get("torn_bytes_total") == len(torn)
    assert m["damaged_bytes_total"] == 0
    assert m["quarantined_segments_total"] == 0
    assert not (fh.state / "wal" / "quarantine").exists()
    log = fh.proc.output()
    assert "torn" in log and "damaged" not in log and " warn " not in log, \
        log


def test_wal_write_failure_refuses_then_recovers(tmp_path, monkeypatch,
                                                 request):
    # Every file this process writes is limited to 1 MiB: the WAL segment
    # fills up and write(2) fails with EFBIG (SIGXFSZ is ignored).
    wrap(tmp_path, monkeypatch, ["ulimit -f 2048"])
    fh = Firehose(tmp_path).start()
    request.addfinalizer(fh.stop)
    c = client(fh)
    create(c)
    acked, refused = [], None
    for i in range(30):
        rec = b"%03d-" % i + b"x" * 100000 + b"\n"
        try:
            c.put_record(DeliveryStreamName="orders", Record={"Data": rec})
            acked.append(rec)
        except ClientError as e:
            refused = e
            break
    assert refused is not None, "no put failed"
    assert fh.proc.p.poll() is None, "the process died (SIGXFSZ?)"
    assert refused.response["Error"]["Code"] == "ServiceUnavailableException"
    assert 5 <= len(acked) < 11
    m = metrics(fh)
    assert m["write_errors_total"] == 1 and m["healthy"] == 0
    status, body = ready(fh)
    assert status == 503 and "write-ahead log" in body
    # The next put starts a fresh segment and is acknowledged.
    rec = b"after\n"
    c.put_record(DeliveryStreamName="orders", Record={"Data": rec})
    acked.append(rec)
    assert metrics(fh)["healthy"] == 1
    assert ready(fh)[0] == 200
    assert fh.proc.p.poll() is None
    assert fh.stop() == 0
    got = delivered(fh)
    assert sorted(got) == sorted(acked)
    log = fh.proc.output()
    assert "File too large" in log and "succeed again" in log, log


SHIM = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

/* fdatasync fails with EIO while the file $FLOE_TEST_FAIL_FDATASYNC
 * exists: what a dying disk or a lost iSCSI path reports. */
int fdatasync(int fd)
{
    static int (*real)(int);
    const char *t = getenv("FLOE_TEST_FAIL_FDATASYNC");

    if (t != NULL && access(t, F_OK) == 0) {
        errno = EIO;
        return -1;
    }
    if (real == NULL)
        real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    return real(fd);
}
"""


def test_fdatasync_failure_exits_and_restart_replays(tmp_path, monkeypatch,
                                                     request):
    src, so = tmp_path / "shim.c", tmp_path / "shim.so"
    src.write_text(SHIM)
    r = subprocess.run(["cc", "-shared", "-fPIC", "-o", str(so), str(src),
                        "-ldl"], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip("no C compiler for the fault shim: " + r.stderr)
    trigger = tmp_path / "fail-now"
    plain = conftest.FLOE
    wrap(tmp_path, monkeypatch, [
        f'export LD_PRELOAD="{so}"',
        f'export FLOE_TEST_FAIL_FDATASYNC="{trigger}"'])
    fh, c, recs = three_records(tmp_path, request)
    trigger.touch()
    with pytest.raises(Exception) as e:  # no answer: the process is gone
        c.put_record(DeliveryStreamName="orders",
                     Record={"Data": b"not acknowledged\n"})
    assert not isinstance(e.value, ClientError), e.value
    assert wait_for(lambda: fh.proc.p.poll() is not None, timeout=10,
                    what="exit") is not None
    assert fh.proc.p.returncode == 74
    log = fh.proc.output()
    assert "FATAL" in log and "fdatasync" in log, log

    monkeypatch.setattr(conftest, "FLOE", plain)  # a healthy disk again
    fh.start()
    assert fh.stop() == 0
    got = delivered(fh)
    assert set(recs) <= set(got)  # the unacknowledged one may be there
    assert set(got) <= set(recs) | {b"not acknowledged\n"}
