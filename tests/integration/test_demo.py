"""End to end: `floe demo` on a small data set, then the processed zone is
read back with pyarrow (an independent reader) and compared with what was
emitted, value by value (truth.py)."""
import json
import re
import subprocess

import pyarrow.parquet as pq

from conftest import FLOE
from truth import check_processed, read_truth


def test_demo_reconciles_and_parquet_matches_emitted(tmp_path):
    out = subprocess.run([FLOE, "demo", "--orders", "3000", "--customers",
                          "400", "--seed", "7", "--dir", str(tmp_path),
                          "--json"], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    for key in ("emitted_valid", "emitted_invalid", "duplicates_emitted",
                "landed_records", "processed_orders", "processed_customers",
                "quarantined", "lost", "doubled", "seconds"):
        assert key in summary, key
    assert summary["lost"] == 0 and summary["doubled"] == 0

    truth = read_truth(tmp_path / "logs" / "emit-truth.tsv")
    assert summary["landed_records"] == len(truth)
    got = check_processed(tmp_path / "lake", tmp_path / "logs")
    assert got["orders"] == 3000 == summary["processed_orders"]
    assert got["quarantined"] == summary["quarantined"]


def test_aggregated_records_split_back_into_lines(tmp_path):
    """aggregatedRecordSizeBytes: the agent packs whole lines into Firehose
    records of up to 5,000 bytes; the DAG splits them back into lines, so
    every table has exactly the rows of the unaggregated run."""
    out = subprocess.run([FLOE, "demo", "--orders", "3000", "--customers",
                          "400", "--seed", "7", "--dir", str(tmp_path),
                          "--aggregate", "5000", "--json"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    truth = read_truth(tmp_path / "logs" / "emit-truth.tsv")
    assert summary["lost"] == 0 and summary["doubled"] == 0
    assert summary["landed_records"] == len(truth)  # lines, once unpacked
    assert summary["processed_orders"] == 3000
    assert summary["processed_customers_latest"] == 400
    assert summary["quarantined"] == sum(1 for _, _, s in truth
                                         if s == "invalid")
    # The agent really packed them: far fewer Firehose records than lines.
    log = (tmp_path / "state" / "agent.log").read_text()
    progress = re.findall(r"Agent: Progress: (\d+) records parsed .*? and "
                          r"(\d+) records sent", log)
    parsed, sent = map(int, progress[-1])
    assert parsed == len(truth)
    assert 0 < sent * 10 < parsed, (parsed, sent)

    # `floe reconcile` gives the same figures on the finished lake, and
    # fails when a processed file is repeated (doubled) or removed (lost).
    def reconcile():
        r = subprocess.run([FLOE, "reconcile", "--truth",
                            str(tmp_path / "logs" / "emit-truth.tsv"),
                            "--lake", str(tmp_path / "lake"), "--json"],
                           capture_output=True, text=True, timeout=120)
        return r.returncode, json.loads(r.stdout), r.stderr

    rc, rec, err = reconcile()
    assert rc == 0, err
    for key in ("emitted_valid", "processed_orders", "quarantined", "lost",
                "doubled", "unexpected"):
        assert rec[key] == summary[key], key
    assert rec["pending_records"] == 0 and rec["pending_objects"] == 0
    # every table is checked by its key: a repeated file doubles, a removed
    # one loses, whichever table it belongs to
    for name in ("orders", "orders_enriched", "customers"):
        parts = sorted((tmp_path / "lake" / "processed" / name).rglob(
            "*.parquet"))
        rows = pq.read_metadata(parts[0]).num_rows
        assert rows > 0
        copy = parts[0].with_name("copy-" + parts[0].name)
        copy.write_bytes(parts[0].read_bytes())
        rc, rec, err = reconcile()
        assert rc == 1 and rec["doubled"] == rows and rec["lost"] == 0, name
        assert "FAILED" in err
        saved = parts[0].read_bytes()
        copy.unlink()
        parts[0].unlink()
        rc, rec, err = reconcile()
        assert rc == 1 and rec["lost"] == rows and rec["doubled"] == 0, name
        parts[0].write_bytes(saved)
    assert reconcile()[0] == 0
