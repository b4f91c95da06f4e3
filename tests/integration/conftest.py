"""Shared fixtures for Floe's end-to-end tests.

Every test drives the real `floe` binary (FLOE_BIN, default build/floe)
against real peers: the AWS CLI and boto3 as clients, moto as a server we
did not write, pyarrow as an independent Parquet reader. Servers get a free
port and a temporary lake; their logs are printed when a test fails.
"""
import base64
import gzip
import json
import os
import pathlib
import socket
import subprocess
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
FLOE = os.environ.get("FLOE_BIN", str(ROOT / "build" / "floe"))
VENV_BIN = pathlib.Path(sys.executable).parent

# Dummy credentials: the AWS clients insist on signing.
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "AKIDFLOETEST",
    "AWS_SECRET_ACCESS_KEY": "floe-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(fn, timeout=30.0, interval=0.05, what="condition"):
    """Poll fn() until it returns a truthy value or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def gunzip(data: bytes) -> bytes:
    return gzip.decompress(data)


class Lake:
    """A store directory seen from outside: keys are relative paths."""

    def __init__(self, root: pathlib.Path):
        self.root = root

    def keys(self, prefix=""):
        out = []
        for p in self.root.rglob("*"):
            if p.is_file() and ".floe-tmp" not in p.parts:
                k = p.relative_to(self.root).as_posix()
                if k.startswith(prefix):
                    out.append(k)
        return sorted(out)

    def read(self, key) -> bytes:
        return (self.root / key).read_bytes()


class Proc:
    """A floe server process with its log captured to a file."""

    def __init__(self, args, log_path, env=None):
        self.args = args
        self.log_path = log_path
        self.log = open(log_path, "wb")
        self.p = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT,
                                  env=env)

    def stop(self, sig=15, timeout=30):
        if self.p.poll() is None:
            self.p.send_signal(sig)
            try:
                self.p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.log.close()
        return self.p.returncode

    def output(self):
        if not self.log.closed:
            self.log.flush()
        return pathlib.Path(self.log_path).read_text(errors="replace")


class Firehose:
    def __init__(self, tmp: pathlib.Path, extra=()):
        self.lake = Lake(tmp / "lake")
        self.state = tmp / "firehose-state"
        self.ready = tmp / "firehose.port"
        self.tmp = tmp
        self.extra = list(extra)
        self.proc = None
        self.port = None

    def start(self):
        if self.ready.exists():
            self.ready.unlink()
        args = [FLOE, "firehose", "--lake", str(self.lake.root),
                "--state-dir", str(self.state), "--port", "0",
                "--ready-file", str(self.ready)] + self.extra
        self.proc = Proc(args, self.tmp / "firehose.log")
        wait_for(lambda: self.ready.exists() or self.proc.p.poll() is not None,
                 what="firehose to listen")
        assert self.proc.p.poll() is None, self.proc.output()
        self.port = int(self.ready.read_text().strip())
        self.endpoint = f"http://127.0.0.1:{self.port}"
        return self

    def stop(self, sig=15):
        return self.proc.stop(sig) if self.proc else None


@pytest.fixture
def firehose(tmp_path, request):
    fh = Firehose(tmp_path).start()
    yield fh
    fh.stop()
    if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
        print("---- firehose log ----\n" + fh.proc.output())


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


@pytest.fixture
def aws():
    """Run the real AWS CLI against an endpoint; returns parsed JSON."""
    def run(endpoint, *args, check=True):
        env = dict(os.environ, **AWS_ENV)
        cmd = [str(VENV_BIN / "aws"), "--endpoint-url", endpoint,
               "--output", "json"] + list(args)
        r = subprocess.run(cmd, capture_output=True, text=True, env=env,
                           timeout=60)
        if check and r.returncode != 0:
            raise AssertionError(f"aws {' '.join(args)} failed: {r.stderr}")
        if r.returncode != 0:
            return r
        return json.loads(r.stdout) if r.stdout.strip() else {}
    return run


@pytest.fixture
def boto_firehose():
    import boto3
    from botocore.config import Config

    def make(endpoint):
        return boto3.client("firehose", endpoint_url=endpoint,
                            region_name="us-east-1",
                            aws_access_key_id=AWS_ENV["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=AWS_ENV["AWS_SECRET_ACCESS_KEY"],
                            config=Config(retries={"max_attempts": 1}))
    return make


@pytest.fixture
def moto_server(tmp_path):
    port = free_port()
    env = dict(os.environ, **AWS_ENV)
    proc = Proc([str(VENV_BIN / "moto_server"), "-H", "127.0.0.1", "-p",
                 str(port)], tmp_path / "moto.log", env=env)

    def up():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            return False
    wait_for(up, what="moto to listen")
    yield f"http://127.0.0.1:{port}"
    proc.stop()


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "airflow: runs real Apache Airflow (its own pinned "
        "environment, scripts/bootstrap --airflow)")
    config.addinivalue_line(
        "markers", "dist: builds the relocatable tarball (make dist) and "
        "checks it; not part of make integration")
