"""`floe agent` with its flows in floe.yaml (agent: flows:, the keys of
agent.json) instead of an agent.json: the same conversion and delivery
through `floe firehose`, the same checks with file:line in the message,
flows and config in one section refused, and a --config on the command
line winning over the file's flows as every option does."""
import json
import subprocess

from agentlib import agent_env, landed, make_stream
from conftest import FLOE

CUSTOMERS = ('C000001,"Smith, Jane",jane@example.com,DE\n'
             'C000002,Zoë "Z" Ng,zoe@example.com,FR\n')


def floe_yaml(tmp_path, body):
    cfg = tmp_path / "floe.yaml"
    cfg.write_text(body, encoding="utf-8")
    return cfg


def agent_yaml(tmp_path, fh, log, stream, extra=""):
    """floe.yaml with one START_OF_FILE flow of `log` to `stream` of `fh`
    (the flow's first key on line 6); `extra`: more flow keys."""
    return floe_yaml(tmp_path, f"""
agent:
  endpoint: {fh.endpoint}
  checkpoint-file: {tmp_path / "ck.db"}
  exit-at-eof: true
  flows:
    - filePattern: {log}
      deliveryStream: {stream}
      initialPosition: START_OF_FILE
{extra}""")


def run(cfg, *args):
    return subprocess.run([FLOE, "--config", str(cfg), "agent", *args],
                          capture_output=True, text=True, env=agent_env(),
                          timeout=120)


def test_flows_from_floe_yaml(firehose, tmp_path):
    make_stream(firehose, "customers")
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "customers.log").write_text(CUSTOMERS, encoding="utf-8")
    cfg = agent_yaml(tmp_path, firehose, logs / "customers.log", "customers",
                     """\
      maxBufferAgeMillis: 1000
      dataProcessingOptions:
        - optionName: CSVTOJSON
          customFieldNames: [customer_id, name, email, country, "123"]
""")
    r = run(cfg)
    assert r.returncode == 0, r.stderr
    assert f"flows from {cfg}:6 (agent.flows)" in r.stderr, r.stderr
    firehose.stop()
    recs = [json.loads(x) for x in
            landed(firehose, "customers").decode().splitlines()]
    assert recs == [
        {"customer_id": "C000001", "name": "Smith, Jane",
         "email": "jane@example.com", "country": "DE", "123": None},
        {"customer_id": "C000002", "name": 'Zoë "Z" Ng',
         "email": "zoe@example.com", "country": "FR", "123": None}]


def test_yaml_flow_errors_name_the_file(tmp_path):
    cfg = floe_yaml(tmp_path, """
agent:
  flows:
    - filePattern: /tmp/nothing/*.log
      deliveryStream: s
      maxBufferSizeRecords: 501
""")
    r = run(cfg)
    assert r.returncode == 2
    assert f"{cfg}:3: agent.flows:" in r.stderr, r.stderr
    assert "maxBufferSizeRecords" in r.stderr, r.stderr
    # floe config --check finds it too, without running anything
    r = subprocess.run([FLOE, "config", "--check", str(cfg)],
                       capture_output=True, text=True)
    assert r.returncode == 2, r.stderr
    assert f"{cfg}:3: agent.flows:" in r.stderr, r.stderr
    # an agent section without flows is fine (they come with -c)
    ok = floe_yaml(tmp_path, "agent:\n  exit-at-eof: true\n")
    r = subprocess.run([FLOE, "config", "--check", str(ok)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr

    agent_json = tmp_path / "agent.json"
    agent_json.write_text('{"flows": []}')
    cfg = floe_yaml(tmp_path, f"""
agent:
  config: {agent_json}
  flows:
    - filePattern: /tmp/nothing/*.log
      deliveryStream: s
""")
    r = run(cfg)
    assert r.returncode == 2, r.stderr
    assert f"{cfg}:4: agent: 'flows' and 'config'" in r.stderr, r.stderr

    # --config on the command line wins: its (empty) flows are the error
    cfg = floe_yaml(tmp_path, """
agent:
  flows:
    - filePattern: /tmp/nothing/*.log
      deliveryStream: s
""")
    r = run(cfg, "--config", str(agent_json))
    assert r.returncode == 2, r.stderr
    assert "--config wins" in r.stderr, r.stderr
    assert f"{agent_json}: \"flows\" must be a non-empty" in r.stderr

    r = subprocess.run([FLOE, "agent"], capture_output=True, text=True)
    assert r.returncode == 2 and "no flows" in r.stderr, r.stderr


def test_record_over_max_buffer_size_goes_alone(firehose, tmp_path):
    """maxBufferSizeBytes shapes batches; a longer line is sent alone,
    never refused (the Kinesis Agent does the same)."""
    make_stream(firehose, "app")
    logs = tmp_path / "logs"
    logs.mkdir()
    lines = [b"short\n", b"x" * 50 + b"\n", b"tiny\n", b"y" * 70 + b"\n"]
    (logs / "app.log").write_bytes(b"".join(lines))
    cfg = agent_yaml(tmp_path, firehose, logs / "app.log", "app",
                     "      maxBufferSizeBytes: 20\n")
    r = run(cfg)
    assert r.returncode == 0, r.stderr
    firehose.stop()
    # One request per buffer, several in flight: buffers may land in any
    # order.
    assert sorted(landed(firehose, "app").splitlines(True)) == sorted(lines)
