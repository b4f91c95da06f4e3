"""The write-ahead log under damage and failure, end to end.

- A byte flipped at the start of a segment (after kill -9) costs only the
  entry it hit: replay resynchronises on the next intact entry, the
  segment is kept under wal/quarantine/, /metrics counts the skip.
- A torn last entry (the crash cut its write short) stays quiet.
"""
import gzip
import struct
import urllib.request
import zlib

import boto3
from botocore.config import Config

from conftest import AWS_ENV, Firehose

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
