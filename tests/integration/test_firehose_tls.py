"""HTTPS: `floe firehose --tls-cert/--tls-key` serves the API over TLS
(the real Firehose endpoint is HTTPS only, and clients such as Fluent
Bit's kinesis_firehose output insist on it). Real clients that verify
certificates: boto3 and the AWS CLI with the test's own CA; `floe agent`
-> `floe firehose` end to end over TLS (--ca-file, and $AWS_CA_BUNDLE);
a client without the CA is refused by its own verification."""
import datetime
import ipaddress
import json
import os
import subprocess

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from agentlib import flow, landed, run_agent, write_agent_json
from conftest import AWS_ENV, FLOE, Firehose, VENV_BIN, wait_for

ROLE = "arn:aws:iam::123456789012:role/firehose"


def make_pki(d):
    """A CA and a server certificate for localhost / 127.0.0.1 it signed;
    returns (ca.pem, cert.pem, key.pem) paths."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                            "floe test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name)
          .issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None),
                         critical=True)
          .add_extension(x509.KeyUsage(
              digital_signature=True, key_cert_sign=True, crl_sign=True,
              content_commitment=False, key_encipherment=False,
              data_encipherment=False, key_agreement=False,
              encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(
                NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"),
                x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.ExtendedKeyUsage(
                [x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = d / "ca.pem", d / "cert.pem", d / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return paths


@pytest.fixture
def tls(tmp_path, request):
    ca, cert, key = make_pki(tmp_path)
    fh = Firehose(tmp_path, extra=["--tls-cert", str(cert),
                                   "--tls-key", str(key)]).start()
    fh.endpoint = f"https://localhost:{fh.port}"
    fh.ca = str(ca)
    yield fh
    fh.stop()
    if getattr(request.node, "rep_call", None) and request.node.rep_call.failed:
        print("---- firehose log ----\n" + open(fh.proc.log_path).read())


def client(fh, verify):
    return boto3.client("firehose", endpoint_url=fh.endpoint,
                        region_name="us-east-1", verify=verify,
                        aws_access_key_id=AWS_ENV["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=AWS_ENV["AWS_SECRET_ACCESS_KEY"],
                        config=Config(retries={"max_attempts": 1}))


def s3cfg(name, interval=1):
    return {"RoleARN": ROLE, "BucketARN": "arn:aws:s3:::landing",
            "Prefix": f"{name}/", "CompressionFormat": "UNCOMPRESSED",
            "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": interval}}


def test_boto3_and_cli_over_https_with_the_test_ca(tls):
    c = client(tls, tls.ca)
    c.create_delivery_stream(DeliveryStreamName="orders",
                             ExtendedS3DestinationConfiguration=s3cfg(
                                 "orders"))
    out = c.put_record_batch(DeliveryStreamName="orders", Records=[
        {"Data": b"tls-%d\n" % i} for i in range(5)])
    assert out["FailedPutCount"] == 0
    env = dict(os.environ, **AWS_ENV)
    r = subprocess.run([str(VENV_BIN / "aws"), "--endpoint-url",
                        tls.endpoint, "--ca-bundle", tls.ca, "--output",
                        "json", "firehose", "put-record",
                        "--delivery-stream-name", "orders", "--record",
                        '{"Data":"cli\\n"}'], capture_output=True,
                       text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["RecordId"]
    # Verification stays on: without the CA the client refuses the server.
    with pytest.raises(botocore.exceptions.SSLError):
        client(tls, True).list_delivery_streams()
    # Plain HTTP on the TLS port gets no API answer.
    with pytest.raises(Exception):
        client_plain = boto3.client(
            "firehose", endpoint_url=f"http://127.0.0.1:{tls.port}",
            region_name="us-east-1",
            aws_access_key_id=AWS_ENV["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=AWS_ENV["AWS_SECRET_ACCESS_KEY"],
            config=Config(retries={"max_attempts": 1}, read_timeout=10))
        client_plain.list_delivery_streams()
    assert tls.stop() == 0
    got = b"".join(tls.lake.read(k) for k in tls.lake.keys("landing/orders/"))
    assert sorted(got.splitlines()) == sorted(
        [b"tls-%d" % i for i in range(5)] + [b"cli"])


def test_agent_to_firehose_over_tls(tls, tmp_path):
    client(tls, tls.ca).create_delivery_stream(
        DeliveryStreamName="logs", ExtendedS3DestinationConfiguration=s3cfg(
            "logs"))
    log = tmp_path / "app.log"
    lines = [b"line %d over tls" % i for i in range(200)]
    log.write_bytes(b"\n".join(lines) + b"\n")
    cfg = tmp_path / "agent.json"
    write_agent_json(cfg, tls.endpoint, tmp_path / "ckpt.db",
                     [flow(log, "logs", maxBufferAgeMillis=1000)])
    r = run_agent(cfg, "--ca-file", tls.ca)
    assert r.returncode == 0, r.stderr
    wait_for(lambda: landed(tls, "logs").count(b"\n") >= 200, timeout=30,
             what="the agent's records")
    assert landed(tls, "logs").splitlines() == lines


def test_agent_verifies_the_server_certificate(tls, tmp_path):
    """No CA given: the agent refuses the self-signed server (it keeps
    retrying; killed after the first failures are logged)."""
    client(tls, tls.ca).create_delivery_stream(
        DeliveryStreamName="logs", ExtendedS3DestinationConfiguration=s3cfg(
            "logs"))
    log = tmp_path / "app.log"
    log.write_bytes(b"secret line\n")
    cfg = tmp_path / "agent.json"
    write_agent_json(cfg, tls.endpoint, tmp_path / "ckpt.db",
                     [flow(log, "logs", maxBufferAgeMillis=1000)])
    env = dict(os.environ, **AWS_ENV)
    env.pop("AWS_CA_BUNDLE", None)
    out = tmp_path / "agent.log"
    p = subprocess.Popen([FLOE, "agent", "--config", str(cfg),
                          "--exit-at-eof"], stdout=open(out, "wb"),
                         stderr=subprocess.STDOUT, env=env)
    try:
        wait_for(lambda: "certificate" in out.read_text(errors="replace")
                 .lower(), timeout=30, what="a certificate error")
    finally:
        p.terminate()
        p.wait(timeout=30)
    assert landed(tls, "logs") == b""
    # $AWS_CA_BUNDLE (as the AWS CLI reads it) is the default CA file.
    env["AWS_CA_BUNDLE"] = tls.ca
    r = subprocess.run([FLOE, "agent", "--config", str(cfg),
                        "--exit-at-eof"], capture_output=True, text=True,
                       env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    wait_for(lambda: landed(tls, "logs") == b"secret line\n", timeout=30)
