"""`floe agent` keeping PutRecordBatch requests in flight, end to end: the
real agent against the real `floe firehose`, with tests/integration/
fhproxy.py in between to answer out of order, throttle, fail some records
of a batch, refuse requests as too large or answer slowly. Every line
carries an id; what landed is compared with what was written as exact sets
(lost, unknown, doubled), never by count alone."""
import collections
import json
import signal
import subprocess

import pytest

from agentlib import landed, make_stream, metric, parse_metrics, \
    run_agent, scrape, start_agent, \
    write_agent_json
from conftest import Firehose, wait_for
from fhproxy import FhProxy

STREAM = "logs"


def line_id(i):
    return "L%07d" % i


def write_lines(path, n, width=100):
    """n JSON lines of exactly `width` bytes ('\\n' included), ids L0..."""
    with open(path, "w") as f:
        for i in range(n):
            head = '{"id":"%s","pad":"' % line_id(i)
            f.write(head + "x" * (width - len(head) - 3) + '"}\n')


def agent_cfg(tmp_path, endpoint, log, **flow):
    """agent.json with one flow over `log`; short retry backoff so a
    throttled run stays short."""
    cfg = tmp_path / "agent.json"
    write_agent_json(cfg, endpoint, tmp_path / "ck.db", [dict({
        "filePattern": str(log), "deliveryStream": STREAM,
        "initialPosition": "START_OF_FILE", "maxBufferAgeMillis": 1000,
        "retryInitialBackoffMillis": 50, "retryMaxBackoffMillis": 500},
        **flow)])
    return cfg


def run_to_end(cfg, timeout, what):
    """`floe agent --exit-at-eof`; fails the test if it is still running
    after `timeout` s (`what` says what it is probably stuck on)."""
    try:
        r = run_agent(cfg, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        err = e.stderr or b""       # bytes, even in text mode
        if isinstance(err, bytes):
            err = err.decode(errors="replace")
        r = None
    if r is None:                   # outside `except`: no chained trace
        pytest.fail(f"agent still running after {timeout} s ({what}); "
                    f"end of its log:\n{err[-3000:]}", pytrace=False)
    assert r.returncode == 0, r.stderr[-3000:]
    return r


def landed_ids(fh):
    """Stop the server (SIGTERM flushes every buffer), then count each
    landed line's id."""
    assert fh.stop() == 0, fh.proc.output()[-3000:]
    return collections.Counter(json.loads(ln)["id"]
                               for ln in landed(fh, STREAM).splitlines())


def lost_and_unknown(got, n):
    want = {line_id(i) for i in range(n)}
    missing, extra = sorted(want - set(got)), sorted(set(got) - want)
    return (f"{len(missing)} of {n} lines lost (first {missing[:3]}), "
            f"{len(extra)} unknown ids") if missing or extra else ""


def assert_exactly_once(got, n, proxy=None):
    """`proxy`: FhProxy.counts(), for the message."""
    problem = lost_and_unknown(got, n)
    assert not problem, problem + (f"; proxy {proxy}" if proxy else "")
    doubled = sorted(k for k, c in got.items() if c > 1)
    assert not doubled, (f"{len(doubled)} lines landed more than once "
                         f"(first {doubled[:3]})")


def run_through(fh, tmp_path, n, proxy, timeout, what, width=100, **flow):
    """Write n lines, run the agent to the end through FhProxy(fh.port,
    **proxy) (straight to `fh` when proxy is None); returns the landed
    ids (landed_ids) and the proxy's counters ({} without one)."""
    make_stream(fh, STREAM)
    log = tmp_path / "app.log"
    write_lines(log, n, width)
    counts = {}
    if proxy is None:
        run_to_end(agent_cfg(tmp_path, fh.endpoint, log, **flow), timeout,
                   what)
    else:
        with FhProxy(fh.port, **proxy) as px:
            run_to_end(agent_cfg(tmp_path, px.endpoint, log, **flow),
                       timeout, what)
            counts = px.counts()
    return landed_ids(fh), counts


def test_out_of_order_acks_and_sigkill_lose_nothing(firehose, tmp_path):
    """Acknowledgements come back newest first; the agent is SIGKILLed
    mid-run and restarted: every line lands, and the duplicates are at
    most what was in flight (records in requests not yet acknowledged to
    the agent when it died)."""
    make_stream(firehose, STREAM)
    n, per_put = 10_000, 100
    log = tmp_path / "app.log"
    write_lines(log, n)
    agent, at_kill = [], {}

    def kill_at(seq):          # in the proxy, as put 30 arrives: mid-run
        if seq == 30 and agent:  # even for a sender done in 100 ms
            at_kill["reordered"] = px.reordered
            agent[0].p.kill()
    with FhProxy(firehose.port, "reorder", hold_s=0.1,
                 on_put=kill_at) as px:
        cfg = agent_cfg(tmp_path, px.endpoint, log,
                        maxBufferSizeRecords=per_put)
        agent.append(start_agent(cfg, tmp_path, "--max-in-flight", "8")[0])
        wait_for(lambda: agent[0].p.poll() is not None, timeout=15,
                 what="30 PutRecordBatch through the proxy, then SIGKILL")
        assert agent[0].stop() == -signal.SIGKILL, agent[0].output()[-3000:]
        run_to_end(cfg, 15, "after the restart")
        counts = px.counts()
    got = landed_ids(firehose)
    problem = lost_and_unknown(got, n)
    assert not problem, f"{problem}; proxy {counts}"
    dups = sum(c - 1 for c in got.values())
    bound = 8 * counts["max_records"]  # the agent's window ceiling
    assert dups <= bound, (f"{dups} duplicate lines, more than the "
                           f"{bound} records that can have been in flight; "
                           f"proxy {counts}")
    # only before the kill: after it, the restarted agent's first request
    # releases one the dead agent left held, which proves nothing
    assert at_kill["reordered"] > 0, (
        "no request was answered before an earlier one while the first "
        f"agent ran: it never had two requests in flight; proxy {counts}")


def test_throttled_requests_land_exactly_once(firehose, tmp_path):
    got, px = run_through(firehose, tmp_path, 5_000, dict(
        mode="throttle", seed=7, share=0.3), 20,
        "throttled requests not resent?", maxBufferSizeRecords=100)
    assert px["throttled"] > 0, px
    assert_exactly_once(got, 5_000, px)


def test_partial_failures_land_exactly_once(firehose, tmp_path):
    got, px = run_through(firehose, tmp_path, 5_000, dict(
        mode="partial", seed=11, share=0.3, drop=0.3), 20,
        "failed records not resent?", maxBufferSizeRecords=100)
    assert px["failed_records"] > 0, px
    assert_exactly_once(got, 5_000, px)


def test_request_refused_413_by_proxy_is_split(firehose, tmp_path):
    """500 lines of 1,000 B make a ~670 KB body; the proxy refuses bodies
    over 300 KB with 413: the agent must send smaller requests, not resend
    the same one forever."""
    got, px = run_through(firehose, tmp_path, 3_000, dict(
        mode="too-large", limit=300_000), 15,
        "resending a request refused with 413 as it was?", width=1000)
    assert px["too_large"] > 0, px
    assert_exactly_once(got, 3_000, px)


def test_request_over_server_max_request_is_split(tmp_path):
    """The same with the server's own limit: `floe firehose --max-request
    1M` (its smallest) answers 413 to a 500 x 4,000 B batch (~2.7 MB)."""
    d = tmp_path / "fh"
    d.mkdir()
    fh = Firehose(d, extra=["--max-request", "1M"]).start()
    try:
        got, _ = run_through(fh, tmp_path, 600, None, 15,
                             "resending a request refused with 413 as it "
                             "was?", width=4000)
        assert_exactly_once(got, 600)
    finally:
        fh.stop()


def test_requests_overlap_in_flight(firehose, tmp_path):
    """Behind an endpoint that takes 50 ms per request, the proxy must see
    more than one PutRecordBatch in flight at once."""
    got, px = run_through(firehose, tmp_path, 5_000, dict(
        mode="delay", delay_s=0.05), 20, "slow endpoint",
        maxBufferSizeRecords=100)
    assert_exactly_once(got, 5_000, px)
    assert px["max_in_flight"] > 1, (
        f"never more than one request in flight; proxy {px}")


def write_ids(path, first, n, mode, width=100):
    """Like write_lines, ids first .. first+n-1, opened with `mode`."""
    with open(path, mode) as f:
        for i in range(first, first + n):
            head = '{"id":"%s","pad":"' % line_id(i)
            f.write(head + "x" * (width - len(head) - 3) + '"}\n')


@pytest.mark.parametrize("initial", ["START_OF_FILE", "END_OF_FILE"])
def test_truncation_while_in_flight_then_sigkill(firehose, tmp_path,
                                                 initial):
    """A file is truncated and refilled (copytruncate) while the buffer
    of its old content is still in flight; that buffer is acknowledged,
    the agent is SIGKILLed before the new content's buffer is, and
    restarted. The old buffer's offset belongs to the old content: had it
    been checkpointed against the new one, the restart would resume in
    the middle of it and lose lines. Every line lands exactly once."""
    make_stream(firehose, STREAM)
    log = tmp_path / "app.log"
    log.write_text("")
    n_old, n_new = 200, 400       # the new content outgrows the old
    with FhProxy(firehose.port, "gate") as px:
        cfg = agent_cfg(tmp_path, px.endpoint, log, initialPosition=initial)
        agent, port = start_agent(cfg, tmp_path, "--metrics-port", "0")
        try:
            write_ids(log, 0, n_old, "a")
            wait_for(lambda: px.records >= n_old, timeout=15,
                     what="the old content sent (held by the proxy)")
            old_puts = px.puts
            write_ids(log, n_old, n_new, "w")   # truncate, then refill
            wait_for(lambda: px.records >= n_old + n_new, timeout=15,
                     what="the new content sent (held by the proxy)")
            px.release(old_puts)
            wait_for(lambda: metric(
                parse_metrics(scrape(port)[2]),
                "floe_agent_checkpoint_commits_total") >= 1,
                timeout=15, what="the old content's checkpoint commit")
        finally:
            agent.p.kill()
        assert agent.stop() == -signal.SIGKILL, agent.output()[-3000:]
        px.fail_held()                      # the dead agent's requests
        px.open()
        run_to_end(cfg, 15, "after the restart")
        counts = px.counts()
    got = landed_ids(firehose)
    want = {line_id(i) for i in range(n_old + n_new)}
    missing = sorted(want - set(got))
    assert not missing, (f"{len(missing)} lines lost (first {missing[:3]})"
                         f"; proxy {counts}")
    doubled = sorted(k for k, c in got.items() if c > 1)
    assert not doubled, f"{len(doubled)} lines doubled ({doubled[:3]})"
