"""Helpers for the `floe agent` end-to-end tests that use `floe firehose`
as the endpoint: create a stream, run the agent (to the end, or in the
background with /metrics), read what landed, scrape and parse metrics."""
import gzip
import json
import os
import re
import subprocess
import urllib.error
import urllib.request

import boto3

from conftest import AWS_ENV, FLOE, Proc, wait_for


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


def flow(log, stream, *options, **keys):
    """An agent.json flow that reads `log` from its start into `stream`,
    with dataProcessingOptions `options` and any other `keys`."""
    f = {"filePattern": str(log), "deliveryStream": stream,
         "initialPosition": "START_OF_FILE", **keys}
    if options:
        f["dataProcessingOptions"] = list(options)
    return f


def agent_env():
    return dict(os.environ, **AWS_ENV)


def run_agent(cfg, *extra, timeout=120):
    return subprocess.run([FLOE, "agent", "--config", str(cfg),
                           "--exit-at-eof", "--progress-interval", "1s"] +
                          list(extra), capture_output=True, text=True,
                          env=agent_env(), timeout=timeout)


def start_agent(cfg, tmp_path, *extra, name="agent", env=None, config=()):
    """Run `floe [config...] agent` in the background with /metrics on a
    free port (unless `extra` or the environment says otherwise); returns
    (Proc, metrics port from --ready-file)."""
    ready = tmp_path / f"{name}.ready"
    if ready.exists():
        ready.unlink()
    args = [FLOE, *config, "agent", "--config", str(cfg),
            "--ready-file", str(ready), "--progress-interval", "1s",
            *extra]
    proc = Proc(args, tmp_path / f"{name}.log", env=env or agent_env())
    wait_for(lambda: ready.exists() or proc.p.poll() is not None,
             what="agent ready file")
    assert proc.p.poll() is None, proc.output()
    return proc, int(ready.read_text())


def scrape(port, path="/metrics"):
    """GET /metrics: (status, content type, body text)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}",
                                    timeout=10) as r:
            return r.status, r.headers["Content-Type"], r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers["Content-Type"], e.read().decode()


def parse_metrics(text):
    """Prometheus text -> {(name, frozenset(label items)): value}."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        series, value = line.rsplit(" ", 1)
        labels = {}
        if "{" in series:
            name, rest = series.split("{", 1)
            for m in re.finditer(r'(\w+)="((?:[^"\\]|\\.)*)"', rest[:-1]):
                labels[m.group(1)] = re.sub(r"\\(.)", lambda x: {
                    "n": "\n"}.get(x.group(1), x.group(1)), m.group(2))
        else:
            name = series
        out[(name, frozenset(labels.items()))] = float(value)
    return out


def metric(parsed, name, **labels):
    """Sum of the series of `name` whose labels include `labels`."""
    want = set(labels.items())
    found = [v for (n, ls), v in parsed.items() if n == name and want <= ls]
    assert found, f"no series {name} {labels}"
    return sum(found)


CUSTOMER_FIELDS = ["customer_id", "name", "email", "country", "segment",
                   "created_at", "updated_at"]


def fill_landing(tmp_path, orders=300, customers=60, seed=7, rounds=1):
    """What `floe demo` does before its DAG runs: `floe emit` writes
    logs/ (with a truth file; fault rates raised so that even a small set
    has malformed and duplicate lines), `floe agent` sends them to
    `floe firehose`, which delivers them to lake/landing/ until every
    emitted line landed. Each further round appends as many orders and
    runs the agent again, so landing/ holds at least two objects per
    round. Returns (lake, logs)."""
    from conftest import Firehose

    logs = tmp_path / "logs"
    fh = Firehose(tmp_path).start()
    try:
        for stream in ("orders", "customers"):
            make_stream(fh, stream, interval=1)
        cfg = tmp_path / "agent.json"
        write_agent_json(cfg, fh.endpoint, tmp_path / "agent.ckpt", [
            flow(logs / "orders.log", "orders"),
            flow(logs / "customers.log", "customers",
                 {"optionName": "CSVTOJSON",
                  "customFieldNames": CUSTOMER_FIELDS})])
        for i in range(rounds):
            r = subprocess.run([FLOE, "emit", "--dir", str(logs),
                                "--orders", str(orders), "--customers",
                                str(customers), "--seed", str(seed + i),
                                "--malformed-rate", "0.03",
                                "--duplicate-rate", "0.03"] +
                               (["--append"] if i else []),
                               capture_output=True, text=True, timeout=60)
            assert r.returncode == 0, r.stderr
            lines = sum(1 for _ in open(logs / "emit-truth.tsv"))
            r = run_agent(cfg)
            assert r.returncode == 0, r.stderr

            def landed_lines():
                return sum(landed(fh, s).count(b"\n")
                           for s in ("orders", "customers"))
            wait_for(lambda: landed_lines() == lines,
                     what=f"{lines} lines in landing/")
            # the next round's objects are new ones, never appended to
            # this round's (one object per buffer flush)
    finally:
        assert fh.stop() == 0, fh.proc.output()
    return fh.lake.root, logs
