"""S3 servers for the tests, started on loopback by the tests themselves.

- MotoS3: moto's server with signature checking on (keys created through
  its IAM API, then auth switched on): a wrong secret gets 403
  SignatureDoesNotMatch. moto trusts x-amz-content-sha256.
- StrictS3: versitygw (posix backend), which checks the signature and the
  payload hash against the body. scripts/bootstrap --test builds it into
  .deps/versitygw; FLOE_VERSITYGW names another binary.
Each gives the URL of a store under a prefix, the environment a floe
process needs (keys, endpoint, region) and a boto3 client to look from
outside.
"""
import json
import os
import pathlib
import signal
import socket
import subprocess
import threading
import urllib.request

from conftest import ROOT, VENV_BIN, Proc, free_port, wait_for

BUCKET = "floe-lake"
REGION = "us-east-1"
VERSITYGW = os.environ.get(
    "FLOE_VERSITYGW", str(ROOT / ".deps" / "versitygw" / "bin" / "versitygw"))


def _listening(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class S3Server:
    kind = "s3"

    def __init__(self, tmp: pathlib.Path):
        self.tmp = tmp
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.proc = None

    # What a floe process needs; no shared files from the user's home.
    def env(self, secret=None, endpoint=None):
        env = dict(os.environ)
        for k in list(env):
            if k.startswith("AWS_"):
                del env[k]
        env.update({
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": secret or self.secret_key,
            "AWS_REGION": REGION,
            "AWS_ENDPOINT_URL_S3": endpoint or self.endpoint,
            "AWS_CONFIG_FILE": str(self.tmp / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.tmp / "no-aws-creds"),
            "AWS_EC2_METADATA_DISABLED": "true",
        })
        return env

    def url(self, prefix, **opts):
        q = "&".join(f"{k}={v}" for k, v in opts.items())
        return f"s3://{BUCKET}/{prefix}" + (f"?{q}" if q else "")

    def client(self):
        import boto3
        from botocore.config import Config
        return boto3.client("s3", endpoint_url=self.endpoint,
                            region_name=REGION,
                            aws_access_key_id=self.access_key,
                            aws_secret_access_key=self.secret_key,
                            config=Config(retries={"max_attempts": 1},
                                          s3={"addressing_style": "path"}))

    def aws_cli(self, *args):
        """The real AWS CLI against this server; its stdout."""
        env = self.env()
        r = subprocess.run([str(VENV_BIN / "aws"), "--endpoint-url",
                            self.endpoint] + list(args),
                           capture_output=True, text=True, env=env,
                           timeout=120)
        assert r.returncode == 0, r.stderr
        return r.stdout

    def kill(self):
        if self.proc is not None:
            self.proc.stop(sig=signal.SIGKILL)

    def stop(self):
        if self.proc is not None:
            self.proc.stop()


class MotoS3(S3Server):
    name = "moto"

    def start(self):
        env = dict(os.environ, AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x",
                   S3_UPLOAD_PART_MIN_SIZE=str(5 << 20))
        self.proc = Proc([str(VENV_BIN / "moto_server"), "-H", "127.0.0.1",
                          "-p", str(self.port)], self.tmp / "moto.log", env=env)
        wait_for(lambda: _listening(self.port), what="moto to listen")
        import boto3
        iam = boto3.client("iam", endpoint_url=self.endpoint,
                           region_name=REGION, aws_access_key_id="x",
                           aws_secret_access_key="x")
        iam.create_user(UserName="floe")
        iam.put_user_policy(UserName="floe", PolicyName="s3", PolicyDocument=
                            json.dumps({"Version": "2012-10-17", "Statement": [
                                {"Effect": "Allow",
                                 "Action": ["s3:*", "iam:*", "sts:*"],
                                 "Resource": "*"}]}))
        key = iam.create_access_key(UserName="floe")["AccessKey"]
        self.access_key = key["AccessKeyId"]
        self.secret_key = key["SecretAccessKey"]
        req = urllib.request.Request(f"{self.endpoint}/moto-api/reset-auth",
                                     data=b"0", method="POST",
                                     headers={"Content-Type": "text/plain"})
        urllib.request.urlopen(req, timeout=10).read()
        self.client().create_bucket(Bucket=BUCKET)
        return self

    def session_env(self):
        """Temporary credentials from STS AssumeRole: the environment with
        AWS_SESSION_TOKEN, which moto checks."""
        import boto3
        kw = dict(endpoint_url=self.endpoint, region_name=REGION,
                  aws_access_key_id=self.access_key,
                  aws_secret_access_key=self.secret_key)
        iam = boto3.client("iam", **kw)
        arn = iam.create_role(RoleName="floe-role", AssumeRolePolicyDocument=
                              json.dumps({"Version": "2012-10-17", "Statement": [
                                  {"Effect": "Allow", "Principal": {"AWS": "*"},
                                   "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
        iam.put_role_policy(RoleName="floe-role", PolicyName="s3",
                            PolicyDocument=json.dumps({
                                "Version": "2012-10-17", "Statement": [
                                    {"Effect": "Allow", "Action": "s3:*",
                                     "Resource": "*"}]}))
        c = boto3.client("sts", **kw).assume_role(
            RoleArn=arn, RoleSessionName="floe-session")["Credentials"]
        env = self.env()
        env.update(AWS_ACCESS_KEY_ID=c["AccessKeyId"],
                   AWS_SECRET_ACCESS_KEY=c["SecretAccessKey"],
                   AWS_SESSION_TOKEN=c["SessionToken"])
        return env

    def restart(self):
        """moto keeps nothing: a new server, keys and bucket."""
        self.stop()
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        return self.start()


class StrictS3(S3Server):
    name = "strict"

    def start(self):
        if not os.path.exists(VERSITYGW):
            raise AssertionError(f"{VERSITYGW} is missing: run "
                                 "scripts/bootstrap --test")
        self.access_key = "FLOESTRICTAK"
        self.secret_key = "floe-strict-secret-key"
        self.data = self.tmp / "versitygw-data"
        self.data.mkdir(exist_ok=True)
        self._run()
        self.client().create_bucket(Bucket=BUCKET)
        return self

    def _run(self):
        self.proc = Proc([VERSITYGW, "--access", self.access_key, "--secret",
                          self.secret_key, "--region", REGION, "--quiet",
                          # bucket.localhost: virtual-hosted requests too
                          "--virtual-domain", "localhost", "--port",
                          f"127.0.0.1:{self.port}", "posix", str(self.data)],
                         self.tmp / f"versitygw-{self.port}.log")
        wait_for(lambda: _listening(self.port) or self.proc.p.poll() is not None,
                 what="versitygw to listen")
        assert self.proc.p.poll() is None, self.proc.output()

    def restart(self):
        """Same data, same port."""
        self.stop()
        self._run()
        return self


SERVERS = {"moto": MotoS3, "strict": StrictS3}


class _Proxy:
    """A TCP proxy on loopback in front of port `target`: each connection
    gets two threads running self._pipe(a, b, up), up = client -> server."""

    def __init__(self, target):
        self.target = target
        self.lock = threading.Lock()
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(16)
        self.port = self.lsock.getsockname()[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _refuse(self):
        return False

    def _accept(self):
        while True:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            if self._refuse():
                c.close()
                return
            try:
                s = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                c.close()
                continue
            for a, b, up in ((c, s, True), (s, c, False)):
                threading.Thread(target=self._pipe, args=(a, b, up),
                                 daemon=True).start()

    @staticmethod
    def _close_both(a, b):
        for x in (a, b):  # shutdown wakes the other direction's recv()
            try:
                x.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            x.close()

    def close(self):
        try:  # wakes accept(); new connections are refused
            self.lsock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.lsock.close()


class FaultProxy(_Proxy):
    """`fire(chunk)` sees every chunk going up (under a lock); when it
    returns True, `action()` runs (kill the server, or the client), that
    chunk is not forwarded and the proxy stops: its connections close and
    new ones are refused."""

    def __init__(self, port, fire, action):
        self.fire, self.action = fire, action
        self.fired = threading.Event()
        super().__init__(port)

    def _refuse(self):
        return self.fired.is_set()

    def _pipe(self, a, b, up):
        try:
            while True:
                data = a.recv(1 << 16)
                if not data:
                    break
                if up:
                    with self.lock:
                        cut = not self.fired.is_set() and self.fire(data)
                        if cut:
                            self.fired.set()
                    if cut:
                        self.action()
                        self.close()
                        break
                b.sendall(data)
        except OSError:
            pass
        self._close_both(a, b)


class CutProxy(_Proxy):
    """Cuts the first answer carrying more than `cut_at` bytes (down)
    after that many bytes, once; later connections go through whole.
    `requests` keeps the head of each request sent up, `down` counts the
    bytes sent down."""

    def __init__(self, port, cut_at):
        self.cut_at = cut_at
        self.cut = threading.Event()
        self.requests, self.down = [], 0
        super().__init__(port)

    def _pipe(self, a, b, up):
        sent = 0
        try:
            while True:
                data = a.recv(1 << 16)
                if not data:
                    break
                with self.lock:
                    if up and data[:4] in (b"GET ", b"PUT ", b"HEAD",
                                           b"POST", b"DELE"):
                        self.requests.append(data.split(b"\r\n\r\n")[0])
                    if not up and not self.cut.is_set() and \
                            sent + len(data) > self.cut_at:
                        self.cut.set()
                        data = data[:self.cut_at - sent]
                        b.sendall(data)
                        self.down += len(data)
                        break
                    if not up:
                        self.down += len(data)
                sent += len(data)
                b.sendall(data)
        except OSError:
            pass
        self._close_both(a, b)
