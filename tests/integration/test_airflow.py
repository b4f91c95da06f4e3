"""The Airflow DAG (airflow/dags/floe_pipeline.py) run by real Apache
Airflow: the pinned version from airflow/requirements.lock, in its own
environment (scripts/bootstrap --airflow), `airflow dags test` with a
SQLite metadata database, no scheduler or API server.

Marked `airflow`: run alone with `pytest -m airflow tests/integration`
(or `make test-airflow`); FLOE_AIRFLOW_VENV names an existing environment
instead of the bootstrapped one."""
import json
import os
import pathlib
import subprocess

import pytest

from agentlib import fill_landing
from conftest import FLOE, ROOT
from truth import check_processed

pytestmark = pytest.mark.airflow
DAGS = ROOT / "airflow" / "dags"


@pytest.fixture(scope="module")
def airflow(tmp_path_factory):
    """Run `airflow ...` against a fresh AIRFLOW_HOME (migrated once)."""
    venv = os.environ.get("FLOE_AIRFLOW_VENV")
    if not venv:
        r = subprocess.run([str(ROOT / "scripts" / "bootstrap"),
                            "--airflow"], capture_output=True, text=True,
                           timeout=900)
        assert r.returncode == 0, r.stderr
        venv = r.stdout.strip().splitlines()[-1]
    home = tmp_path_factory.mktemp("airflow-home")
    base = dict(os.environ,
                AIRFLOW_HOME=str(home),
                AIRFLOW__CORE__LOAD_EXAMPLES="False",
                AIRFLOW__CORE__DAGS_FOLDER=str(DAGS),
                AIRFLOW__CORE__UNIT_TEST_MODE="False",
                PATH=f"{venv}/bin:{os.environ['PATH']}")
    for k in [k for k in base if k.startswith("FLOE_")]:
        del base[k]  # only what a test passes reaches the DAG

    def run(*args, env=None, timeout=300):
        r = subprocess.run([f"{venv}/bin/airflow", *args],
                           capture_output=True, text=True, cwd=home,
                           env=dict(base, **(env or {})), timeout=timeout)
        return r

    r = run("db", "migrate")
    assert r.returncode == 0, r.stdout + r.stderr
    run.venv = venv
    run.env = base
    return run


def dag_env(tmp_path, floe=FLOE, **extra):
    env = {"FLOE_BIN": str(floe), "FLOE_LAKE": str(tmp_path / "lake"),
           "FLOE_STATE_DIR": str(tmp_path / "state"),
           "FLOE_SCHEDULE": "none", "FLOE_RETRY_DELAY": "1"}
    env.update(extra)
    return env


def floe_json(*args):
    r = subprocess.run([FLOE, *args, "--json"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def last_line(text):
    return text.strip().splitlines()[-1] if text.strip() else ""


def test_dag_imports_cleanly(airflow, tmp_path):
    # One pass of the real DAG processor records import errors (if any)
    # in the metadata database, where list-import-errors reads them.
    r = airflow("dag-processor", "--num-runs", "1", env=dag_env(tmp_path))
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    r = airflow("dags", "list-import-errors", "--output", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(last_line(r.stdout)) == [], r.stdout
    r = airflow("dags", "list", "--output", "json")
    assert r.returncode == 0, r.stderr
    assert "floe_pipeline" in [d["dag_id"] for d in
                               json.loads(last_line(r.stdout))], r.stdout
    # Airflow's own DAG-bag check, in its environment
    code = ("from airflow.dag_processing.dagbag import DagBag\n"
            f"b = DagBag({str(DAGS)!r})\n"
            "assert not b.import_errors, b.import_errors\n"
            "d = b.get_dag('floe_pipeline')\n"
            "print(d.max_active_runs, sorted(t.task_id for t in d.tasks),"
            " sorted(d.get_task('load').upstream_task_ids))\n")
    r = subprocess.run([f"{airflow.venv}/bin/python", "-c", code],
                       capture_output=True, text=True, timeout=120,
                       env=dict(airflow.env, **dag_env(tmp_path)))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == (
        "1 ['claim', 'finalize', 'load', 'sense', 'transform', 'unload'] "
        "['claim']")


def test_dag_processes_landing_like_the_builtin_scheduler(airflow,
                                                          tmp_path):
    lake, logs = fill_landing(tmp_path)
    r = airflow("dags", "test", "floe_pipeline", env=dag_env(tmp_path))
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    check_processed(lake, logs)  # lost = 0, doubled = 0, values match
    batches = floe_json("runs", "--state-dir", str(tmp_path / "state"))
    assert len(batches) == 1 and batches[0]["state"] == "done", batches
    assert batches[0]["batch_id"].startswith("af-manual__")
    assert batches[0]["failed_attempts"] == 0
    assert not list((lake / "landing").rglob("*.gz")), "all claimed"


FLAKY = """#!/bin/sh
# The real floe, but processed/orders is a file (so unload cannot write
# there) until the third unload: two real failures, then success.
if [ "$2" = unload ]; then
    n=$(($(cat "{count}" 2>/dev/null || echo 0) + 1))
    echo "$n" > "{count}"
    [ "$n" -ge 3 ] && rm -f "{blocker}"
fi
exec "{floe}" "$@"
"""


def test_task_failing_twice_succeeds_on_third_try(airflow, tmp_path):
    lake, logs = fill_landing(tmp_path, orders=50, customers=20)
    blocker = lake / "processed" / "orders"
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("not a directory")
    flaky = tmp_path / "floe-flaky"
    flaky.write_text(FLAKY.format(count=tmp_path / "unloads",
                                  blocker=blocker, floe=FLOE))
    flaky.chmod(0o755)
    r = airflow("dags", "test", "floe_pipeline",
                env=dag_env(tmp_path, floe=flaky, FLOE_RETRIES="2"))
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    assert (tmp_path / "unloads").read_text().strip() == "3"
    check_processed(lake, logs)
    [batch] = floe_json("runs", "--state-dir", str(tmp_path / "state"))
    assert batch["state"] == "done"
    assert batch["failed_attempts"] == 2
    assert batch["attempts"] == 7  # claim..finalize once, unload 3 times
    assert batch["records"]["raw_orders"] > 0
    runs = floe_json("runs", "--state-dir", str(tmp_path / "state"),
                     "--batch", batch["batch_id"])
    unloads = [(a["attempt"], a["state"]) for a in runs["attempts"]
               if a["task"] == "unload"]
    assert unloads == [(1, "failed"), (2, "failed"), (3, "success")]
    assert "processed/orders" in [a["error"] for a in runs["attempts"]
                                  if a["task"] == "unload"][0]
