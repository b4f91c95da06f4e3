#!/usr/bin/env python3
"""Chaos: the whole pipeline under kill -9, reconciled by record id.

`floe emit --rate` writes customers.log and orders.log live (with its
faults: malformed lines, duplicate events, late events, updates) while
`floe firehose`, `floe agent` (tailing both files) and `floe run
--schedule 1s` carry them to the processed zone. A schedule drawn from
random.Random(seed) kill -9s each of the three parts at random moments and
restarts it after a short random pause (same port, state, checkpoint and
lake). Once the writer is done and every scheduled kill happened, the
pipeline drains calmly: the agent runs to EOF (--exit-at-eof), the
firehose gets SIGTERM (it flushes), the DAG runs --once until landing/ is
empty; then `floe reconcile` checks every valid emitted record id against
the processed tables. Exit 0 only with lost = 0, doubled = 0, unexpected =
0 and no part exiting on its own.

Duplicates at the firehose level are expected after kills (the agent
resends what was in flight; a replayed write-ahead log entry may land
twice): the DAG must remove them. A part that dies by itself, a drain that
does not finish, or a record lost or doubled is a bug: the seed, the
schedule (schedule.log) and every part's log stay in the results folder.

Usage: chaos.py --floe build/floe [--seed N] [--orders N] [--kills N] ...
(`make chaos`, `make chaos-smoke`; see tests/chaos/README.md.)
"""
import argparse
import json
import os
import pathlib
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request

PARTS = ("agent", "firehose", "run")
CSV_FIELDS = ["customer_id", "name", "email", "country", "segment",
              "created_at", "updated_at"]


class ChaosError(Exception):
    """The run cannot go on (a part will not start, a drain hangs)."""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Part:
    """One long-running floe process, restarted after each kill; its log
    (every incarnation appended, each after a marker line) is kept."""

    def __init__(self, chaos, name, argv, env=None, ready=None):
        self.chaos, self.name, self.argv = chaos, name, argv
        self.env, self.ready = env, ready
        self.log_path = chaos.out / (name + ".log")
        self.proc = None
        self.starts = 0
        self.kills = 0

    def mark(self, text):
        with open(self.log_path, "ab") as f:
            f.write(("=== chaos t=%.2fs: %s\n" % (self.chaos.now(), text))
                    .encode())

    def start(self):
        if self.ready is not None and self.ready.exists():
            self.ready.unlink()
        self.starts += 1
        self.mark("start #%d: %s" % (self.starts, " ".join(self.argv)))
        with open(self.log_path, "ab") as lf:
            self.proc = subprocess.Popen(self.argv, stdout=lf, stderr=lf,
                                         env=self.env)
        self.chaos.event("start", self.name, self.proc.pid)
        if self.ready is not None:
            self.wait_ready()

    def wait_ready(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ready.exists() and self.ready.read_text().strip():
                return
            if self.proc.poll() is not None:
                raise ChaosError("%s exited (status %s) before it was ready; "
                                 "see %s" % (self.name, self.proc.returncode,
                                             self.log_path))
            time.sleep(0.02)
        raise ChaosError("%s not ready after %ds; see %s" %
                         (self.name, timeout, self.log_path))

    def cpu_ticks(self):
        """user+sys clock ticks of the live process (None if gone)."""
        try:
            with open("/proc/%d/stat" % self.proc.pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return int(fields[11]) + int(fields[12])
        except (OSError, ValueError, IndexError):
            return None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill9(self):
        pid = self.proc.pid
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.kills += 1
        self.chaos.event("kill -9", self.name, pid)
        self.mark("kill -9 #%d (pid %d)" % (self.kills, pid))

    def stop(self, timeout):
        """SIGTERM and wait; returns the exit status (None if it hung and
        was killed)."""
        if not self.alive():
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = None
        self.chaos.event("stopped (%s)" % rc, self.name, self.proc.pid)
        return rc


class Chaos:
    def __init__(self, args):
        self.a = args
        self.floe = str(pathlib.Path(args.floe).resolve())
        self.out = pathlib.Path(args.out).resolve()
        self.t0 = time.monotonic()
        self.events = []
        self.unexpected_exits = []
        self.rng = random.Random(args.seed)

    def now(self):
        return time.monotonic() - self.t0

    def event(self, what, part, pid):
        line = "%8.2fs  %-9s %-14s pid %d" % (self.now(), part, what, pid)
        self.events.append(line)
        with open(self.out / "schedule.log", "a") as f:
            f.write(line + "\n")
        if self.a.verbose:
            print(line, flush=True)

    # ---- set-up ------------------------------------------------------
    def prepare(self):
        shutil.rmtree(self.out, ignore_errors=True)
        for d in ("logs", "lake/landing", "state/firehose", "state/agent",
                  "state/run"):
            (self.out / d).mkdir(parents=True, exist_ok=True)
        self.logs = self.out / "logs"
        self.lake = self.out / "lake"
        self.truth = self.out / "state" / "truth.tsv"
        self.port = free_port()
        # the files exist before the agent starts: it tails them from byte 0
        for f in ("orders.log", "customers.log"):
            (self.logs / f).touch()
        flows = [
            {"filePattern": str(self.logs / "orders.log"),
             "deliveryStream": "orders"},
            {"filePattern": str(self.logs / "customers.log"),
             "deliveryStream": "customers",
             "dataProcessingOptions": [{"optionName": "CSVTOJSON",
                                        "customFieldNames": CSV_FIELDS}]}]
        for f in flows:
            f.update(initialPosition="START_OF_FILE", maxBufferAgeMillis=1000,
                     maxBufferSizeRecords=100,
                     retryInitialBackoffMillis=100,
                     retryMaxBackoffMillis=1000)
        self.agent_json = self.out / "state" / "agent.json"
        self.agent_json.write_text(json.dumps(
            {"firehose.endpoint": "http://127.0.0.1:%d" % self.port,
             "kinesis.region": "us-east-1", "flows": flows}, indent=1))
        agent_env = dict(os.environ, AWS_ACCESS_KEY_ID="",
                         AWS_SECRET_ACCESS_KEY="")
        self.ckpt = self.out / "state" / "agent" / "checkpoints.db"
        self.parts = {
            "firehose": Part(self, "firehose", [
                self.floe, "firehose", "--lake", str(self.lake),
                "--state-dir", str(self.out / "state" / "firehose"),
                "--port", str(self.port), "--ready-file",
                str(self.out / "state" / "firehose.port")],
                ready=self.out / "state" / "firehose.port"),
            "agent": Part(self, "agent", self.agent_argv(), env=agent_env),
            "run": Part(self, "run", self.run_argv("--schedule", "1s")),
        }

    def agent_argv(self, *extra):
        return [self.floe, "agent", "-c", str(self.agent_json),
                "--checkpoint-file", str(self.ckpt), "--progress-interval",
                "5s", *extra]

    def run_argv(self, *extra):
        return [self.floe, "run", "--lake", str(self.lake), "--state-dir",
                str(self.out / "state" / "run"), *extra]

    def create_streams(self):
        for s in ("orders", "customers"):
            body = {"DeliveryStreamName": s, "DeliveryStreamType": "DirectPut",
                    "ExtendedS3DestinationConfiguration": {
                        "RoleARN": "arn:aws:iam::123456789012:role/floe",
                        "BucketARN": "arn:aws:s3:::landing",
                        "Prefix": s + "/", "ErrorOutputPrefix":
                        "errors/%s/" % s,
                        "BufferingHints": {"SizeInMBs": 4,
                                           "IntervalInSeconds": 1},
                        "CompressionFormat": "GZIP"}}
            req = urllib.request.Request(
                "http://127.0.0.1:%d/" % self.port,
                data=json.dumps(body).encode(),
                headers={"Content-Type": "application/x-amz-json-1.1",
                         "X-Amz-Target":
                         "Firehose_20150804.CreateDeliveryStream"})
            with urllib.request.urlopen(req, timeout=10) as r:
                r.read()

    # ---- the schedule ------------------------------------------------
    def schedule(self, window):
        """Per part, a list of (uptime, pause): the part is killed `uptime`
        seconds after it (re)started and restarted `pause` seconds later.
        Every part gets kills // 3 kills, the remainder going to random
        parts; the uptimes are spread so the kills fall within about
        `window` seconds."""
        n = {p: self.a.kills // len(PARTS) for p in PARTS}
        for p in self.rng.sample(PARTS, self.a.kills % len(PARTS)):
            n[p] += 1
        plan = {}
        for p in PARTS:
            pauses = [self.rng.uniform(0.1, 2.0) for _ in range(n[p])]
            mean_up = max(0.6, (window - sum(pauses)) / max(1, n[p]))
            ups = [self.rng.uniform(0.3, 2 * mean_up - 0.3)
                   for _ in range(n[p])]
            # most kills wait (at most BUSY_WAIT s) until the part is busy
            # (its CPU time grew in the last tick): a kill then hits a
            # request, a delivery or a DAG task in the middle
            busy = [self.rng.random() < 0.75 for _ in range(n[p])]
            plan[p] = list(zip(ups, pauses, busy))
        return plan

    BUSY_WAIT = 3.0

    def busy(self, part, p, due):
        """True when `part` used CPU since the last tick or has waited
        BUSY_WAIT seconds for it."""
        t = part.cpu_ticks()
        prev = self.ticks.get(p)
        self.ticks[p] = t
        return (prev is not None and t is not None and t > prev) or \
            self.now() > due[p] + self.BUSY_WAIT

    # ---- phases ------------------------------------------------------
    def start_emit(self):
        argv = [self.floe, "emit", "--dir", str(self.logs), "--orders",
                str(self.a.orders), "--customers", str(self.a.customers),
                "--seed", str(self.a.seed), "--rate", str(self.a.rate),
                "--truth", str(self.truth), "--json"]
        with open(self.out / "emit.log", "ab") as lf, \
                open(self.out / "emit.json", "wb") as jf:
            self.emit = subprocess.Popen(argv, stdout=jf, stderr=lf)

    def expected_lines(self):
        # customers (+20% updates) and orders (+1% duplicates), +0.5%
        # malformed: the defaults of floe emit
        return (self.a.customers * 1.2 + self.a.orders * 1.01) * 1.005

    def chaos_phase(self):
        window = self.expected_lines() / self.a.rate
        plan = self.schedule(window)
        with open(self.out / "schedule.log", "a") as f:
            f.write("seed %d, window %.0fs; per part (uptime s, pause s, "
                    "wait until busy):\n" % (self.a.seed, window))
            for p in PARTS:
                f.write("  %-9s %s\n" % (p, ", ".join(
                    "(%.2f, %.2f, %s)" % x for x in plan[p])))
        fh = self.parts["firehose"]
        fh.start()
        self.create_streams()
        self.parts["agent"].start()
        self.parts["run"].start()
        self.start_emit()
        # per part: the moment of its next kill or restart
        due = {p: self.now() + plan[p][0][0] for p in PARTS}
        step = {p: 0 for p in PARTS}   # index into plan[p]
        down = {p: False for p in PARTS}
        busy = {p: plan[p][0][2] for p in PARTS}   # wait for it to work
        self.ticks = {}
        deadline = self.now() + window * 3 + 120
        while any(step[p] < len(plan[p]) for p in PARTS) or \
                self.emit.poll() is None:
            if self.now() > deadline:
                raise ChaosError("the chaos phase did not end within %.0fs "
                                 "(emit %s, kills done %s)" % (
                                     deadline, self.emit.poll(),
                                     {p: step[p] for p in PARTS}))
            for p in PARTS:
                part = self.parts[p]
                if not down[p] and not part.alive():
                    self.unexpected_exits.append(
                        "%s exited by itself with status %s at t=%.1fs" %
                        (p, part.proc.returncode, self.now()))
                    part.mark("exited by itself: status %s" %
                              part.proc.returncode)
                    part.start()
                if step[p] >= len(plan[p]) or self.now() < due[p]:
                    continue
                if not down[p]:
                    if busy[p] and not self.busy(part, p, due):
                        continue
                    part.kill9()
                    down[p] = True
                    due[p] = self.now() + plan[p][step[p]][1]
                    self.ticks.pop(p, None)
                else:
                    part.start()
                    down[p] = False
                    step[p] += 1
                    if step[p] < len(plan[p]):
                        due[p] = self.now() + plan[p][step[p]][0]
                        busy[p] = plan[p][step[p]][2]
            time.sleep(0.02)
        if self.emit.returncode != 0:
            raise ChaosError("floe emit failed (status %d); see %s" % (
                self.emit.returncode, self.out / "emit.log"))

    def drain(self):
        t = self.a.drain_timeout
        agent, fh, run = (self.parts[p] for p in ("agent", "firehose", "run"))
        # 1. the agent to EOF: stop the tailing one, run one that exits
        #    once every line is acknowledged
        rc = agent.stop(t)
        if rc != 0:
            self.unexpected_exits.append("agent: SIGTERM gave status %s" % rc)
        agent.argv = self.agent_argv("--exit-at-eof")
        agent.start()
        try:
            rc = agent.proc.wait(timeout=t)
        except subprocess.TimeoutExpired:
            agent.proc.kill()
            raise ChaosError("agent --exit-at-eof did not finish in %ds; "
                             "see %s" % (t, agent.log_path))
        if rc != 0:
            raise ChaosError("agent --exit-at-eof: status %d; see %s" %
                             (rc, agent.log_path))
        # 2. the firehose flushes its buffers and exits
        rc = fh.stop(t)
        if rc != 0:
            raise ChaosError("firehose SIGTERM: status %s; see %s" %
                             (rc, fh.log_path))
        # 3. the DAG until landing/ is empty
        rc = run.stop(t)
        if rc != 0:
            self.unexpected_exits.append("run: SIGTERM gave status %s" % rc)
        run.argv = self.run_argv("--once", "--json")
        for attempt in range(5):
            run.start()
            try:
                rc = run.proc.wait(timeout=t)
            except subprocess.TimeoutExpired:
                run.proc.kill()
                raise ChaosError("floe run --once did not finish in %ds; "
                                 "see %s" % (t, run.log_path))
            if rc != 0:
                raise ChaosError("floe run --once: status %d; see %s" %
                                 (rc, run.log_path))
            if not self.landing_objects():
                return attempt + 1
        raise ChaosError("landing/ still holds %d objects after 5 runs" %
                         len(self.landing_objects()))

    def landing_objects(self):
        root = self.lake / "landing"
        return [p for p in root.rglob("*") if p.is_file()
                and not any(x.startswith(".") for x in
                            p.relative_to(root).parts)]

    def reconcile(self):
        r = subprocess.run([self.floe, "reconcile", "--truth",
                            str(self.truth), "--lake", str(self.lake),
                            "--json"], capture_output=True, text=True,
                           timeout=self.a.drain_timeout)
        (self.out / "reconcile.log").write_text(r.stderr)
        try:
            return r.returncode, json.loads(r.stdout)
        except ValueError:
            raise ChaosError("floe reconcile failed (status %d): %s" %
                             (r.returncode, r.stderr.strip()[-2000:]))

    def dag_figures(self):
        """From the DAG's state database (read only): rows loaded (each
        landed record once per batch), duplicates the DAG removed, task
        runs a kill interrupted, batches by state. Rows loaded beyond the
        lines emitted are transport duplicates (resends after kills)."""
        db = self.out / "state" / "run" / "orchestrator.db"
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
        try:
            last = {}
            for batch, task, counts in con.execute(
                    "SELECT batch_id, task, counts FROM task_runs WHERE "
                    "state = 'success' ORDER BY attempt"):
                last[(batch, task)] = json.loads(counts or "{}")
            total = {}
            for counts in last.values():
                for k, v in counts.items():
                    total[k] = total.get(k, 0) + v
            interrupted = con.execute(
                "SELECT count(*) FROM task_runs WHERE state <> 'success'"
            ).fetchone()[0]
            batches = dict(con.execute(
                "SELECT state, count(*) FROM batches GROUP BY state"))
        finally:
            con.close()
        with open(self.truth) as f:
            lines = sum(1 for _ in f)
        raw = total.get("raw_orders", 0) + total.get("raw_customers", 0)
        return {"lines_emitted": lines, "rows_loaded": raw,
                "transport_duplicates": raw - lines,
                "dag_removed_duplicates": total.get("duplicate_orders", 0) +
                total.get("duplicate_customers", 0),
                "interrupted_task_runs": interrupted, "batches": batches}

    def run(self):
        self.prepare()
        print("chaos: seed %d, %d orders + %d customers at %d lines/s, %d "
              "kills; results in %s" % (self.a.seed, self.a.orders,
                                        self.a.customers, self.a.rate,
                                        self.a.kills, self.out), flush=True)
        failure = None
        rec = {}
        try:
            self.chaos_phase()
            t_drain = self.now()
            runs = self.drain()
            drain_s = self.now() - t_drain
            status, rec = self.reconcile()
            rec.update(self.dag_figures())
        except ChaosError as e:
            failure = str(e)
        finally:
            for p in self.parts.values():
                if p.alive():
                    p.proc.kill()
                    p.proc.wait()
            if getattr(self, "emit", None) is not None and \
                    self.emit.poll() is None:
                self.emit.kill()
                self.emit.wait()
        wall = self.now()
        kills = {p: self.parts[p].kills for p in PARTS}
        summary = dict(seed=self.a.seed, kills=kills,
                       kills_total=sum(kills.values()), wall_seconds=wall,
                       unexpected_exits=self.unexpected_exits,
                       failure=failure, **rec)
        print("chaos: seed %d" % self.a.seed)
        print("  kills      %s (total %d)" % (
            ", ".join("%s %d" % kv for kv in kills.items()),
            summary["kills_total"]))
        if rec:
            print("  records    %d valid emitted (order events and customer "
                  "versions), %d invalid, %d duplicates emitted" % (
                      rec["emitted_valid"], rec["emitted_invalid"],
                      rec["duplicates_emitted"]))
            print("  processed  orders %d, customer versions %d, "
                  "quarantined %d; landing left %d" % (
                      rec["processed_orders"], rec["processed_customers"],
                      rec["quarantined"], rec["pending_records"]))
            print("  transport  %d lines emitted, %d rows loaded by the DAG: "
                  "%d resent after kills; the DAG removed %d duplicates in "
                  "all" % (rec["lines_emitted"], rec["rows_loaded"],
                           rec["transport_duplicates"],
                           rec["dag_removed_duplicates"]))
            print("  DAG        batches %s, %d task runs interrupted" % (
                ", ".join("%s %d" % kv for kv in sorted(
                    rec["batches"].items())), rec["interrupted_task_runs"]))
            print("  drain      %.1fs (%d DAG run(s))" % (drain_s, runs))
            print("  lost       %d" % rec["lost"])
            print("  doubled    %d" % rec["doubled"])
            print("  unexpected %d" % rec["unexpected"])
        print("  wall       %.1fs" % wall)
        for u in self.unexpected_exits:
            print("  UNEXPECTED EXIT: %s" % u)
        (self.out / "summary.json").write_text(json.dumps(summary, indent=1))
        ok = (failure is None and not self.unexpected_exits and rec
              and status == 0 and rec["lost"] == 0 and rec["doubled"] == 0
              and rec["unexpected"] == 0 and rec["pending_records"] == 0
              and rec["transport_duplicates"] >= 0
              and rec["quarantined"] >= rec["emitted_invalid"]
              and set(rec["batches"]) == {"done"})
        if ok:
            print("chaos: OK (seed %d)" % self.a.seed, flush=True)
            if not self.a.keep:   # the part logs and schedule stay
                for d in ("logs", "lake", "state"):
                    shutil.rmtree(self.out / d, ignore_errors=True)
            return 0
        print("chaos: FAILED (seed %d): %s; logs, lake and state kept in %s"
              % (self.a.seed, failure or "see the figures above", self.out),
              flush=True)
        return 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--floe", default="build/floe", help="the floe binary")
    ap.add_argument("--seed", type=int, default=None,
                    help="schedule and data seed (default: random, printed)")
    ap.add_argument("--orders", type=int, default=300000,
                    help="valid order events emitted")
    ap.add_argument("--customers", type=int, default=10000,
                    help="distinct customers emitted")
    ap.add_argument("--rate", type=int, default=3000,
                    help="lines per second written (both files)")
    ap.add_argument("--kills", type=int, default=24,
                    help="kill -9s in all, spread over the three parts")
    ap.add_argument("--out", default=None,
                    help="results folder (default build/chaos/seed-N)")
    ap.add_argument("--drain-timeout", type=int, default=600,
                    help="seconds each drain step may take")
    ap.add_argument("--keep", action="store_true",
                    help="keep logs, lake and state after a passing run")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="print every kill and restart as it happens")
    a = ap.parse_args()
    if a.seed is None:
        a.seed = int(os.environ.get("CHAOS_SEED") or
                     random.SystemRandom().randrange(1, 1 << 31))
    if a.kills < len(PARTS):
        ap.error("--kills must be at least %d (one per part)" % len(PARTS))
    if a.out is None:
        a.out = "build/chaos/seed-%d" % a.seed
    return Chaos(a).run()


if __name__ == "__main__":
    sys.exit(main())
