"""fhproxy - an HTTP-aware proxy put in front of the real `floe firehose`
to give the agent the endpoint behaviours a Firehose can show: answers out
of order, throttling, partial failures, requests refused as too large,
slow answers. It counts what it saw (requests, records, the most requests
in flight at once) for the tests to read. Stdlib only, one thread per
client connection, each with its own kept-alive upstream connection.

Modes (only PutRecordBatch is touched; every other request, e.g.
CreateDeliveryStream or GET /metrics, goes through as it is):
  pass       forward as is (counting only)
  delay      hold each put `delay_s` before forwarding it
  reorder    hold each put until the next one arrives (or `hold_s` passes,
             so a lone request still gets through); then the later one is
             forwarded and answered first, the held one after it
  throttle   answer a seeded `share` of puts HTTP 400
             ServiceUnavailableException ("Slow down."), not forwarded
  partial    cut a seeded `share` of puts: forward only some of their
             records (each dropped with probability `drop`, at least one)
             in a rewritten body, and answer with a full PutRecordBatch
             response in which the dropped records have ErrorCode
             ServiceUnavailableException (FailedPutCount counts them, plus
             any the server itself failed)
  too-large  answer 413 to puts whose body is over `limit` bytes
  gate       hold each put until the test lets it go: release(k) forwards
             the next k puts in arrival order, fail_held() answers those
             held ServiceUnavailableException without forwarding them,
             open() lets every put through from then on
"""
import http.client
import json
import random
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODES = ("pass", "delay", "reorder", "throttle", "partial", "too-large",
         "gate")
GATE_WAIT_S = 60  # a held put is failed after this, so nothing hangs
JSON_TYPE = "application/x-amz-json-1.1"
SLOW_DOWN = {"__type": "ServiceUnavailableException",
             "message": "Slow down."}
TOO_LARGE = {"__type": "SerializationException",
             "message": "Request body too large"}
COUNTERS = ("requests", "puts", "records", "max_records", "max_body",
            "in_flight", "max_in_flight", "forwarded", "throttled",
            "too_large", "partial", "failed_records", "reordered")
HOP_BY_HOP = {"host", "content-length", "connection", "expect",
              "keep-alive", "transfer-encoding"}


class FhProxy:
    """Start with start() (or use as a context manager); the endpoint for
    the agent is .endpoint. Counters (read them any time):
      requests       every request
      puts           PutRecordBatch requests
      records        records in those puts, as sent by the agent
      max_records    the most records in one put
      max_body       the largest put body, bytes
      in_flight, max_in_flight   puts received and not yet answered
      forwarded      puts (or parts of them) sent to the server
      throttled, too_large       puts refused by the proxy itself
      partial        puts of which only some records were forwarded
      failed_records records answered with an ErrorCode by the proxy
      reordered      puts answered before an earlier one (reorder mode)
      statuses       {HTTP status: count} of the answers to puts
    """

    def __init__(self, upstream_port, mode="pass", seed=1, share=0.3,
                 drop=0.3, limit=300_000, hold_s=0.1, delay_s=0.05,
                 on_put=None):
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        self.upstream_port = upstream_port
        self.mode = mode
        self.share = share
        self.drop = drop
        self.limit = limit
        self.hold_s = hold_s
        self.delay_s = delay_s
        self.on_put = on_put  # called with each put's number (1, 2, ...)
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.held = []       # reorder: puts waiting for a successor
        self.gate = threading.Condition(self.lock)
        self.tickets = 0     # gate: puts arrived
        self.passes = 0      # gate: puts [0, passes) may go on
        self.failed_to = 0   # gate: puts [.., failed_to) are failed
        self.requests = self.puts = self.records = 0
        self.max_records = self.max_body = 0
        self.in_flight = self.max_in_flight = 0
        self.forwarded = self.throttled = self.too_large = 0
        self.partial = self.failed_records = self.reordered = 0
        self.statuses = {}
        self.server = None
        self.thread = None
        self.port = None
        self.endpoint = None

    # ---------- lifecycle ----------
    def start(self):
        proxy = self

        class Handler(_Handler):
            pass
        Handler.proxy = proxy
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def counts(self):
        """A copy of the counters, for assertion messages."""
        with self.lock:
            return {k: getattr(self, k) for k in COUNTERS} | {
                "statuses": dict(self.statuses)}

    # ---------- helpers used by the handler ----------
    def _chance(self, p):
        with self.lock:
            return self.rng.random() < p

    def _count(self, **add):
        with self.lock:
            for k, v in add.items():
                setattr(self, k, getattr(self, k) + v)

    # ---------- gate mode ----------
    def release(self, k=1):
        """Let the next `k` puts (held or still to come) through."""
        with self.gate:
            self.passes += k
            self.gate.notify_all()

    def open(self):
        self.release(1 << 30)

    def fail_held(self):
        """Answer every put held now ServiceUnavailableException."""
        with self.gate:
            self.failed_to = self.tickets
            self.gate.notify_all()

    def gate_wait(self):
        """True when this put may be forwarded, False to fail it."""
        with self.gate:
            ticket = self.tickets
            self.tickets += 1
            self.gate.wait_for(lambda: ticket < self.passes or
                               ticket < self.failed_to, GATE_WAIT_S)
            return ticket < self.passes and ticket >= self.failed_to

    def reorder_gate(self, work):
        """Run work() (forward + answer) for a put. If a put is already
        held, this later one runs first, then releases it; otherwise this
        one is held until a later put releases it or hold_s passes."""
        older = slot = None
        with self.lock:
            if self.held:
                older = self.held.pop()
            else:
                slot = threading.Event()
                self.held.append(slot)
        if older is not None:
            try:
                work()
            finally:
                self._count(reordered=1)
                older.set()
            return
        if not slot.wait(self.hold_s):
            with self.lock:
                claimed = slot not in self.held
                if not claimed:
                    self.held.remove(slot)
            if claimed:          # a successor took it just now: let it go
                slot.wait()      # first
        work()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    proxy = None          # set on the subclass made by FhProxy.start()
    upstream = None       # this client connection's kept-alive upstream

    def log_message(self, *args):
        pass

    def handle_expect_100(self):
        p = self.proxy
        if p.mode == "too-large" and self._is_put() and \
                int(self.headers.get("Content-Length", 0)) > p.limit:
            # refuse before the body is sent; the connection cannot be
            # reused (the body may still come), so close it
            self.close_connection = True
            self._count_put_answer(413)
            p._count(requests=1, puts=1, too_large=1)
            self._answer(413, json.dumps(TOO_LARGE).encode())
            return False
        return super().handle_expect_100()

    def do_GET(self):
        self._request(b"")

    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        self._request(self.rfile.read(n) if n else b"")

    # ---------- one request ----------
    def _is_put(self):
        return self.headers.get("X-Amz-Target", "").endswith(
            ".PutRecordBatch")

    def _request(self, body):
        p = self.proxy
        p._count(requests=1)
        if self.command != "POST" or not self._is_put():
            status, ctype, data = self._forward(body)
            self._answer(status, data, ctype)
            return
        with p.lock:
            p.puts += 1
            seq = p.puts
            p.in_flight += 1
            p.max_in_flight = max(p.max_in_flight, p.in_flight)
            p.max_body = max(p.max_body, len(body))
        try:
            if p.on_put is not None:
                p.on_put(seq)
            self._put(body)
        finally:
            p._count(in_flight=-1)

    def _put(self, body):
        p = self.proxy
        try:
            req = json.loads(body)
            records = req["Records"]
        except (ValueError, KeyError, TypeError):
            req, records = None, []
        with p.lock:
            p.records += len(records)
            p.max_records = max(p.max_records, len(records))
        if p.mode == "too-large" and len(body) > p.limit:
            p._count(too_large=1)
            self._reply(413, json.dumps(TOO_LARGE).encode())
        elif p.mode == "throttle" and p._chance(p.share):
            p._count(throttled=1)
            self._reply(400, json.dumps(SLOW_DOWN).encode())
        elif p.mode == "partial" and req is not None and records and \
                p._chance(p.share):
            self._partial(req, records)
        elif p.mode == "reorder":
            p.reorder_gate(lambda: self._pass(body))
        elif p.mode == "gate" and not p.gate_wait():
            p._count(throttled=1)
            self._reply(400, json.dumps(SLOW_DOWN).encode())
        else:
            if p.mode == "delay":
                threading.Event().wait(p.delay_s)
            self._pass(body)

    def _pass(self, body):
        status, ctype, data = self._forward(body)
        self.proxy._count(forwarded=1)
        self._reply(status, data, ctype)

    def _partial(self, req, records):
        """Forward the records that survive the draw; answer for all."""
        p = self.proxy
        keep = [not p._chance(p.drop) for _ in records]
        if all(keep):
            with p.lock:
                keep[p.rng.randrange(len(keep))] = False
        sent = [r for r, k in zip(records, keep) if k]
        answers = iter([])
        encrypted = False
        if sent:
            status, ctype, data = self._forward(json.dumps(
                dict(req, Records=sent)).encode())
            p._count(forwarded=1)
            if status != 200:        # the server's own refusal: pass it on
                self._reply(status, data, ctype)
                return
            up = json.loads(data)
            answers = iter(up["RequestResponses"])
            encrypted = up.get("Encrypted", False)
        out, failed = [], 0
        for k in keep:
            a = next(answers) if k else {
                "ErrorCode": "ServiceUnavailableException",
                "ErrorMessage": "Slow down."}
            failed += 1 if a.get("ErrorCode") else 0
            out.append(a)
        dropped = keep.count(False)
        p._count(failed_records=dropped, partial=1 if dropped else 0)
        self._reply(200, json.dumps({"FailedPutCount": failed,
                                     "Encrypted": encrypted,
                                     "RequestResponses": out}).encode())

    def _forward(self, body):
        """Send this request (with `body`) to the server on this client
        connection's upstream connection; (status, content type, body).
        A dropped kept-alive connection is reopened once."""
        p = self.proxy
        hdrs = {k: v for k, v in self.headers.items()
                if k.lower() not in HOP_BY_HOP}
        for attempt in (0, 1):
            if self.upstream is None:
                self.upstream = http.client.HTTPConnection(
                    "127.0.0.1", p.upstream_port, timeout=60)
            try:
                self.upstream.request(self.command, self.path, body=body,
                                      headers=hdrs)
                r = self.upstream.getresponse()
                return (r.status, r.getheader("Content-Type", JSON_TYPE),
                        r.read())
            except (OSError, http.client.HTTPException):
                self.upstream.close()
                self.upstream = None
                if attempt:
                    return 502, JSON_TYPE, json.dumps({
                        "__type": "ServiceUnavailableException",
                        "message": "fhproxy: upstream failed"}).encode()

    def _count_put_answer(self, status):
        p = self.proxy
        with p.lock:
            p.statuses[status] = p.statuses.get(status, 0) + 1

    def _reply(self, status, data, ctype=JSON_TYPE):
        self._count_put_answer(status)
        self._answer(status, data, ctype)

    def _answer(self, status, data, ctype=JSON_TYPE):
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except OSError:          # the client is gone (e.g. SIGKILLed)
            self.close_connection = True

    def finish(self):
        try:
            super().finish()
        finally:
            if self.upstream is not None:
                self.upstream.close()

