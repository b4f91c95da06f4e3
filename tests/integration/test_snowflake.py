"""The Snowflake engine (ADBC driver, dlopened) against fakesnow, a
Snowflake emulator serving the connector protocol: the same batch gives
the same processed zone as DuckDB (layout, Parquet schema, every row),
re-running a batch changes no file, and `floe demo --engine snowflake`
reconciles. fakesnow cannot unload (COPY INTO @stage), so these runs use
--snowflake-emulator: each production statement it cannot run (COPY INTO
@stage, and the COPY with METADATA$FILE_ROW_NUMBER that numbers lines) is
logged as not run (checked here, so the gap stays visible), the rows come
through Arrow instead and lines are numbered in scan order."""
import csv
import gzip
import hashlib
import io
import json
import os
import pathlib
import re
import shutil
import socket
import subprocess

import pyarrow.parquet as pq
import pytest

from conftest import FLOE, ROOT, Proc, free_port, wait_for

SECRET = "fakesnow-pw-7c1e"


def fakesnow_bin():
    req = ROOT / "tests" / "requirements-snowflake.txt"
    digest = hashlib.sha256(req.read_bytes()).hexdigest()[:16]
    exe = ROOT / ".deps" / f"fakesnow-venv-{digest}" / "bin" / "fakesnow"
    assert exe.exists(), f"{exe} missing: run scripts/bootstrap --test"
    return exe


def port_open(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def fakesnow(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fakesnow")
    port = free_port()
    proc = Proc([str(fakesnow_bin()), "-s", "-p", str(port)],
                tmp / "fakesnow.log")
    try:
        wait_for(lambda: port_open(port) or proc.p.poll() is not None,
                 timeout=60, what="fakesnow listening")
        assert proc.p.poll() is None, proc.output()
        yield port
    finally:
        proc.stop()


def sf_env(port, database):
    """floe run/task/demo aimed at fakesnow, one database per test."""
    env = dict(os.environ)
    for cmd in ("RUN", "TASK"):
        env.update({
            f"FLOE_{cmd}_SNOWFLAKE_ACCOUNT": "floetest",
            f"FLOE_{cmd}_SNOWFLAKE_USER": "floe",
            f"FLOE_{cmd}_SNOWFLAKE_PASSWORD": SECRET,
            f"FLOE_{cmd}_SNOWFLAKE_HOST": "127.0.0.1",
            f"FLOE_{cmd}_SNOWFLAKE_PORT": str(port),
            f"FLOE_{cmd}_SNOWFLAKE_PROTOCOL": "http",
            f"FLOE_{cmd}_SNOWFLAKE_DATABASE": database,
            f"FLOE_{cmd}_SNOWFLAKE_EMULATOR": "true"})
    return env


def make_landing(tmp, lake):
    """A landing zone as Firehose leaves it: orders and customers (from
    floe emit, with its malformed lines and duplicates) as gzip objects,
    customers as the JSON the agent's CSVTOJSON makes."""
    logs = tmp / "logs"
    subprocess.run([FLOE, "emit", "--dir", str(logs), "--orders", "600",
                    "--customers", "120", "--seed", "7"], check=True,
                   capture_output=True, timeout=60)
    orders = (logs / "orders.log").read_bytes()
    rows = csv.reader(io.StringIO((logs / "customers.log").read_text()))
    header = ["customer_id", "name", "email", "country", "segment",
              "created_at", "updated_at"]
    customers = "".join(json.dumps(dict(zip(header, r))) + "\n"
                        for r in rows if len(r) == len(header))
    for stream, data in (("orders", orders),
                         ("customers", customers.encode())):
        d = lake / "landing" / stream / "2026/11/24/10"
        d.mkdir(parents=True)
        half = data.index(b"\n", len(data) // 2) + 1
        for i, part in enumerate((data[:half], data[half:])):
            (d / f"{stream}-1-2026-11-24-10-00-0{i}-x{i}.gz").write_bytes(
                gzip.compress(part))


def run(lake, state, *args, env=None):
    r = subprocess.run([FLOE, "run", "--once", "--json", "--lake", str(lake),
                        "--state-dir", str(state), "--retries", "0", *args],
                       capture_output=True, text=True, timeout=180, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout), r.stderr


def files(root):
    return {re.sub(r"part-.*\.parquet$", "part-B.parquet",
                   p.relative_to(root).as_posix()): p
            for p in sorted(root.rglob("*.parquet"))}


def rows(table):
    drop = [c for c in ("batch_id", "source_key") if c in table.column_names]
    return sorted(map(repr, table.drop(drop).to_pylist()))


@pytest.mark.parametrize("with_payments", [False, True],
                         ids=["default-models", "plus-payments"])
def test_engines_agree_and_reruns_change_nothing(tmp_path, fakesnow,
                                                 with_payments):
    """The same batch on both engines; with_payments adds a third stream
    (tests/integration/models/payments, a .snowflake.sql beside each SQL
    file) to a copy of the default models."""
    base = tmp_path / "base"
    make_landing(tmp_path, base)
    models = []
    if with_payments:
        from test_models import LINES, models_with_payments
        models = ["--models", str(models_with_payments(tmp_path))]
        d = base / "landing/payments/2026/11/24/10"
        d.mkdir(parents=True)
        (d / "payments-1-2026-11-24-10-00-00-p.gz").write_bytes(
            gzip.compress("".join(x + "\n" for x in LINES).encode()))
    duck_lake, sf_lake = tmp_path / "duck", tmp_path / "sf"
    shutil.copytree(base, duck_lake)
    shutil.copytree(base, sf_lake)
    duck, _ = run(duck_lake, tmp_path / "duck-state", *models)
    env = sf_env(fakesnow, "AGREE%d" % with_payments)
    sf, log = run(sf_lake, tmp_path / "sf-state", "--engine", "snowflake",
                  *models, env=env)
    assert sf["batches"] == 1 and sf["failed"] == 0, sf
    assert sf["counts"] == duck["counts"], (sf["counts"], duck["counts"])
    assert sf["counts"]["quarantined_orders"] > 0  # the faults are there
    assert sf["counts"]["duplicate_orders"] > 0
    if with_payments:
        assert sf["counts"]["new_other"] == 3, sf["counts"]

    # Same files, same Parquet schema, same rows, table by table.
    d, s = files(duck_lake / "processed"), files(sf_lake / "processed")
    assert sorted(d) == sorted(s)
    assert any("/dt=" in k for k in d)
    assert any(k.startswith("payments/") for k in d) == with_payments
    for key in d:
        td, ts = pq.read_table(d[key]), pq.read_table(s[key])
        assert td.schema.remove_metadata() == ts.schema.remove_metadata(), key
        assert rows(td) == rows(ts), key

    # What real Snowflake would run, and that it did not run here.
    batch = re.search(r"part-(.*)\.parquet", str(next(iter(s.values()))))[1]
    assert ("not run (snowflake-emulator: an emulator cannot unload): "
            "COPY INTO @raw.floe_lake/processed/orders/dt=2026-11-24/"
            f"part-{batch}.parquet FROM (SELECT * EXCLUDE (dt) FROM ("
            in log), log[-2000:]
    assert "FILE_FORMAT = (TYPE = PARQUET) SINGLE = TRUE" in log
    assert ("not run (snowflake-emulator: no COPY transformations): COPY "
            "INTO raw.orders (batch_id, source_key, line_no, line, "
            "valid_utf8) FROM (SELECT " in log)
    assert "METADATA$FILE_ROW_NUMBER, $1, TRUE FROM @raw.floe_lake/" in log
    assert "COPY INTO raw._floe_lines (line) FROM @raw.floe_lake/" in log
    assert SECRET not in log

    # The DAG's tasks again for the same batch: no file changes.
    before = {k: p.read_bytes() for k, p in s.items()}
    for task in ("load", "transform", "unload"):
        r = subprocess.run([FLOE, "task", task, "--batch", batch, "--force",
                            "--engine", "snowflake", *models,
                            "--lake", str(sf_lake),
                            "--state-dir", str(tmp_path / "sf-state")],
                           capture_output=True, text=True, timeout=180,
                           env=env)
        assert r.returncode == 0, r.stderr[-3000:]
    after = files(sf_lake / "processed")
    assert sorted(after) == sorted(before)
    assert all(after[k].read_bytes() == before[k] for k in before)


def test_demo_on_snowflake_reconciles(tmp_path, fakesnow):
    r = subprocess.run([FLOE, "demo", "--engine", "snowflake", "--orders",
                        "800", "--customers", "150", "--dir",
                        str(tmp_path / "demo"), "--json"],
                       capture_output=True, text=True, timeout=300,
                       env=sf_env(fakesnow, "DEMO"))
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout)
    assert out["lost"] == 0 and out["doubled"] == 0, out
    assert out["processed_orders"] == 800, out
    logs = "".join(p.read_text() for p in
                   (tmp_path / "demo" / "state").glob("*.log"))
    assert "warehouse.snowflake" in logs and SECRET not in logs


def test_missing_credentials_are_refused(tmp_path):
    (tmp_path / "lake" / "landing" / "orders" / "x").mkdir(parents=True)
    (tmp_path / "lake" / "landing" / "orders" / "x" / "o.gz").write_bytes(
        gzip.compress(b"{}\n"))
    r = subprocess.run([FLOE, "run", "--once", "--engine", "snowflake",
                        "--retries", "0", "--lake", str(tmp_path / "lake"),
                        "--state-dir", str(tmp_path / "state")],
                       capture_output=True, text=True, timeout=60,
                       env={k: v for k, v in os.environ.items()
                            if "SNOWFLAKE" not in k})
    assert r.returncode != 0
    assert "snowflake-account and snowflake-user are required" in r.stderr
