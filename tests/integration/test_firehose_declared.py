"""Delivery streams declared in floe.yaml exist at start-up, with the
declared settings, are delivered to like API-created ones, and a bad
declaration stops the server with file:line."""
import gzip
import subprocess

from conftest import FLOE, Firehose, Proc, wait_for


def write_yaml(path, body):
    path.write_text(body)
    return path


def test_declared_streams_are_created_and_deliver(tmp_path, aws,
                                                  boto_firehose):
    cfg = write_yaml(tmp_path / "floe.yaml", """\
firehose:
  streams:
    - name: clicks
      prefix: web/clicks/
      compression: GZIP
      buffer_interval_s: 0
    - name: plain
      compression: UNCOMPRESSED
      buffer_size_mb: 1
      buffer_interval_s: 60
""")
    fh = Firehose(tmp_path)
    fh_args_prefix = [FLOE, "--config", str(cfg)]
    try:
        args = fh_args_prefix + ["firehose", "--lake", str(fh.lake.root),
                                 "--state-dir", str(fh.state), "--port", "0",
                                 "--ready-file", str(fh.ready)]
        fh.proc = Proc(args, tmp_path / "firehose.log")
        wait_for(lambda: fh.ready.exists() or fh.proc.p.poll() is not None,
                 what="firehose to listen")
        assert fh.proc.p.poll() is None, fh.proc.output()
        fh.port = int(fh.ready.read_text())
        ep = f"http://127.0.0.1:{fh.port}"
        names = aws(ep, "firehose", "list-delivery-streams")
        assert sorted(names["DeliveryStreamNames"]) == ["clicks", "plain"]
        d = aws(ep, "firehose", "describe-delivery-stream",
                "--delivery-stream-name", "plain")
        dest = d["DeliveryStreamDescription"]["Destinations"][0][
            "ExtendedS3DestinationDescription"]
        assert dest["BufferingHints"] == {"SizeInMBs": 1,
                                          "IntervalInSeconds": 60}
        assert dest["CompressionFormat"] == "UNCOMPRESSED"
        assert dest["BucketARN"] == "arn:aws:s3:::landing"
        boto_firehose(ep).put_record(DeliveryStreamName="clicks",
                                     Record={"Data": b"c1\n"})
        keys = wait_for(lambda: fh.lake.keys("landing/web/clicks/"),
                        what="clicks object")
        assert gzip.decompress(fh.lake.read(keys[0])) == b"c1\n"
    finally:
        fh.stop()
    # A restart keeps the streams (declared again: already exist, kept).
    fh.proc = Proc(fh_args_prefix + [
        "firehose", "--lake", str(fh.lake.root), "--state-dir",
        str(fh.state), "--port", "0", "--ready-file", str(fh.ready)],
        tmp_path / "firehose2.log")
    try:
        wait_for(lambda: "already exists" in fh.proc.output()
                 or fh.proc.p.poll() is not None, what="restart")
        assert fh.proc.p.poll() is None, fh.proc.output()
    finally:
        fh.stop()


def test_bad_declaration_stops_with_file_and_line(tmp_path):
    cfg = write_yaml(tmp_path / "bad.yaml", """\
firehose:
  streams:
    - name: ok
    - name: "bad name!"
""")
    r = subprocess.run([FLOE, "--config", str(cfg), "firehose", "--lake",
                        str(tmp_path / "lake"), "--state-dir",
                        str(tmp_path / "st"), "--port", "0"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert "bad.yaml:4" in r.stderr and "ValidationException" in r.stderr
    cfg = write_yaml(tmp_path / "bad2.yaml", """\
firehose:
  streams:
    - name: x
      buffer_intervl_s: 3
""")
    r = subprocess.run([FLOE, "--config", str(cfg), "firehose", "--lake",
                        str(tmp_path / "lake"), "--state-dir",
                        str(tmp_path / "st2"), "--port", "0"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert "buffer_intervl_s" in r.stderr and "bad2.yaml:4" in r.stderr
