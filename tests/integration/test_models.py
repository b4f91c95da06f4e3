"""Models are data: a third stream (payments) added to a copy of the
default models folder by files alone flows from `floe agent` through
`floe firehose` and the DAG into processed Parquet, with exact rows; a
stream without models is reported by name and left in landing/."""
import json
import pathlib
import shutil
import subprocess

import pyarrow.parquet as pq

from agentlib import flow, landed, make_stream, run_agent, write_agent_json
from conftest import FLOE, ROOT, wait_for

HERE = pathlib.Path(__file__).resolve().parent

P1 = {"payment_id": "P1", "order_id": "O1", "amount": "12.50",
      "currency": "EUR", "ts": "2026-11-24T10:00:00Z"}
P2 = {"payment_id": "P2", "order_id": "O2", "amount": 3,
      "currency": "USD", "ts": "2026-11-24T23:59:59.5Z"}
P3 = {"payment_id": "P3", "order_id": "O3", "amount": "0.99",
      "currency": "EUR", "ts": "2026-11-25T00:00:01Z"}
LINES = [json.dumps(P1), json.dumps(P2), "{not json",
         json.dumps(dict(P3, amount="-1")), json.dumps(P1),  # duplicate
         json.dumps(P3)]


def run(*args, models=None):
    cmd = [FLOE, "run", "--once", "--json", *args]
    if models is not None:
        cmd += ["--models", str(models)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout), r.stderr


def models_with_payments(tmp_path):
    """The default models plus the payments files: what a user does."""
    models = tmp_path / "models"
    shutil.copytree(ROOT / "models", models)
    for f in (HERE / "models" / "payments").iterdir():
        shutil.copy(f, models / f.name)
    return models


def snapshot(root):
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*.parquet"))}


def test_third_stream_from_model_files(tmp_path, firehose):
    log = tmp_path / "payments.log"
    log.write_text("".join(line + "\n" for line in LINES))
    make_stream(firehose, "payments", interval=1)
    cfg = tmp_path / "agent.json"
    write_agent_json(cfg, firehose.endpoint, tmp_path / "ckpt",
                     [flow(log, "payments")])
    r = run_agent(cfg)
    assert r.returncode == 0, r.stderr
    wait_for(lambda: landed(firehose, "payments").count(b"\n")
             == len(LINES), what="every payments line in landing/")
    lake, state = firehose.lake.root, tmp_path / "state"
    common = ["--lake", str(lake), "--state-dir", str(state)]

    # The default models know no payments: reported, never claimed.
    out, err = run(*common)
    assert out["unknown"] >= 1 and out["unknown_streams"] == "payments", out
    assert out["objects"] == 0, out
    assert "no model declares the stream 'payments'" in err
    assert firehose.lake.keys("landing/payments/")

    models = models_with_payments(tmp_path)
    out, err = run(*common, models=models)
    assert out["unknown"] == 0 and out["batches"] == 1, (out, err)
    c = out["counts"]
    assert (c["raw_other"], c["new_other"], c["duplicate_other"],
            c["quarantined_other"]) == (6, 3, 1, 2), c
    assert not firehose.lake.keys("landing/payments/")

    processed = lake / "processed"
    days = sorted(p.name for p in (processed / "payments").iterdir())
    assert days == ["dt=2026-11-24", "dt=2026-11-25"]
    t = pq.read_table(processed / "payments").sort_by("payment_id")
    assert t.column_names == ["payment_id", "order_id", "amount",
                              "currency", "ts", "dt"]
    rows = [(r["payment_id"], r["order_id"], str(r["amount"]),
             r["currency"], r["ts"].isoformat(), str(r["dt"]))
            for r in t.to_pylist()]
    assert rows == [
        ("P1", "O1", "12.50", "EUR", "2026-11-24T10:00:00", "2026-11-24"),
        ("P2", "O2", "3.00", "USD", "2026-11-24T23:59:59.500000",
         "2026-11-24"),
        ("P3", "O3", "0.99", "EUR", "2026-11-25T00:00:01", "2026-11-25")]
    q = pq.read_table(processed / "quarantine/payments").to_pylist()
    assert [(r["line_no"], r["reason"]) for r in q] == [
        (3, "invalid JSON"), (4, "invalid amount")], q
    assert q[0]["raw"] == "{not json"

    # Every task again for the same batch: nothing changes.
    before = snapshot(processed)
    batch = q[0]["batch_id"]
    for task in ("load", "transform", "unload"):
        r = subprocess.run([FLOE, "task", task, "--batch", batch, "--force",
                            "--models", str(models), *common],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
    assert snapshot(processed) == before


def test_bad_declaration_is_refused_with_its_file(tmp_path):
    models = models_with_payments(tmp_path)
    (models / "payments.table.yaml").write_text(
        "table: payments\nlayout: weekly\nselect: SELECT 1\n")
    r = subprocess.run([FLOE, "run", "--once", "--models", str(models),
                        "--lake", str(tmp_path / "lake"), "--state-dir",
                        str(tmp_path / "state")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert "payments.table.yaml: layout must be" in r.stderr, r.stderr


def test_config_check_reads_the_models_folder(tmp_path):
    models = models_with_payments(tmp_path)
    (models / "again.stream.yaml").write_text(
        "stream: payments\nstaged: _stg_x\nnew: core.x\n")
    cfg = tmp_path / "floe.yaml"
    cfg.write_text(f"run:\n  models: {models}\n")
    r = subprocess.run([FLOE, "config", "--check", str(cfg)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2, r.stderr
    assert "run.models: payments.stream.yaml: stream 'payments' is " \
           "declared twice" in r.stderr, r.stderr
    (models / "again.stream.yaml").unlink()
    r = subprocess.run([FLOE, "config", "--check", str(cfg)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
