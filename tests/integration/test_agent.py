"""`floe agent` end to end against moto's Firehose server (a server we did
not write): lines tailed from files must land in S3 exactly once, in order,
across restarts, with CSVTOJSON conversion as the Kinesis Agent does it."""
import json
import os
import signal
import subprocess
import time

import boto3
import pytest

from conftest import AWS_ENV, FLOE, Proc, wait_for


def client(endpoint, svc):
    return boto3.client(svc, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=AWS_ENV["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=AWS_ENV["AWS_SECRET_ACCESS_KEY"])


def make_stream(endpoint, name, bucket="lake"):
    s3 = client(endpoint, "s3")
    if bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=bucket)
    client(endpoint, "firehose").create_delivery_stream(
        DeliveryStreamName=name, DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::123456789012:role/fh",
            "BucketARN": f"arn:aws:s3:::{bucket}",
            "Prefix": f"{name}/"})


def objects(endpoint, prefix, bucket="lake"):
    """Bodies of the objects under prefix, one per PutRecordBatch call."""
    s3 = client(endpoint, "s3")
    out = []
    for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix):
        for o in page.get("Contents", []):
            out.append(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read())
    return out


def in_call_order(bodies):
    """moto names objects by second + uuid: order them by their first line's
    sequence number ("... seq=N ...")."""
    def first_seq(b):
        line = b.split(b"\n", 1)[0].decode()
        return int(line.split("seq=")[1].split()[0].strip('",}'))
    return b"".join(sorted(bodies, key=first_seq))


def write_agent_json(path, endpoint, ckpt, flows):
    path.write_text("// agent.json as the Kinesis Agent reads it\n" + json.dumps({
        "firehose.endpoint": endpoint,
        "checkpointFile": str(ckpt),
        "flows": flows}, indent=2))


def run_agent(cfg, *extra, timeout=120):
    env = dict(os.environ, **AWS_ENV)
    return subprocess.run([FLOE, "agent", "--config", str(cfg), "--exit-at-eof",
                           "--progress-interval", "1s"] + list(extra),
                          capture_output=True, text=True, env=env,
                          timeout=timeout)


def order_lines(start, n):
    return "".join(
        '{"event_id":"e%07d","order_id":"O%08d","note":"seq=%d x"}\n'
        % (i, i, i) for i in range(start, start + n)).encode()


def test_lines_arrive_once_in_order(moto_server, tmp_path):
    make_stream(moto_server, "orders")
    logs = tmp_path / "logs"
    logs.mkdir()
    data = order_lines(0, 2345)
    (logs / "orders.log").write_bytes(data)
    cfg = tmp_path / "agent.json"
    write_agent_json(cfg, moto_server, tmp_path / "ck.db", [{
        "filePattern": str(logs / "orders.log*"), "deliveryStream": "orders",
        "initialPosition": "START_OF_FILE"}])
    r = run_agent(cfg)
    assert r.returncode == 0, r.stderr
    bodies = objects(moto_server, "orders/")
    assert len(bodies) == 5  # 500-record PutRecordBatch calls
    assert in_call_order(bodies) == data
    assert "Agent: Progress: 2345 records parsed" in r.stderr
    assert "2345 records sent successfully" in r.stderr


def test_restart_resumes_from_checkpoint(moto_server, tmp_path):
    make_stream(moto_server, "orders")
    logs = tmp_path / "logs"
    logs.mkdir()
    log = logs / "orders.log"
    first = order_lines(0, 700)
    log.write_bytes(first)
    cfg = tmp_path / "agent.json"
    write_agent_json(cfg, moto_server, tmp_path / "ck.db", [{
        "filePattern": str(logs / "orders.log"), "deliveryStream": "orders",
        "initialPosition": "START_OF_FILE", "maxBufferSizeRecords": 100}])
    r = run_agent(cfg)
    assert r.returncode == 0, r.stderr
    assert in_call_order(objects(moto_server, "orders/")) == first

    # More lines; the last one has no newline yet: --exit-at-eof sends it
    # as a whole record with '\n' added.
    more = order_lines(700, 650)
    tail = b'{"event_id":"e9","note":"seq=1350 unterminated"}'
    with open(log, "ab") as f:
        f.write(more + tail)
    r = run_agent(cfg)
    assert r.returncode == 0, r.stderr
    assert "resuming at offset %d" % len(first) in r.stderr
    assert "has no newline" in r.stderr
    assert in_call_order(objects(moto_server, "orders/")) == \
        first + more + tail + b"\n"
    # Nothing new: a third run sends nothing again.
    n = len(objects(moto_server, "orders/"))
    r = run_agent(cfg)
    assert r.returncode == 0, r.stderr
    assert len(objects(moto_server, "orders/")) == n


def test_stop_mid_file_then_resume(moto_server, tmp_path):
    make_stream(moto_server, "orders")
    logs = tmp_path / "logs"
    logs.mkdir()
    data = order_lines(0, 20000)
    (logs / "orders.log").write_bytes(data)
    cfg = tmp_path / "agent.json"
    ck = tmp_path / "state" / "ck.db"
    write_agent_json(cfg, moto_server, ck, [{
        "filePattern": str(logs / "orders.log"), "deliveryStream": "orders",
        "initialPosition": "START_OF_FILE", "maxBufferSizeRecords": 50}])
    env = dict(os.environ, **AWS_ENV)
    # One request at a time here, so it is stopped well before the end.
    p = Proc([FLOE, "agent", "-c", str(cfg), "--max-in-flight", "1"],
             tmp_path / "agent1.log", env=env)
    wait_for(lambda: len(objects(moto_server, "orders/")) >= 3, timeout=60,
             what="a few batches delivered")
    assert p.stop(signal.SIGTERM) == 0, p.output()
    partial = len(objects(moto_server, "orders/"))
    assert partial < 400, "stopped too late to test a resume"
    r = run_agent(cfg)
    assert r.returncode == 0, r.stderr
    assert "resuming at offset" in r.stderr
    assert in_call_order(objects(moto_server, "orders/")) == data


def test_csv_converts_to_json_lines(moto_server, tmp_path):
    make_stream(moto_server, "customers")
    logs = tmp_path / "logs"
    logs.mkdir()
    rows = [
        'C000001,"Smith, Jane",jane@example.com,DE,retail,'
        '2026-11-24T19:56:00.123Z,2026-11-24T19:56:00.123Z',
        'C000002,"Bob ""The Builder""",bob@example.com,FR,smb,'
        '2026-11-24T19:57:00.000Z,2026-11-24T19:58:00.000Z',
        'C000003,Zoë Ünal,zoe@example.com,TR',             # missing columns
        'C000004,Al,al@example.com,US,ent,a,b,extra,more',  # extra dropped
    ]
    (logs / "customers.log").write_text("\n".join(rows) + "\n",
                                        encoding="utf-8")
    names = ["customer_id", "name", "email", "country", "segment",
             "created_at", "updated_at"]
    cfg = tmp_path / "agent.json"
    write_agent_json(cfg, moto_server, tmp_path / "ck.db", [{
        "filePattern": str(logs / "customers.log"),
        "deliveryStream": "customers", "initialPosition": "START_OF_FILE",
        "dataProcessingOptions": [{"optionName": "CSVTOJSON",
                                   "customFieldNames": names}]}])
    r = run_agent(cfg)
    assert r.returncode == 0, r.stderr
    got = b"".join(objects(moto_server, "customers/")).decode("utf-8")
    lines = got.split("\n")
    assert lines[-1] == "" and len(lines) == 5
    recs = [json.loads(x) for x in lines[:-1]]
    assert recs[0] == dict(zip(names, [
        "C000001", "Smith, Jane", "jane@example.com", "DE", "retail",
        "2026-11-24T19:56:00.123Z", "2026-11-24T19:56:00.123Z"]))
    assert recs[1]["name"] == 'Bob "The Builder"'
    assert recs[2] == {"customer_id": "C000003", "name": "Zoë Ünal",
                       "email": "zoe@example.com", "country": "TR",
                       "segment": None, "created_at": None,
                       "updated_at": None}
    assert recs[3]["updated_at"] == "b" and len(recs[3]) == 7
    assert list(recs[0].keys()) == names


def test_bad_config_exits_2(tmp_path):
    cfg = tmp_path / "agent.json"
    cfg.write_text(json.dumps({"flows": [{"filePattern": "/tmp/x.log",
                                          "deliveryStream": "s",
                                          "maxBufferSizeRecords": 501}]}))
    r = subprocess.run([FLOE, "agent", "--config", str(cfg)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    assert "maxBufferSizeRecords" in r.stderr
    r = subprocess.run([FLOE, "agent"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 2 and "--config" in r.stderr
    r = subprocess.run([FLOE, "agent", "--help"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0 and "customFieldNames" in r.stdout


def test_file_pattern_warnings_at_start(tmp_path):
    """A relative filePattern, or one whose directory is missing, still
    runs (its files are read once they appear) but is warned about."""
    cfg = tmp_path / "agent.json"
    write_agent_json(cfg, "http://127.0.0.1:9", tmp_path / "ck.db", [
        {"filePattern": "logs/app.log", "deliveryStream": "a"},
        {"filePattern": str(tmp_path / "nope" / "*.log"),
         "deliveryStream": "b"}])
    r = subprocess.run([FLOE, "agent", "--config", str(cfg),
                        "--exit-at-eof"], capture_output=True, text=True,
                       timeout=60, cwd=tmp_path, env=dict(os.environ,
                                                          **AWS_ENV))
    assert r.returncode == 0, r.stderr
    assert (f"flows[0]: filePattern 'logs/app.log' is relative: floe "
            f"resolves it against its working directory, {tmp_path}; the "
            f"Kinesis Agent needs an absolute path; directory logs does not "
            f"exist (yet)") in r.stderr, r.stderr
    assert (f"flows[1]: directory {tmp_path}/nope does not exist (yet); its "
            f"files are read once it is created") in r.stderr, r.stderr
    assert "flows[" not in r.stderr.split("agent started")[1]  # said once
