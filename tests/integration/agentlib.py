"""Helpers for the `floe agent` end-to-end tests that use `floe firehose`
as the endpoint: create a stream, run the agent, read what landed."""
import gzip
import json
import os
import subprocess

import boto3

from conftest import AWS_ENV, FLOE


def fh_client(endpoint):
    return boto3.client("firehose", endpoint_url=endpoint,
                        region_name="us-east-1",
                        aws_access_key_id=AWS_ENV["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=AWS_ENV["AWS_SECRET_ACCESS_KEY"])


def make_stream(fh, name, interval=60):
    fh_client(fh.endpoint).create_delivery_stream(
        DeliveryStreamName=name, DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::123456789012:role/fh",
            "BucketARN": "arn:aws:s3:::landing",
            "Prefix": f"{name}/", "CompressionFormat": "GZIP",
            "BufferingHints": {"SizeInMBs": 1,
                               "IntervalInSeconds": interval}})


def landed(fh, stream):
    """Every landed object of `stream`, gunzipped, in key order."""
    out = []
    for k in fh.lake.keys(f"landing/{stream}/"):
        data = fh.lake.read(k)
        out.append(gzip.decompress(data) if k.endswith(".gz") else data)
    return b"".join(out)


def write_agent_json(path, endpoint, ckpt, flows):
    path.write_text("// agent.json as the Kinesis Agent reads it\n" +
                    json.dumps({"firehose.endpoint": endpoint,
                                "checkpointFile": str(ckpt),
                                "flows": flows}, indent=2))


def agent_env():
    return dict(os.environ, **AWS_ENV)


def run_agent(cfg, *extra, timeout=120):
    return subprocess.run([FLOE, "agent", "--config", str(cfg),
                           "--exit-at-eof", "--progress-interval", "1s"] +
                          list(extra), capture_output=True, text=True,
                          env=agent_env(), timeout=timeout)
