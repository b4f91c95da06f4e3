"""CompressionFormat ZIP, Snappy and HADOOP_SNAPPY end to end: objects get
Firehose's extensions and decode with independent readers (Python's
zipfile; cramjam's Rust snappy for the framing format and for Hadoop's
raw blocks) to exactly the bytes that were put, records concatenated in
order; the format survives a restart (registry) and Describe shows it."""
import io
import os
import re
import struct
import zipfile

import cramjam
import pytest

from conftest import Firehose, wait_for

ROLE = "arn:aws:iam::123456789012:role/firehose"


def unzip(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.testzip() is None
        infos = z.infolist()
        assert len(infos) == 1
        assert infos[0].compress_type == zipfile.ZIP_DEFLATED
        return z.read(infos[0])


def unsnappy(data: bytes) -> bytes:
    assert data[:10] == b"\xff\x06\x00\x00sNaPpY"
    return bytes(cramjam.snappy.decompress(data))


def unhsnappy(data: bytes) -> bytes:
    out, off = b"", 0
    while off < len(data):
        raw_len, = struct.unpack_from(">I", data, off)
        off += 4
        got = b""
        while len(got) < raw_len:
            clen, = struct.unpack_from(">I", data, off)
            off += 4
            got += bytes(cramjam.snappy.decompress_raw(data[off:off + clen]))
            off += clen
        assert len(got) == raw_len
        out += got
    return out


FORMATS = {
    "ZIP": (".zip", unzip),
    "Snappy": (".snappy", unsnappy),
    "HADOOP_SNAPPY": (".hsnappy", unhsnappy),
}


def test_formats_decode_byte_exact(tmp_path, boto_firehose, request):
    fh = Firehose(tmp_path).start()
    request.addfinalizer(fh.stop)
    c = boto_firehose(fh.endpoint)
    for fmt in FORMATS:
        c.create_delivery_stream(
            DeliveryStreamName=f"s-{fmt}", ExtendedS3DestinationConfiguration={
                "RoleARN": ROLE, "BucketARN": "arn:aws:s3:::landing",
                "Prefix": f"{fmt}/", "CompressionFormat": fmt,
                "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 900}})
    # Text, binary (all byte values) and an incompressible blob; ~1.3 MB
    # per stream so size flushes happen (1 MiB) and snappy spans chunks.
    rnd = os.urandom(200000)
    recs = [b"line-%05d {\"k\":\"v\"}\n" % i for i in range(50000)]
    recs += [bytes(range(256)) * 100, rnd, b"", b"tail\n"]
    for fmt in FORMATS:
        for i in range(0, len(recs), 400):
            out = c.put_record_batch(DeliveryStreamName=f"s-{fmt}", Records=[
                {"Data": r} for r in recs[i:i + 400]])
            assert out["FailedPutCount"] == 0
    d = c.describe_delivery_stream(DeliveryStreamName="s-Snappy")
    ext = d["DeliveryStreamDescription"]["Destinations"][0][
        "ExtendedS3DestinationDescription"]
    assert ext["CompressionFormat"] == "Snappy"
    assert fh.stop() == 0
    want = b"".join(recs)
    for fmt, (ext, decode) in FORMATS.items():
        keys = fh.lake.keys(f"landing/{fmt}/")
        assert len(keys) >= 2, keys  # size flushes
        for k in keys:
            assert re.search(rf"/s-{fmt}-1-\d{{4}}(-\d\d){{5}}-[0-9a-f-]{{36}}"
                             rf"{re.escape(ext)}$", k), k
        # One stream, in-order delivery: key order = time order only to
        # the second, so match by content.
        parts = [decode(fh.lake.read(k)) for k in keys]
        assert b"".join(sorted(parts, key=want.find)) == want, fmt
    # The format is kept across a restart.
    before = fh.lake.keys("landing/ZIP/")
    fh2 = Firehose(tmp_path).start()
    request.addfinalizer(fh2.stop)
    try:
        c2 = boto_firehose(fh2.endpoint)
        d = c2.describe_delivery_stream(DeliveryStreamName="s-HADOOP_SNAPPY")
        assert d["DeliveryStreamDescription"]["Destinations"][0][
            "ExtendedS3DestinationDescription"]["CompressionFormat"] == \
            "HADOOP_SNAPPY"
        c2.put_record(DeliveryStreamName="s-ZIP", Record={"Data": b"again\n"})
    finally:
        assert fh2.stop() == 0
    new = sorted(set(fh2.lake.keys("landing/ZIP/")) - set(before))
    assert len(new) == 1 and unzip(fh2.lake.read(new[0])) == b"again\n"


def test_bad_format_name(firehose, boto_firehose):
    c = boto_firehose(firehose.endpoint)
    with pytest.raises(c.exceptions.ClientError) as ei:
        c.create_delivery_stream(
            DeliveryStreamName="x", ExtendedS3DestinationConfiguration={
                "RoleARN": ROLE, "BucketARN": "arn:aws:s3:::landing",
                "CompressionFormat": "snappy"})
    assert ei.value.response["Error"]["Code"] == "ValidationException"
