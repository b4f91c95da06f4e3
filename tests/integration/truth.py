"""Check a processed zone against what `floe emit` wrote, value by value:
the Parquet tables are read with pyarrow (an independent reader) and
compared with the emitted logs and their truth file. Used by every test
that runs the whole DAG (built-in scheduler, Airflow)."""
import csv
import json
from datetime import datetime, timezone

import pyarrow.dataset as ds
import pyarrow.parquet as pq


def parse_ts(text):
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=timezone.utc)


def as_utc(value):
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def read_truth(path):
    return [line.rstrip("\n").split("\t") for line in open(path)]


def table(lake, name):
    root = lake / "processed" / name
    assert list(root.rglob("*.parquet")), f"no parquet under {root}"
    return ds.dataset(str(root), format="parquet",
                      partitioning="hive").to_table()


def check_processed(lake, logs):
    """Assert lost = 0 and doubled = 0 between logs/ (customers.log,
    orders.log, emit-truth.tsv) and lake/processed/; returns the counts
    {"orders", "customer_versions", "customers", "quarantined"}."""
    truth = read_truth(logs / "emit-truth.tsv")
    valid_orders = {i for k, i, s in truth if k == "order" and s == "valid"}
    valid_versions = {i for k, i, s in truth
                      if k == "customer" and s == "valid"}
    invalid = sum(1 for _, _, s in truth if s == "invalid")
    dups = sum(1 for _, _, s in truth if s == "duplicate")
    assert dups > 0 and invalid > 0, "the generator must inject faults"

    orders = table(lake, "orders")
    ids = orders.column("event_id").to_pylist()
    assert len(ids) == len(set(ids)), "doubled orders"
    assert set(ids) == valid_orders, "lost or unexpected orders"

    # exact values of a few emitted events, parsed here independently
    emitted = {}
    for line in open(logs / "orders.log", encoding="utf-8"):
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
    with open(logs / "customers.log", newline="", encoding="utf-8") as f:
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
    assert quarantine.num_rows == invalid
    assert all(r for r in quarantine.column("reason").to_pylist())
    return {"orders": len(ids), "customer_versions": versions.num_rows,
            "customers": len(customers), "quarantined": quarantine.num_rows}
