"""End to end: `floe demo` on a small data set, then the processed zone is
read back with pyarrow (an independent reader) and compared with what was
emitted, value by value."""
import csv
import json
import pathlib
import re
import subprocess
from datetime import datetime, timezone

import pyarrow.dataset as ds
import pyarrow.parquet as pq

from conftest import FLOE


def parse_ts(text):
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=timezone.utc)


def as_utc(value):
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def read_truth(path):
    rows = [line.rstrip("\n").split("\t") for line in open(path)]
    return rows


def table(lake, name):
    root = lake / "processed" / name
    assert list(root.rglob("*.parquet")), f"no parquet under {root}"
    return ds.dataset(str(root), format="parquet",
                      partitioning="hive").to_table()


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
    valid_orders = {i for k, i, s in truth if k == "order" and s == "valid"}
    valid_versions = {i for k, i, s in truth
                      if k == "customer" and s == "valid"}
    invalid = sum(1 for _, _, s in truth if s == "invalid")
    dups = sum(1 for _, _, s in truth if s == "duplicate")
    assert len(valid_orders) == 3000
    assert dups > 0 and invalid > 0, "the generator must inject faults"
    assert summary["landed_records"] == len(truth)

    lake = tmp_path / "lake"
    orders = table(lake, "orders")
    ids = orders.column("event_id").to_pylist()
    assert len(ids) == len(valid_orders) == summary["processed_orders"]
    assert set(ids) == valid_orders

    # exact values of a few emitted events, parsed here independently
    emitted = {}
    for line in open(tmp_path / "logs" / "orders.log", encoding="utf-8"):
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict) and rec.get("event_id") in valid_orders:
            emitted.setdefault(rec["event_id"], rec)
    rows = {r["event_id"]: r for r in orders.to_pylist()}
    for event_id in sorted(emitted)[:25]:
        want, got = emitted[event_id], rows[event_id]
        assert got["order_id"] == want["order_id"]
        assert got["customer_id"] == want["customer_id"]
        assert got["status"] == want["status"]
        assert got["currency"] == want["currency"]
        assert abs(float(got["total"]) - want["total"]) < 0.005
        assert as_utc(got["ts"]) == parse_ts(want["ts"])
        assert str(got["dt"]) == want["ts"][:10]  # hive partition = UTC day

    versions = table(lake, "customer_versions")
    assert versions.num_rows == len(valid_versions)
    customers = pq.read_table(lake / "processed" / "customers" /
                              "customers.parquet").to_pylist()
    latest = {}
    with open(tmp_path / "logs" / "customers.log", newline="",
              encoding="utf-8") as f:
        for row in csv.reader(f):
            if len(row) != 7 or not row[0]:
                continue
            key = f"{row[0]}|{row[6]}"
            if key not in valid_versions:
                continue
            if row[0] not in latest or parse_ts(row[6]) > parse_ts(
                    latest[row[0]][6]):
                latest[row[0]] = row
    assert len(customers) == len(latest)
    by_id = {c["customer_id"]: c for c in customers}
    for cid in sorted(latest)[:25]:
        want, got = latest[cid], by_id[cid]
        assert got["name"] == want[1] and got["email"] == want[2]
        assert as_utc(got["updated_at"]) == parse_ts(want[6])

    quarantine = table(lake, "quarantine")
    assert quarantine.num_rows == invalid == summary["quarantined"]
    assert all(r for r in quarantine.column("reason").to_pylist())


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
