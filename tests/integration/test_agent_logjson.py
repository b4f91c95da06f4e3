"""`floe agent` LOGTOJSON, ADDMETADATA and multiLineStartPattern end to end
through `floe firehose`: records have the Kinesis Agent's output shape,
lines that do not parse are skipped and counted, never sent; invalid UTF-8
lands as U+FFFD; regexes have Java's semantics."""
import json
import re

from agentlib import flow, landed, make_stream, run_agent, write_agent_json

COMBINED = [
    '192.168.0.7 - - [24/Nov/2026:19:56:00 +0000] "GET /cart?x=\\x22 '
    'HTTP/1.1" 200 512 "https://shop.example/ä" "Mozilla/5.0 (X11; Linux)"',
    'www.example.com - frank [24/Nov/2026:19:56:01 +0100] "POST /api '
    'HTTP/1.1" 201 - "-" "curl/8.5"',
    # Apache escapes a quote as \" : the agent's NOQUOTE field rejects it
    '10.0.0.9 - - [24/Nov/2026:19:56:02 +0000] "GET /\\"x HTTP/1.1" 200 1 '
    '"-" "a"',
    'not an access log line at all',
    '10.0.0.1 - - [24/Nov/2026:19:56:03 +0000] "GET / HTTP/1.1" 200 1',  # common
]


def test_logtojson_combined_and_skips(firehose, tmp_path):
    make_stream(firehose, "web")
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "access.log").write_text("\n".join(COMBINED) + "\n",
                                     encoding="utf-8")
    cfg = tmp_path / "agent.json"
    write_agent_json(cfg, firehose.endpoint, tmp_path / "ck.db", [
        flow(logs / "access.log", "web", {"optionName": "LOGTOJSON",
                                          "logFormat": "COMBINEDAPACHELOG"})])
    r = run_agent(cfg)
    assert r.returncode == 0, r.stderr
    firehose.stop()
    recs = [json.loads(x) for x in landed(firehose, "web").decode().splitlines()]
    assert len(recs) == 2
    assert recs[0] == {
        "host": "192.168.0.7", "ident": None, "authuser": None,
        "datetime": "24/Nov/2026:19:56:00 +0000",
        "request": "GET /cart?x=\\x22 HTTP/1.1", "response": "200",
        "bytes": "512", "referer": "https://shop.example/ä",
        "agent": "Mozilla/5.0 (X11; Linux)"}
    assert recs[1] == {
        "host": "www.example.com", "ident": None, "authuser": "frank",
        "datetime": "24/Nov/2026:19:56:01 +0100", "request": "POST /api HTTP/1.1",
        "response": "201", "bytes": None, "referer": None, "agent": "curl/8.5"}
    m = re.search(r"skipped (\d+) records", r.stderr)
    assert m and int(m.group(1)) == 3, r.stderr


def test_multiline_metadata_syslog(firehose, tmp_path):
    make_stream(firehose, "app")
    logs = tmp_path / "logs"
    logs.mkdir()
    text = (
        "2026-11-24T19:56:00.001Z web1 shop[42]: order failed: \"O1\"\n"
        "java.lang.IllegalStateException: boom\n"
        "\tat shop.Cart.pay(Cart.java:10)\n"
        "2026-11-24T19:56:00.002Z web1 shop[42]: Zoë paid €5\n"
        "2026-11-24T19:56:00.003Z web1 shop: last one, no newline")
    (logs / "app.log").write_text(text, encoding="utf-8")
    cfg = tmp_path / "agent.json"
    write_agent_json(cfg, firehose.endpoint, tmp_path / "ck.db", [flow(
        logs / "app.log", "app",
        {"optionName": "SINGLELINE", "parseOptions": ["ESCAPE_NEW_LINE"]},
        {"optionName": "ADDMETADATA", "timestamp": "true",
         "metadata": {"env": "prod", "tags": ["a", 1]},
         "logFormat": "RFC3339SYSLOG"},
        multiLineStartPattern=r"\d{4}-\d{2}-\d{2}T")])
    r = run_agent(cfg)
    assert r.returncode == 0, r.stderr
    firehose.stop()
    out = landed(firehose, "app").decode("utf-8")
    recs = [json.loads(x) for x in out.splitlines()]
    assert len(recs) == 3
    for rec in recs:
        assert list(rec.keys()) == ["ts", "metadata", "data"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", rec["ts"])
        assert rec["metadata"] == {"env": "prod", "tags": ["a", 1]}
    assert recs[0]["data"] == {
        "timestamp": "2026-11-24T19:56:00.001Z", "hostname": "web1",
        "program": "shop", "processid": "42",
        "message": 'order failed: "O1"\\njava.lang.IllegalStateException: '
                   'boom\\nat shop.Cart.pay(Cart.java:10)'}
    assert recs[1]["data"]["message"] == "Zoë paid €5"
    assert recs[2]["data"]["processid"] is None
    assert recs[2]["data"]["message"] == "last one, no newline"


def test_invalid_utf8_lands_as_replacement_characters(firehose, tmp_path):
    """A Latin-1 byte, a truncated sequence, an encoded surrogate: the
    landed records are still JSON (Python's decoder, like Java's, gives one
    U+FFFD per maximal invalid subpart), for CSVTOJSON and LOGTOJSON."""
    make_stream(firehose, "csv")
    make_stream(firehose, "log")
    logs = tmp_path / "logs"
    logs.mkdir()
    fields = [b"C1", b'"Zo\xebe, \xe2\x82"', b"\xed\xa0\x80x", b"ok"]
    (logs / "c.log").write_bytes(b",".join(fields) + b"\r\n")
    line = (b"2026-11-24T19:56:00Z web1 shop[42]: caf\xe9 \xf0\x9f\x98 "
            b"\xe2\x82\xac\xc0\xaf")
    (logs / "s.log").write_bytes(line + b"\n")
    cfg = tmp_path / "agent.json"
    write_agent_json(cfg, firehose.endpoint, tmp_path / "ck.db", [
        flow(logs / "c.log", "csv", {"optionName": "CSVTOJSON",
                                     "customFieldNames": ["id", "name", "x",
                                                          "y", "z"]}),
        flow(logs / "s.log", "log", {"optionName": "LOGTOJSON",
                                     "logFormat": "RFC3339SYSLOG"})])
    r = run_agent(cfg)
    assert r.returncode == 0, r.stderr
    firehose.stop()
    csv = landed(firehose, "csv").decode("utf-8")  # strict: valid UTF-8
    assert json.loads(csv) == {
        "id": "C1", "name": "Zo\ufffde, \ufffd",
        "x": "\ufffd\ufffd\ufffdx", "y": "ok", "z": None}
    log = json.loads(landed(firehose, "log").decode("utf-8"))
    assert log["message"] == line[line.index(b"caf"):].decode(
        "utf-8", "replace")
    assert log["message"] == "caf\ufffd \ufffd \u20ac\ufffd\ufffd"


def test_regex_has_java_semantics(firehose, tmp_path):
    """Lazy quantifiers, alternation and named groups work as in
    java.util.regex."""
    make_stream(firehose, "kv")
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "kv.log").write_text(
        "level=WARN msg=disk, full, again\n"
        "level=INFORMATION msg=x, y\n"
        "no match here\n", encoding="utf-8")
    cfg = tmp_path / "agent.json"
    write_agent_json(cfg, firehose.endpoint, tmp_path / "ck.db", [flow(
        logs / "kv.log", "kv", {
            "optionName": "LOGTOJSON", "logFormat": "SYSLOG",
            "matchPattern": r"level=(?<lvl>INFO|\w+?)(\w*) msg=(.*?),\s*(.*)",
            "customFieldNames": ["level", "rest", "msg", "more"]})])
    r = run_agent(cfg)
    assert r.returncode == 0, r.stderr
    firehose.stop()
    recs = [json.loads(x) for x in landed(firehose, "kv").decode().splitlines()]
    # java.util.regex's groups (POSIX regex gave "WARN", "", "disk, full",
    # "again" for the first line)
    assert recs == [
        {"level": "W", "rest": "ARN", "msg": "disk", "more": "full, again"},
        {"level": "INFO", "rest": "RMATION", "msg": "x", "more": "y"}]


def test_bad_pattern_is_a_config_error(tmp_path):
    cfg = tmp_path / "agent.json"
    write_agent_json(cfg, "http://127.0.0.1:9", tmp_path / "ck.db", [
        flow(tmp_path / "a.log", "s", multiLineStartPattern=r"\d{4}-(\d\d")])
    r = run_agent(cfg)
    assert r.returncode == 2
    assert "multiLineStartPattern" in r.stderr
    assert "missing closing parenthesis at offset 11" in r.stderr
    write_agent_json(cfg, "http://127.0.0.1:9", tmp_path / "ck.db", [flow(
        tmp_path / "a.log", "s", {
            "optionName": "LOGTOJSON", "logFormat": "SYSLOG",
            "matchPattern": r"([a-z&&[^aeiou]]+)", "customFieldNames": ["c"]})])
    r = run_agent(cfg)
    assert r.returncode == 2
    assert "intersection &&" in r.stderr and "offset 5" in r.stderr
