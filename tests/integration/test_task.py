"""`floe task` as Airflow calls it: exit codes (0 done, 1 failed, 3
nothing pending), --json with the batch id and counts, and a named batch
whose retried claim finishes that batch instead of making another."""
import gzip
import json
import subprocess

from conftest import FLOE
from test_run import ORDER


def task(tmp_path, *args):
    return subprocess.run([FLOE, "task", *args, "--lake",
                           str(tmp_path / "lake"), "--state-dir",
                           str(tmp_path / "state")],
                          capture_output=True, text=True, timeout=120)


def land(tmp_path, name="orders-1-2026-11-24-19-56-00-x.gz", data=ORDER):
    d = tmp_path / "lake/landing/orders/2026/11/24/19"
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(gzip.compress(data))


def batches(tmp_path):
    r = task(tmp_path, "list", "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_nothing_pending_exits_3_and_makes_no_batch(tmp_path):
    (tmp_path / "lake").mkdir()
    assert task(tmp_path, "sense").returncode == 3
    r = task(tmp_path, "claim", "--batch", "af-run-1")
    assert r.returncode == 3 and r.stdout == "", (r.stdout, r.stderr)
    assert task(tmp_path, "claim", "--empty-exit", "0").returncode == 0
    assert batches(tmp_path) == []


def test_named_claim_retried_finishes_the_same_batch(tmp_path):
    land(tmp_path)
    r = task(tmp_path, "claim", "--batch", "af-run-1")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "af-run-1\n"  # the one line XCom takes
    land(tmp_path, "orders-1-2026-11-24-19-57-00-y.gz")  # lands later
    r = task(tmp_path, "claim", "--batch", "af-run-1", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["task"] == "claim" and out["batch"] == "af-run-1"
    assert out["skipped"] == 1
    [b] = batches(tmp_path)
    assert (b["batch_id"], b["objects"]) == ("af-run-1", 1)
    for name in ("load", "transform", "unload", "finalize"):
        r = task(tmp_path, name, "--batch", "af-run-1", "--json")
        assert r.returncode == 0, r.stderr
        out = json.loads(r.stdout)
        assert out["task"] == name and out["batch"] == "af-run-1"
        if name == "load":
            assert out["counts"]["raw_orders"] == 1
    # the later object goes to the next run's batch, not this one
    r = task(tmp_path, "claim", "--batch", "af-run-2")
    assert r.returncode == 0 and r.stdout == "af-run-2\n", r.stderr
    assert [b["objects"] for b in batches(tmp_path)] == [1, 1]


def test_failed_task_exits_1_with_its_error_in_json(tmp_path):
    land(tmp_path)
    (tmp_path / "lake/processed").mkdir(parents=True)
    (tmp_path / "lake/processed/orders").write_text("not a directory")
    for name in ("claim", "load", "transform"):
        assert task(tmp_path, name, "--batch", "b1").returncode == 0
    r = task(tmp_path, "unload", "--batch", "b1", "--json", "--retries",
             "0")
    assert r.returncode == 1
    out = json.loads(r.stdout)
    assert out["failed_task"] == "unload" and out["batch"] == "b1"
    assert "processed/orders" in out["error"]
    assert task(tmp_path, "finalize", "--batch", "b1").returncode == 2


def test_processes_opening_a_new_state_database_at_once(tmp_path):
    """Airflow tasks or two `floe run` may create the state database at
    the same moment; SQLite can answer "database is locked" at once there
    (deadlock avoidance, no busy wait): each process must wait its turn,
    never fail. 100 rounds of 8 processes on a fresh state dir."""
    (tmp_path / "lake" / "landing").mkdir(parents=True)
    for r in range(100):
        procs = [subprocess.Popen(
            [FLOE, "task", "list", "--lake", str(tmp_path / "lake"),
             "--state-dir", str(tmp_path / f"state{r}")],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            for _ in range(8)]
        for p in procs:
            _, err = p.communicate(timeout=60)
            assert p.returncode == 0, f"round {r}: {err}"
