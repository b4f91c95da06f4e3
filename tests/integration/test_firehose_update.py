"""UpdateDestination (VersionId, ConcurrentModificationException, merge of
the update into the destination, object names carrying the new version,
persistence) and CustomTimeZone (prefix and file-name timestamps in the
zone's local time, unknown zones refused), with boto3."""
import datetime
import gzip
import re
import zoneinfo

import pytest

from conftest import Firehose, wait_for

ROLE = "arn:aws:iam::123456789012:role/firehose"


def ext_desc(c, name):
    d = c.describe_delivery_stream(DeliveryStreamName=name)[
        "DeliveryStreamDescription"]
    return d, d["Destinations"][0]["ExtendedS3DestinationDescription"]


def test_update_destination(tmp_path, boto_firehose, request):
    fh = Firehose(tmp_path).start()
    request.addfinalizer(fh.stop)
    c = boto_firehose(fh.endpoint)
    c.create_delivery_stream(
        DeliveryStreamName="orders", ExtendedS3DestinationConfiguration={
            "RoleARN": ROLE, "BucketARN": "arn:aws:s3:::landing",
            "Prefix": "v1/", "CompressionFormat": "UNCOMPRESSED",
            "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 900}})
    c.put_record(DeliveryStreamName="orders", Record={"Data": b"old\n"})
    d, _ = ext_desc(c, "orders")
    assert d["VersionId"] == "1" and "LastUpdateTimestamp" not in d
    dest = d["Destinations"][0]["DestinationId"]
    c.update_destination(
        DeliveryStreamName="orders", CurrentDeliveryStreamVersionId="1",
        DestinationId=dest, ExtendedS3DestinationUpdate={
            "Prefix": "v2/!{timestamp:yyyy}/",
            "ErrorOutputPrefix": "err/!{firehose:error-output-type}/",
            "CompressionFormat": "GZIP",
            "BufferingHints": {"SizeInMBs": 2, "IntervalInSeconds": 900}})
    d, ext = ext_desc(c, "orders")
    assert d["VersionId"] == "2" and "LastUpdateTimestamp" in d
    assert ext["Prefix"] == "v2/!{timestamp:yyyy}/"
    assert ext["CompressionFormat"] == "GZIP"
    assert ext["BufferingHints"] == {"SizeInMBs": 2, "IntervalInSeconds": 900}
    assert ext["BucketARN"] == "arn:aws:s3:::landing"  # kept
    # The record put before the update is delivered under version 1 (the
    # update seals its buffer; delivery is asynchronous, as on AWS).
    old = wait_for(lambda: fh.lake.keys("landing/v1/"),
                   what="the version-1 buffer in landing/v1/")
    assert len(old) == 1 and re.search(r"/orders-1-[\d-]+-[0-9a-f-]{36}$",
                                       old[0])
    assert fh.lake.read(old[0]) == b"old\n"
    c.put_record(DeliveryStreamName="orders", Record={"Data": b"new\n"})
    for bad_ver in ["1", "3", "x"]:
        with pytest.raises(c.exceptions.ConcurrentModificationException):
            c.update_destination(
                DeliveryStreamName="orders",
                CurrentDeliveryStreamVersionId=bad_ver, DestinationId=dest,
                ExtendedS3DestinationUpdate={"Prefix": "v3/"})
    with pytest.raises(c.exceptions.InvalidArgumentException):
        c.update_destination(   # unknown destination
            DeliveryStreamName="orders", CurrentDeliveryStreamVersionId="2",
            DestinationId="destinationId-000000000009",
            ExtendedS3DestinationUpdate={"Prefix": "v3/"})
    with pytest.raises(c.exceptions.InvalidArgumentException) as ei:
        c.update_destination(   # prefix rule 3, checked on the merged config
            DeliveryStreamName="orders", CurrentDeliveryStreamVersionId="2",
            DestinationId=dest, ExtendedS3DestinationUpdate={
                "ErrorOutputPrefix": ""})
    assert "ErrorOutputPrefix" in str(ei.value)
    with pytest.raises(c.exceptions.ResourceNotFoundException):
        c.update_destination(
            DeliveryStreamName="nope", CurrentDeliveryStreamVersionId="1",
            DestinationId=dest, ExtendedS3DestinationUpdate={})
    assert ext_desc(c, "orders")[0]["VersionId"] == "2"
    assert fh.stop() == 0
    year = datetime.datetime.now(datetime.timezone.utc).strftime("%Y")
    new = fh.lake.keys(f"landing/v2/{year}/orders-2-")
    assert len(new) == 1 and new[0].endswith(".gz")
    assert gzip.decompress(fh.lake.read(new[0])) == b"new\n"
    fh2 = Firehose(tmp_path).start()   # the update is persisted
    try:
        d, ext = ext_desc(boto_firehose(fh2.endpoint), "orders")
        assert d["VersionId"] == "2" and ext["CompressionFormat"] == "GZIP"
    finally:
        assert fh2.stop() == 0


def test_custom_time_zone(firehose, boto_firehose):
    c = boto_firehose(firehose.endpoint)
    for name, zone in [("tokyo", "Asia/Tokyo"), ("ny", "America/New_York")]:
        c.create_delivery_stream(
            DeliveryStreamName=name, ExtendedS3DestinationConfiguration={
                "RoleARN": ROLE, "BucketARN": "arn:aws:s3:::landing",
                "Prefix": f"{name}/", "CustomTimeZone": zone,
                "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 900}})
        assert ext_desc(c, name)[1]["CustomTimeZone"] == zone
    before = datetime.datetime.now(datetime.timezone.utc)
    for name in ["tokyo", "ny"]:
        c.put_record(DeliveryStreamName=name, Record={"Data": b"tz\n"})
    after = datetime.datetime.now(datetime.timezone.utc)
    with pytest.raises(c.exceptions.InvalidArgumentException):
        c.create_delivery_stream(
            DeliveryStreamName="bad", ExtendedS3DestinationConfiguration={
                "RoleARN": ROLE, "BucketARN": "arn:aws:s3:::landing",
                "CustomTimeZone": "Mars/Olympus_Mons"})
    assert firehose.stop() == 0
    for name, zone in [("tokyo", "Asia/Tokyo"), ("ny", "America/New_York")]:
        tz = zoneinfo.ZoneInfo(zone)
        ok = {t.astimezone(tz).strftime("%Y/%m/%d/%H/" + name +
                                        "-1-%Y-%m-%d-%H-%M-%S")
              for t in (before, after)}
        keys = firehose.lake.keys(f"landing/{name}/")
        assert len(keys) == 1
        stem = keys[0][len(f"landing/{name}/"):-37]
        # the second may tick between before/after: compare to the minute
        assert any(stem[:-3] == k[:-3] for k in ok), (keys, ok)


def test_tags(tmp_path, boto_firehose, request):
    fh = Firehose(tmp_path).start()
    request.addfinalizer(fh.stop)
    c = boto_firehose(fh.endpoint)
    c.create_delivery_stream(
        DeliveryStreamName="orders", Tags=[{"Key": "team", "Value": "data"}],
        ExtendedS3DestinationConfiguration={
            "RoleARN": ROLE, "BucketARN": "arn:aws:s3:::landing"})
    c.tag_delivery_stream(DeliveryStreamName="orders", Tags=[
        {"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "lake"},
        {"Key": "empty"}])
    out = c.list_tags_for_delivery_stream(DeliveryStreamName="orders")
    assert out["Tags"] == [{"Key": "empty", "Value": ""},
                           {"Key": "env", "Value": "dev"},
                           {"Key": "team", "Value": "lake"}]
    assert out["HasMoreTags"] is False
    out = c.list_tags_for_delivery_stream(DeliveryStreamName="orders",
                                          Limit=1, ExclusiveStartTagKey="empty")
    assert out["Tags"] == [{"Key": "env", "Value": "dev"}]
    assert out["HasMoreTags"] is True
    c.untag_delivery_stream(DeliveryStreamName="orders",
                            TagKeys=["empty", "nope"])
    with pytest.raises(c.exceptions.LimitExceededException):
        c.tag_delivery_stream(DeliveryStreamName="orders", Tags=[
            {"Key": f"k{i}", "Value": "v"} for i in range(49)])
    with pytest.raises(c.exceptions.InvalidArgumentException):
        c.tag_delivery_stream(DeliveryStreamName="orders",
                              Tags=[{"Key": "aws:x", "Value": "v"}])
    with pytest.raises(c.exceptions.ResourceNotFoundException):
        c.list_tags_for_delivery_stream(DeliveryStreamName="nope")
    assert fh.stop() == 0
    fh2 = Firehose(tmp_path).start()   # tags persist
    try:
        out = boto_firehose(fh2.endpoint).list_tags_for_delivery_stream(
            DeliveryStreamName="orders")
        assert out["Tags"] == [{"Key": "env", "Value": "dev"},
                               {"Key": "team", "Value": "lake"}]
    finally:
        assert fh2.stop() == 0
