"""floe backfill, floe runs, and the built-in scheduler under stress: two
`floe run` at once, and a run killed mid-task then resumed. Every test
checks the processed zone against the emitted truth (truth.py)."""
import hashlib
import json
import signal
import sqlite3
import subprocess
from datetime import datetime, timedelta, timezone

import pyarrow.parquet as pq

from agentlib import fill_landing
from conftest import FLOE, Proc, wait_for
from truth import check_processed

TABLES = ("orders", "orders_enriched", "customer_versions", "customers",
          "daily_sales", "quarantine/orders", "quarantine/customers")


def floe(tmp_path, *args):
    r = subprocess.run([FLOE, *args, "--lake", str(tmp_path / "lake"),
                        "--state-dir", str(tmp_path / "state")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return r


def runs(tmp_path):
    r = subprocess.run([FLOE, "runs", "--json", "--state-dir",
                        str(tmp_path / "state")], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def snapshot(lake):
    """{table: (rows, sha256 of its rows in a canonical order)}."""
    out = {}
    for name in TABLES:
        files = sorted((lake / "processed" / name).rglob("*.parquet"))
        rows = []
        for f in files:
            part = {p.split("=", 1)[0]: p.split("=", 1)[1]
                    for p in f.relative_to(lake / "processed" / name).parts
                    if "=" in p}
            rows += [json.dumps(dict(r, **part), sort_keys=True,
                                default=str)
                     for r in pq.read_table(f).to_pylist()]
        rows.sort()
        out[name] = (len(rows), hashlib.sha256(
            "\n".join(rows).encode()).hexdigest())
    return out


def landing_identities(lake):
    """Each claimed object as its landing key, over every batch."""
    keys = []
    for m in (lake / "processing").glob("batch=*/_manifest.json"):
        keys += [o["source"] for o in json.loads(m.read_text())["objects"]]
    return keys


def test_backfill_of_an_hour_leaves_every_table_unchanged(tmp_path):
    lake, logs = fill_landing(tmp_path)
    floe(tmp_path, "run", "--once", "--max-objects", "3")
    check_processed(lake, logs)
    before = snapshot(lake)
    # quarantine/customers may be empty: the CSV conversion keeps most
    # malformed customer lines loadable
    assert all(n > 0 for t, (n, _) in before.items()
               if t != "quarantine/customers"), sorted(before.items())
    first = runs(tmp_path)
    # the hour the first landing key carries (Firehose names objects by
    # arrival time, so all of them are in this hour or the next)
    key = sorted(landing_identities(lake))[0]
    stamp = key.rsplit("/", 1)[1].split("-")[2:6]  # YYYY MM DD HH
    hour = datetime(*map(int, stamp), tzinfo=timezone.utc)
    span = [hour.strftime("%Y-%m-%dT%H"),
            (hour + timedelta(hours=1)).strftime("%Y-%m-%dT%H")]
    dry = json.loads(floe(tmp_path, "backfill", "--from", span[0], "--to",
                          span[1], "--dry-run", "--json").stdout)
    assert dry["pending"] > 0 and dry["batches"] == 0
    out = json.loads(floe(tmp_path, "backfill", "--from", span[0], "--to",
                          span[1], "--json").stdout)
    assert out["objects"] == dry["pending"] and out["failed"] == 0
    assert out["batches"] >= 1
    assert out["counts"]["raw_orders"] > 0  # really re-read
    assert out["counts"]["new_orders"] == 0
    assert snapshot(lake) == before
    check_processed(lake, logs)
    after = runs(tmp_path)
    assert len(after) == len(first) + out["batches"]
    assert all(b["state"] == "done" for b in after)
    # twice over: still nothing doubled
    floe(tmp_path, "backfill", "--from", span[0], "--to", span[1])
    assert snapshot(lake) == before


def test_two_concurrent_runs_never_take_an_object_twice(tmp_path):
    lake, logs = fill_landing(tmp_path, orders=100, customers=20, rounds=3)
    n = len(list((lake / "landing").rglob("*.gz")))
    assert n >= 4, n
    args = [FLOE, "run", "--once", "--max-objects", "1", "--lake",
            str(lake), "--state-dir", str(tmp_path / "state")]
    procs = [Proc(args, tmp_path / f"run{i}.log") for i in range(2)]
    for p in procs:
        assert p.p.wait(timeout=300) == 0, p.output()
        p.stop()
    keys = landing_identities(lake)
    assert len(keys) == len(set(keys)) == n
    check_processed(lake, logs)
    assert all(b["state"] == "done" for b in runs(tmp_path))


def running_attempts(state):
    db = state / "orchestrator.db"
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True,
                             timeout=1) as c:
            return c.execute("SELECT count(*) FROM task_runs WHERE "
                             "state = 'running' AND task != 'claim'"
                             ).fetchone()[0]
    except sqlite3.OperationalError:
        return 0  # not created yet


def test_run_killed_mid_task_resumes_exactly(tmp_path):
    lake, logs = fill_landing(tmp_path, orders=100, customers=20, rounds=3)
    state = tmp_path / "state"
    args = [FLOE, "run", "--once", "--max-objects", "1", "--lake",
            str(lake), "--state-dir", str(state)]
    run = Proc(args, tmp_path / "run1.log")
    wait_for(lambda: running_attempts(state) > 0 or run.p.poll() is not None,
             interval=0.002, what="a task under way")
    run.p.send_signal(signal.SIGKILL)
    run.p.wait()
    run.stop()
    assert run.p.returncode == -signal.SIGKILL, run.output()
    assert running_attempts(state) == 1  # killed in the middle of it
    floe(tmp_path, "run", "--once")
    check_processed(lake, logs)
    history = runs(tmp_path)
    assert all(b["state"] == "done" for b in history)
    # the killed attempt is closed as failed, and its batch finished
    assert sum(b["failed_attempts"] for b in history) == 1
    assert not list((lake / "landing").rglob("*.gz"))
