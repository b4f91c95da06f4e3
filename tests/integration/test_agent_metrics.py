"""`floe agent` GET /metrics against `floe firehose`: every counter must
match what was written exactly (records, bytes, requests, checkpoint
commits, lag), the series carry flow and stream labels, a dead endpoint
shows up as failures, lag and a full (bounded) buffer, and the port can
come from the command line, the environment or floe.yaml."""
from agentlib import (agent_env, landed, make_stream, metric, parse_metrics,
                      run_agent, scrape, start_agent, write_agent_json)
from conftest import free_port, wait_for

LIMIT = 1024000  # Kinesis Agent record limit


def lines(start, n):
    """Numbered lines of varying length, some UTF-8, each ending in \\n."""
    return b"".join(b'{"seq":%d,"msg":"%s","u":"\xc3\xa9\xe2\x82\xac"}\n'
                    % (i, b"x" * (i % 53)) for i in range(start, start + n))


def flow_cfg(tmp_path, endpoint, logs, **extra):
    cfg = tmp_path / "agent.json"
    flow = {"filePattern": str(logs / "app.log*"), "deliveryStream": "app",
            "initialPosition": "START_OF_FILE", "maxBufferAgeMillis": 1000,
            "retryInitialBackoffMillis": 50, "retryMaxBackoffMillis": 200}
    flow.update(extra)
    write_agent_json(cfg, endpoint, tmp_path / "ck.db", [flow])
    return cfg


def test_metrics_count_exactly(firehose, tmp_path):
    make_stream(firehose, "app", interval=1)
    logs = tmp_path / "logs"
    logs.mkdir()
    app = logs / "app.log"
    first = lines(0, 1200)
    long_line = b"L" * (LIMIT + 999) + b"\n"  # cut at the record limit
    app.write_bytes(b"a header line\n" + first + long_line)
    cfg = flow_cfg(tmp_path, firehose.endpoint, logs, skipHeaderLines=1)
    agent, port = start_agent(cfg, tmp_path, "--metrics-port", "0")
    try:
        assert f"metrics: GET http://127.0.0.1:{port}/metrics" in \
            agent.output()
        status, ctype, _ = scrape(port)
        assert status == 200 and ctype.startswith("text/plain; version=0.0.4")

        def sent(n):
            m = parse_metrics(scrape(port)[2])
            return m if metric(m, "floe_agent_records_sent_total") == n \
                else None
        m = wait_for(lambda: sent(1201), timeout=60, what="1201 records sent")
        flow = {"flow": "fh:app:%s" % (logs / "app.log*"), "stream": "app"}
        # 1200 lines + the cut one; the header is skipped, not a record
        assert metric(m, "floe_agent_records_parsed_total", **flow) == 1201
        assert metric(m, "floe_agent_records_sent_total", **flow) == 1201
        assert metric(m, "floe_agent_records_failed_total") == 0
        assert metric(m, "floe_agent_records_skipped_total") == 0
        assert metric(m, "floe_agent_lines_skipped_total") == 1
        assert metric(m, "floe_agent_records_truncated_total") == 1
        assert metric(m, "floe_agent_bytes_read_total") == app.stat().st_size
        sent_bytes = len(first) + LIMIT
        assert metric(m, "floe_agent_records_parsed_bytes_total") == \
            sent_bytes
        assert metric(m, "floe_agent_bytes_sent_total") == sent_bytes
        # 500 + 500 + 201 records: three full requests, no retry
        assert metric(m, "floe_agent_put_requests_total") == 3
        assert metric(m, "floe_agent_put_retries_total") == 0
        for kind in ("partial", "http", "network"):
            assert metric(m, "floe_agent_put_failures_total", kind=kind) == 0
        assert metric(m, "floe_agent_put_latency_seconds_count") == 3
        assert metric(m, "floe_agent_put_latency_seconds_bucket",
                      le="+Inf") == 3
        # buffers acknowledged together share one commit
        assert 1 <= metric(m, "floe_agent_checkpoint_commits_total") <= 3
        assert metric(m, "floe_agent_checkpoint_errors_total") == 0
        assert metric(m, "floe_agent_bytes_behind", **flow) == 0
        assert metric(m, "floe_agent_open_files", **flow) == 1
        assert metric(m, "floe_agent_queued_buffers") == 0
        assert metric(m, "floe_agent_buffered_bytes") == 0
        assert metric(m, "floe_agent_buffered_bytes_limit") == 8 << 20

        # More lines while it runs: the counters follow exactly.
        more = lines(1200, 777)
        with open(app, "ab") as f:
            f.write(more)
        m = wait_for(lambda: sent(1201 + 777), timeout=60,
                     what="the appended lines sent")
        assert metric(m, "floe_agent_records_parsed_total") == 1201 + 777
        assert metric(m, "floe_agent_bytes_read_total") == app.stat().st_size
        assert metric(m, "floe_agent_bytes_sent_total") == \
            sent_bytes + len(more)
        assert metric(m, "floe_agent_put_requests_total") >= \
            metric(m, "floe_agent_checkpoint_commits_total")
        assert metric(m, "floe_agent_bytes_behind") == 0

        # everything acknowledged is in the checkpoint
        wait_for(lambda: metric(parse_metrics(scrape(port)[2]),
                                "floe_agent_records_acked_unsaved") == 0,
                 what="no acknowledged record outside the checkpoint")
        assert scrape(port, "/nope")[0] == 404
    finally:
        assert agent.stop() == 0, agent.output()
    firehose.stop()  # flushes what it buffered
    # Objects of the same second may list in any order: compare lines.
    want = first + long_line[:LIMIT - 1] + b"\n" + more
    assert sorted(landed(firehose, "app").splitlines(True)) == \
        sorted(want.splitlines(True))


def test_dead_endpoint_shows_failures_lag_and_bound(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    app = logs / "app.log"
    app.write_bytes(lines(0, 40000))  # ~3 MB: more than the 1 MiB bound
    dead = f"http://127.0.0.1:{free_port()}"
    cfg = flow_cfg(tmp_path, dead, logs)
    yml = tmp_path / "floe.yaml"
    yml.write_text("agent:\n  max_buffered_bytes: 1M\n")
    env = dict(agent_env(), FLOE_AGENT_METRICS_PORT="0")
    agent, port = start_agent(cfg, tmp_path, env=env,
                              config=("--config", str(yml)))
    try:
        def failing():
            m = parse_metrics(scrape(port)[2])
            return m if metric(m, "floe_agent_put_failures_total",
                               kind="network") >= 3 else None
        m = wait_for(failing, timeout=60, what="three failed requests")
        limit = 1 << 20
        assert metric(m, "floe_agent_buffered_bytes_limit") == limit
        assert metric(m, "floe_agent_records_sent_total") == 0
        assert metric(m, "floe_agent_bytes_sent_total") == 0
        puts = metric(m, "floe_agent_put_requests_total")
        assert puts >= 3
        # The window starts at 2 requests: two buffers went out, then the
        # first failures cut it to one, and only resends followed.
        firsts = puts - metric(m, "floe_agent_put_retries_total")
        assert 1 <= firsts <= 2, firsts
        assert metric(m, "floe_agent_requests_window") == 1
        assert metric(m, "floe_agent_requests_in_flight") <= 1
        # every request carried a full batch of 500; each try counts
        assert metric(m, "floe_agent_records_failed_total") == 500 * puts
        assert metric(m, "floe_agent_checkpoint_commits_total") == 0
        # Reading stopped well inside the bound (two closed buffers wait
        # for the window), and the lag is exactly what was not handed out.
        buffered = metric(m, "floe_agent_buffered_bytes")
        assert 0 < buffered <= limit, buffered
        parsed_bytes = metric(m, "floe_agent_records_parsed_bytes_total")
        assert metric(m, "floe_agent_bytes_behind") == \
            app.stat().st_size - parsed_bytes > 1 << 20
        assert metric(m, "floe_agent_queued_buffers") >= 1
    finally:
        assert agent.stop() == 0, agent.output()


def test_metrics_off_by_default(firehose, tmp_path):
    make_stream(firehose, "app", interval=1)
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "app.log").write_bytes(lines(0, 10))
    cfg = flow_cfg(tmp_path, firehose.endpoint, logs)
    ready = tmp_path / "ready"
    r = run_agent(cfg, "--ready-file", str(ready))
    assert r.returncode == 0, r.stderr
    assert ready.read_text() == "0\n"
    assert "metrics:" not in r.stderr
    bad = run_agent(cfg, "--metrics-port", "70000")
    assert bad.returncode == 2 and "metrics-port" in bad.stderr


def test_dead_stream_never_stalls_another(firehose, tmp_path):
    """One flow's stream does not exist (every request fails); the other
    flow, on the same agent and endpoint, still delivers every line, and
    the failing one holds only a few buffers."""
    make_stream(firehose, "app", interval=1)
    logs = tmp_path / "logs"
    logs.mkdir()
    good, bad = lines(0, 60000), lines(0, 60000)
    (logs / "app.log").write_bytes(good)
    (logs / "gone.log").write_bytes(bad)
    cfg = tmp_path / "agent.json"
    base = {"initialPosition": "START_OF_FILE", "maxBufferAgeMillis": 1000,
            "retryInitialBackoffMillis": 50, "retryMaxBackoffMillis": 200}
    write_agent_json(cfg, firehose.endpoint, tmp_path / "ck.db", [
        dict(base, filePattern=str(logs / "app.log"), deliveryStream="app"),
        dict(base, filePattern=str(logs / "gone.log"),
             deliveryStream="missing")])
    agent, port = start_agent(cfg, tmp_path, "--metrics-port", "0")
    try:
        wait_for(lambda: len(landed(firehose, "app")) == len(good),
                 timeout=60, what="every line of the healthy flow")
        m = parse_metrics(scrape(port)[2])
        assert metric(m, "floe_agent_records_sent_total",
                      stream="app") == 60000
        assert metric(m, "floe_agent_records_sent_total",
                      stream="missing") == 0
        assert metric(m, "floe_agent_put_failures_total",
                      stream="missing", kind="http") >= 1
        # ResourceNotFoundException is no throttling: the window stays
        # where it started, and backoff spaces the resends.
        assert metric(m, "floe_agent_requests_window", stream="missing") <= 2
        # The dead flow reads no further than a few buffers ahead.
        assert metric(m, "floe_agent_bytes_behind", stream="missing") > \
            len(bad) - 4 * 500 * 100
    finally:
        assert agent.stop() == 0, agent.output()
    assert sorted(landed(firehose, "app").splitlines()) == \
        sorted(good.splitlines())
