"""`floe agent` and file identity, against `floe firehose`: a file deleted
and recreated with the same device and inode is a new file (its first
bytes changed), after a restart and within one run; more matching files
than the open-file limit are all read, in turn, exactly once.

Inode reuse is made deterministic: when the file system gives the new file
another inode, the checkpoint row is rewritten with sqlite3 to carry the new
file's device and inode, which is exactly what reuse looks like to the
agent. Real reuse is tried too (skipped where the file system never
reuses)."""
import collections
import os
import sqlite3
import subprocess
import time

import pytest

from agentlib import (agent_env, landed, make_stream, metric, parse_metrics,
                      scrape, write_agent_json)
from conftest import FLOE, Proc, wait_for

ULIMIT = 256


def lines(tag, n, start=0):
    return b"".join(b'{"tag":"%s","seq":%d}\n' % (tag.encode(), i)
                    for i in range(start, start + n))


def final_landed(fh, stream="app"):
    """Every landed line of `stream`, counted. firehose delivers what it
    buffered when stopped; it is started again on the same port."""
    fh.stop()
    got = collections.Counter(landed(fh, stream).split(b"\n")[:-1])
    fh.extra = ["--port", str(fh.port)]
    fh.start()
    return got


def assert_once(got, *parts):
    """Each line of `parts` landed exactly once, and nothing else."""
    want = collections.Counter(b"".join(parts).split(b"\n")[:-1])
    missing = [k for k in want if got[k] == 0]
    dups = [k for k in want if got[k] > 1]
    extra = [k for k in got if k not in want]
    assert not missing and not dups and not extra, (
        f"{len(missing)} of {len(want)} lines missing, e.g. {missing[:3]}; "
        f"{len(dups)} duplicated; {len(extra)} unexpected")


def setup(fh, tmp_path, glob, **flow):
    """Stream "app", an empty logs/ directory and an agent.json whose flow
    tails logs/<glob>; returns (logs, agent.json path)."""
    make_stream(fh, "app", interval=1)
    logs = tmp_path / "logs"
    logs.mkdir()
    cfg = tmp_path / "agent.json"
    write_agent_json(cfg, fh.endpoint, tmp_path / "ck.db", [dict({
        "filePattern": str(logs / glob), "deliveryStream": "app",
        "initialPosition": "START_OF_FILE", "maxBufferAgeMillis": 1000},
        **flow)])
    return logs, cfg


def agent_args(cfg, *extra, nofile=None):
    """argv for `floe agent`; with `nofile`, under `ulimit -n nofile` (soft
    and hard, so the agent cannot raise it)."""
    args = [FLOE, "agent", "--config", str(cfg), "--progress-interval", "1s",
            *extra]
    if nofile is None:
        return args
    return ["bash", "-c", f'ulimit -n {nofile} && exec "$@"', "bash", *args]


def run_to_eof(cfg, nofile=None):
    r = subprocess.run(agent_args(cfg, "--exit-at-eof", nofile=nofile),
                       capture_output=True, text=True, env=agent_env(),
                       timeout=180)
    assert r.returncode == 0, r.stderr[-3000:]
    return r.stderr


def file_key(st):
    return "(dev=%x,ino=%d)" % (st.st_dev, st.st_ino)


def as_reused(ckpt, path, old_st, file=None):
    """Make the file now at `path` (or at `file`, to be moved there) look
    like a reuse of `old_st`'s inode: if the file system gave it another
    inode, point the checkpoint row of `path` at the new device and inode.
    Returns whether the reuse was real."""
    st = os.stat(file or path)
    if (st.st_dev, st.st_ino) == (old_st.st_dev, old_st.st_ino):
        return True
    with sqlite3.connect(ckpt, timeout=30) as db:
        n = db.execute("update FILE_CHECKPOINTS set fileId = ? where path = ?",
                       (file_key(st), str(path))).rowcount
    assert n == 1
    return False


def replace_file(path, data, real):
    """Delete `path` and write `data` as a new file there. `real`: try to
    get the same inode back (delete first, then create); otherwise make
    sure it is another one (create, then rename over)."""
    old = os.stat(path)
    if real:
        for _ in range(20):  # another process may take the inode first
            os.unlink(path)
            path.write_bytes(data)
            if os.stat(path).st_ino == old.st_ino:
                return old
            time.sleep(0.05)
        pytest.skip("the file system did not reuse the inode")
    tmp = path.with_name("staging.tmp")
    tmp.write_bytes(data)
    os.rename(tmp, path)
    assert os.stat(path).st_ino != old.st_ino
    return old


@pytest.mark.parametrize("real", [False, True], ids=["rewritten", "real"])
def test_inode_reused_across_restart(firehose, tmp_path, real):
    logs, cfg = setup(firehose, tmp_path, "app.log*")
    app = logs / "app.log"
    old_lines, new_lines = lines("old", 2000), lines("new", 3000)
    app.write_bytes(old_lines)
    run_to_eof(cfg)
    old = replace_file(app, new_lines, real)
    assert as_reused(tmp_path / "ck.db", app, old) == real
    out = run_to_eof(cfg)
    assert_once(final_landed(firehose), old_lines, new_lines)
    assert "resuming at offset" not in out, out[-3000:]


def start_agent(cfg, tmp_path, nofile=None):
    """`floe agent` in the background with /metrics; returns (Proc, a
    function giving the records sent so far)."""
    ready = tmp_path / "ready"
    if ready.exists():
        ready.unlink()
    proc = Proc(agent_args(cfg, "--metrics-port", "0", "--ready-file",
                           str(ready), nofile=nofile),
                tmp_path / "agent.log", env=agent_env())
    wait_for(lambda: ready.exists() or proc.p.poll() is not None,
             what="agent ready")
    assert proc.p.poll() is None, proc.output()[-3000:]
    port = int(ready.read_text())
    return proc, lambda: metric(parse_metrics(scrape(port)[2]),
                                "floe_agent_records_sent_total")


def test_inode_reused_end_of_file(firehose, tmp_path):
    """initialPosition END_OF_FILE applies to files without a checkpoint:
    a new file at a checkpointed path came after that one and is read
    from its start."""
    logs, cfg = setup(firehose, tmp_path, "app.log*",
                      initialPosition="END_OF_FILE")
    app = logs / "app.log"
    app.write_bytes(b"")
    proc, sent = start_agent(cfg, tmp_path)
    old_lines, new_lines = lines("old", 2000), lines("new", 3000)
    app.write_bytes(old_lines)
    wait_for(lambda: sent() == 2000, timeout=60, what="old lines sent")
    assert proc.stop() == 0, proc.output()[-3000:]
    old = replace_file(app, new_lines, False)
    as_reused(tmp_path / "ck.db", app, old)
    run_to_eof(cfg)
    assert_once(final_landed(firehose), old_lines, new_lines)


def test_inode_reused_in_one_run(firehose, tmp_path):
    logs, cfg = setup(firehose, tmp_path, "app.log*")
    staging = tmp_path / "staging"
    staging.mkdir()
    app = logs / "app.log"
    old_lines, new_lines = lines("old", 2000), lines("new", 3000)
    app.write_bytes(old_lines)
    proc, sent = start_agent(cfg, tmp_path)
    wait_for(lambda: sent() == 2000, timeout=60, what="old lines sent")
    old = os.stat(app)
    app.unlink()
    # The tracker forgets the deleted file once it is read and sent.
    wait_for(lambda: "done (no longer matched)" in proc.output(),
             what="deleted file dropped")
    (staging / "app.log").write_bytes(new_lines)
    real = as_reused(tmp_path / "ck.db", app, old, staging / "app.log")
    os.rename(staging / "app.log", app)
    wait_for(lambda: sent() >= 5000, timeout=60, what="new lines sent")
    out = proc.output()
    assert proc.stop() == 0, out[-3000:]
    print(f"inode reused by the file system: {real}")
    assert_once(final_landed(firehose), old_lines, new_lines)


def many_files(logs, n, tag, start=0):
    data = []
    for i in range(n):
        d = lines(f"{tag}{i}", 3, start)
        with open(logs / f"f{i:04d}.log", "ab") as f:
            f.write(d)
        data.append(d)
    return data


def test_more_files_than_descriptors(firehose, tmp_path):
    logs, cfg = setup(firehose, tmp_path, "*.log")
    data = many_files(logs, 600, "f")
    out = run_to_eof(cfg, nofile=ULIMIT)
    assert_once(final_landed(firehose), *data)
    assert "wait for a file descriptor" in out, out[-3000:]
    # A restart resumes all 600 from their checkpoints, in turn.
    more = many_files(logs, 600, "f", start=3)
    run_to_eof(cfg, nofile=ULIMIT)
    assert_once(final_landed(firehose), *data, *more)


def test_idle_files_reopened_when_they_grow(firehose, tmp_path):
    logs, cfg = setup(firehose, tmp_path, "*.log")
    data = many_files(logs, 600, "f")
    proc, sent = start_agent(cfg, tmp_path, nofile=ULIMIT)
    wait_for(lambda: sent() >= 1800, timeout=90, what="1800 lines sent")
    more = many_files(logs, 600, "f", start=3)
    wait_for(lambda: sent() >= 3600, timeout=90, what="3600 lines sent")
    out = proc.output()
    assert proc.stop() == 0, out[-3000:]
    assert_once(final_landed(firehose), *data, *more)


def test_connections_fit_the_descriptor_limit(firehose, tmp_path):
    """Under `ulimit -n 64` the agent keeps 16 descriptors from its files
    and opens at most 8 connections, however wide its window: requests
    past that wait for a connection instead of failing with EMFILE (and
    being retried as network errors)."""
    from fhproxy import FhProxy
    make_stream(firehose, "app", interval=1)
    log = tmp_path / "app.log"
    data = lines("c", 20_000)
    log.write_bytes(data)
    with FhProxy(firehose.port, "delay", delay_s=0.05) as px:
        cfg = tmp_path / "agent.json"
        write_agent_json(cfg, px.endpoint, tmp_path / "ck.db", [{
            "filePattern": str(log), "deliveryStream": "app",
            "initialPosition": "START_OF_FILE", "maxBufferAgeMillis": 1000,
            "maxBufferSizeRecords": 50}])
        out = run_to_eof(cfg, nofile=64)
        counts = px.counts()
    assert_once(final_landed(firehose), data)
    assert counts["max_in_flight"] <= 8, counts
    assert counts["max_in_flight"] >= 2, counts  # still concurrent
    assert "network" not in out and "EMFILE" not in out, out[-3000:]
