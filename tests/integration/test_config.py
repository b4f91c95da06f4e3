"""floe.yaml end to end: `floe --config FILE <command>` and FLOE_CONFIG
really drive a command, precedence is file < environment < command line,
bad files fail with exit 2 and file:line, and `floe config --doc/--check`
work from the same option tables the commands use."""
import os
import socket
import subprocess

import yaml

from conftest import FLOE, ROOT, Proc, free_port, wait_for


def run(*args, env=None):
    return subprocess.run([FLOE, *args], capture_output=True, text=True,
                          timeout=60, env=env)


def start_firehose(tmp_path, config_args, extra=(), env=None):
    ready = tmp_path / "firehose.port"
    proc = Proc([FLOE, *config_args, "firehose", *extra],
                tmp_path / "firehose.log", env=env)
    wait_for(lambda: ready.exists() or proc.p.poll() is not None,
             what="firehose to listen")
    assert proc.p.poll() is None, proc.output()
    return proc, int(ready.read_text().strip())


def firehose_yaml(tmp_path, port):
    # state_dir uses the '_' spelling on purpose; ready-file the '-' one.
    path = tmp_path / "x.yaml"
    path.write_text(
        "# firehose entirely from the file\n"
        "firehose:\n"
        f"  lake: {tmp_path / 'lake'}\n"
        f"  state_dir: {tmp_path / 'state'}\n"
        f"  port: {port}\n"
        f"  ready-file: {tmp_path / 'firehose.port'}\n")
    return path


def listening(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def test_firehose_takes_port_and_paths_from_config(tmp_path):
    port = free_port()
    cfg = firehose_yaml(tmp_path, port)
    proc, got = start_firehose(tmp_path, ["--config", str(cfg)])
    try:
        assert got == port
        assert listening(port)
        assert (tmp_path / "state").is_dir()  # state_dir from the file
    finally:
        assert proc.stop() == 0, proc.output()


def test_floe_config_env_and_precedence(tmp_path):
    file_port, env_port = free_port(), free_port()
    cfg = firehose_yaml(tmp_path, file_port)
    # FLOE_CONFIG selects the file; FLOE_FIREHOSE_PORT beats the file.
    env = dict(os.environ, FLOE_CONFIG=str(cfg),
               FLOE_FIREHOSE_PORT=str(env_port))
    proc, got = start_firehose(tmp_path, [], env=env)
    try:
        assert got == env_port
    finally:
        assert proc.stop() == 0, proc.output()
    # ... and the command line beats both.
    (tmp_path / "firehose.port").unlink()
    argv_port = free_port()
    proc, got = start_firehose(tmp_path, [], ["--port", str(argv_port)],
                               env=env)
    try:
        assert got == argv_port
    finally:
        assert proc.stop() == 0, proc.output()


def test_bad_yaml_is_exit_2_with_file_and_line(tmp_path):
    cases = {
        "firehose:\n  port: 1\n  port: 2\n": "bad.yaml:3:3: duplicate key 'port'",
        "firehose:\n  port: 1\n  prot: 2\n":
            "bad.yaml:3: unknown key 'prot' in section 'firehose'",
        "firehose:\n  port: 70000\n": "bad.yaml:2: firehose.port: 70000 is out of range",
        "firehose:\n  port: [1]\n": "bad.yaml:2: firehose.port: must be a single value",
        "firehose:\n\tport: 1\n": "bad.yaml:2:1: tab character in indentation",
        "firehose: [\n": "bad.yaml:2:1:",
        "- firehose\n": "bad.yaml:1:1: the top level must be a mapping",
    }
    bad = tmp_path / "bad.yaml"
    for text, want in cases.items():
        bad.write_text(text)
        r = run("--config", str(bad), "firehose", "--port", "0",
                "--lake", str(tmp_path / "lake"))
        assert r.returncode == 2, (text, r.stderr)
        assert want in r.stderr, (text, r.stderr)
    r = run("--config", str(tmp_path / "missing.yaml"), "run", "--once")
    assert r.returncode == 2 and "missing.yaml: no such file" in r.stderr
    r = run("--config")
    assert r.returncode == 2 and "--config needs a file name" in r.stderr


def test_config_doc_lists_every_command_option():
    r = run("config", "--doc")
    assert r.returncode == 0, r.stderr
    doc = yaml.safe_load(r.stdout)
    for section in ("firehose", "agent", "run", "task", "emit", "demo"):
        assert section in doc
    fh = doc["firehose"]["port"]
    assert fh["type"] == "integer" and fh["default"] == "4573"
    assert fh["min"] == 0 and fh["max"] == 65535
    assert fh["env"] == "FLOE_FIREHOSE_PORT" and fh["flag"] == "--port"
    assert "required" not in doc["agent"]["config"]  # or agent.flows
    assert doc["agent"]["flows"]["type"] == "structured"
    assert doc["run"]["once"]["type"] == "boolean"
    assert doc["run"]["schedule"]["type"] == "duration"
    # The reference is generated from the same tables as --help.
    help_text = run("firehose", "--help").stdout
    for key in doc["firehose"]:
        if doc["firehose"][key]["type"] != "structured":
            assert f"--{key}" in help_text
    # One section at a time, straight from a command.
    one = run("firehose", "--config-doc")
    assert one.returncode == 0
    assert list(yaml.safe_load(one.stdout)) == ["firehose"]


def test_config_check_example_passes():
    r = run("config", "--check", str(ROOT / "config" / "floe.yaml"))
    assert r.returncode == 0, r.stderr
    assert "OK" in r.stdout


def test_config_check_reports_every_bad_section(tmp_path):
    bad = tmp_path / "check.yaml"
    bad.write_text("firehose:\n  port: 1\n"
                   "fireh0se:\n  port: 2\n"
                   "run:\n  retries: 1000\n"
                   "agent:\n  flowz: []\n")
    r = run("config", "--check", str(bad))
    assert r.returncode == 2
    assert "check.yaml:3: unknown section 'fireh0se'" in r.stderr
    assert "check.yaml:6: run.retries: 1000 is out of range" in r.stderr
    assert "check.yaml:8: unknown key 'flowz' in section 'agent'" in r.stderr
    assert "3 sections with errors" in r.stderr
    r = run("config")
    assert r.returncode == 2 and "--doc or --check" in r.stderr
    r = run("config", "--help")
    assert r.returncode == 0 and r.stdout.startswith("Usage: floe config")


def test_config_check_warns_about_file_patterns(tmp_path):
    """The agent's flow checks run for --check too: a relative filePattern
    and a missing directory are warnings (exit 0), a glob in the directory
    part an error."""
    cfg = tmp_path / "w.yaml"
    cfg.write_text("agent:\n  flows:\n"
                   "    - filePattern: app.log\n      deliveryStream: s\n"
                   f"    - filePattern: {tmp_path}/nope/x.log\n"
                   "      deliveryStream: t\n")
    r = subprocess.run([FLOE, "config", "--check", str(cfg)],
                       capture_output=True, text=True, timeout=60,
                       cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert ("flows[0]: filePattern 'app.log' is relative: floe resolves it "
            f"against its working directory, {tmp_path}") in r.stderr
    assert f"flows[1]: directory {tmp_path}/nope does not exist" in r.stderr
    cfg.write_text("agent:\n  flows:\n"
                   "    - filePattern: /var/*/x.log\n      deliveryStream: s\n")
    r = subprocess.run([FLOE, "config", "--check", str(cfg)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert "the directory part must be literal" in r.stderr


STREAMS = """\
firehose:
  streams:
    - name: ok
    - name: "bad name!"
    - name: colours
      colour: red
      shape: round
    - name: ok
      buffer_size_mb: 500
"""
STREAM_PROBLEMS = [
    "s.yaml:4: stream bad name!: ValidationException",
    "s.yaml:6: unknown key 'colour' in a firehose stream",
    "s.yaml:7: unknown key 'shape' in a firehose stream",
    "s.yaml:8: stream ok: ValidationException: 1 validation error detected: "
    "Value '500' at 'extendedS3DestinationConfiguration.bufferingHints."
    "sizeInMBs'",
    "s.yaml:8: firehose stream 'ok' is declared twice (first at line 3)",
]


def test_config_check_refuses_what_firehose_refuses(tmp_path):
    """config --check runs the start-up checks of the declared streams
    (those of CreateDeliveryStream): every problem with file:line, a
    duplicate naming both lines; floe firehose refuses the same file with
    the same messages and creates nothing."""
    cfg = tmp_path / "s.yaml"
    cfg.write_text(STREAMS)
    r = run("config", "--check", str(cfg))
    assert r.returncode == 2, r.stdout
    for p in STREAM_PROBLEMS:
        assert p in r.stderr, (p, r.stderr)
    fh = run("--config", str(cfg), "firehose", "--lake",
             str(tmp_path / "lake"), "--state-dir", str(tmp_path / "st"),
             "--port", "0")
    assert fh.returncode != 0
    for p in STREAM_PROBLEMS:
        assert p in fh.stderr, (p, fh.stderr)
    assert not (tmp_path / "st" / "streams.json").exists() or \
        "ok" not in (tmp_path / "st" / "streams.json").read_text()
    # Fixed, the same file passes both.
    cfg.write_text("firehose:\n  streams:\n    - name: ok\n"
                   "    - name: x.tmp-1\n")
    r = run("config", "--check", str(cfg))
    assert r.returncode == 0, r.stderr


def test_config_check_finds_a_duplicate_among_100000(tmp_path):
    """Checking is O(n log n): a duplicate stream among 100,000 entries and
    a duplicate key among 100,000 keys of a mapping are found, naming both
    lines (quadratic checking took minutes here)."""
    lines = ["firehose:", "  streams:"]
    lines += [f"    - name: s{i}" for i in range(100000)]
    lines.append("    - name: s77777")
    cfg = tmp_path / "big.yaml"
    cfg.write_text("\n".join(lines) + "\n")
    r = run("config", "--check", str(cfg))
    assert r.returncode == 2
    assert ("big.yaml:100003: firehose stream 's77777' is declared twice "
            "(first at line 77780)") in r.stderr, r.stderr[-2000:]
    lines = ["agent:", "  flows:", "    - filePattern: /tmp/x.log",
             "      deliveryStream: s"]
    lines += [f"      k{i}: 1" for i in range(100000)]
    lines.append("      k5: 2")
    cfg.write_text("\n".join(lines) + "\n")
    r = run("config", "--check", str(cfg))
    assert r.returncode == 2
    assert "big.yaml:100005:7: duplicate key 'k5' (first at line 10)" in \
        r.stderr, r.stderr[-2000:]


def test_config_check_reports_every_problem_of_a_section(tmp_path):
    cfg = tmp_path / "r.yaml"
    cfg.write_text("run:\n  retries: 1000\n  bogus: 1\n  once: maybe\n")
    r = run("config", "--check", str(cfg))
    assert r.returncode == 2
    assert "r.yaml:2: run.retries: 1000 is out of range" in r.stderr
    assert "r.yaml:3: unknown key 'bogus' in section 'run'" in r.stderr
    assert "r.yaml:4: run.once: 'maybe' is not a boolean" in r.stderr


def test_config_check_and_run_refuse_an_unknown_engine(tmp_path):
    cfg = tmp_path / "e.yaml"
    cfg.write_text("run:\n  engine: snowflak\n")
    r = run("config", "--check", str(cfg))
    assert r.returncode == 2
    want = "e.yaml:2: run.engine: warehouse: unknown engine 'snowflak'"
    assert want in r.stderr
    r = run("--config", str(cfg), "run", "--once", "--lake",
            str(tmp_path / "lake"), "--state-dir", str(tmp_path / "st"))
    assert r.returncode == 2 and want in r.stderr
