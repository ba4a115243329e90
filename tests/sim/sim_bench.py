#!/usr/bin/python3
"""Benchmark mode of the WeChat Pay simulator (TEST ONLY), for `make bench` and `make soak`.

The simulator signs every answer with RSA-2048, which costs as much CPU as the daemon's own
signing; on a small machine it would then measure the simulator. This mode serves exactly what
wxpay_sim.py serves (same checks, same answers, same control API) but signs ahead of time:

  /usr/bin/python3 tests/sim/sim_bench.py --pki DIR --state FILE --port-file F --presign [--quiet]

--presign   before listening (and so before the benchmark's clock starts), signs every answer the
            orders of --state can produce: each order's query answer in its current state, the
            CLOSED answer a close would lead to, and the shared empty 204 body. The work is spread
            over --presign-workers processes. An answer found in this cache is served with its
            stored Wechatpay-Timestamp/-Nonce/-Signature; any other answer is signed live.
            The stored timestamp is --presign-ahead seconds (default 240) after the pre-signing
            started, so it stays inside the daemon's ±300 s window for about 8 minutes; later
            (or earlier) than 270 s from that timestamp an answer is signed live instead. The
            shared 204 signature means all close answers carry the same nonce: fine for a
            benchmark, never how WeChat Pay answers.
--quiet     no log line per request (errors are still logged).

Answers are written with TCP_NODELAY: wxpay_sim.py's handler writes headers and body separately,
and without it the body waits for the client's delayed ACK (about 40 ms on Linux), which a
benchmark would measure as WeChat Pay's latency.

GET /_sim/bench (control API) reports {"presigned", "presign_s", "presigned_hits",
"live_signed", "cpu_s", "pid"}: cpu_s is this process's user+system CPU time, so a benchmark
can show the simulator was not the bottleneck. Everything else is wxpay_sim.py; see README.md.
"""

import argparse
import concurrent.futures
import copy
import json
import os
import secrets
import signal
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sim_keys  # noqa: E402
import sim_state  # noqa: E402
import sim_wechat  # noqa: E402
import wxpay_sim  # noqa: E402

# The daemon refuses answers whose timestamp is 300 s or more away from its clock; keep a margin
# for the time an answer spends in flight.
MAX_PRESIGNED_AGE_S = 270
KEY_FILES = {"pubkey": "wxp_key.pem", "platform": "platform_key.pem", "platform2": "platform2_key.pem"}
# States a close turns into CLOSED (sim_wechat.WeChatApi._close).
_NOT_CLOSABLE = set(sim_state.PAID_STATES) | {"CLOSED", "PAYERROR", "USERPAYING", "REVOKED"}

_worker_key = None


def _init_worker(key_path):
    global _worker_key
    _worker_key = sim_keys.load_private_key(key_path)


def _sign_chunk(messages):
    return [sim_keys.sign(_worker_key, m) for m in messages]


def answer_bodies(api, orders):
    """Every answer body the orders can produce in a benchmark, without duplicates."""
    bodies = {b""}  # 204 to a close
    for no, order in orders.items():
        partner = sim_state.is_partner(order)
        bodies.add(sim_wechat._json(api._transaction(no, order, partner)))
        if order["trade_state"] not in _NOT_CLOSABLE:
            closed = copy.deepcopy(order)
            closed["trade_state"] = "CLOSED"
            closed.pop("trade_state_desc", None)
            bodies.add(sim_wechat._json(api._transaction(no, closed, partner)))
    return bodies


def presign(bodies, key_path, timestamp, workers, chunk=500):
    """{body: (timestamp, nonce, signature)}, signed in `workers` processes."""
    bodies = list(bodies)
    nonces = [secrets.token_hex(16) for _ in bodies]
    messages = [sim_keys.response_message(str(timestamp), n, b) for n, b in zip(nonces, bodies)]
    chunks = [messages[i:i + chunk] for i in range(0, len(messages), chunk)]
    signatures = []
    if workers <= 1:
        _init_worker(key_path)
        for c in chunks:
            signatures.extend(_sign_chunk(c))
    else:
        with concurrent.futures.ProcessPoolExecutor(max_workers=workers, initializer=_init_worker,
                                                    initargs=(key_path,)) as pool:
            for result in pool.map(_sign_chunk, chunks):
                signatures.extend(result)
    return {b: (timestamp, n, s) for b, n, s in zip(bodies, nonces, signatures)}


class PresignedApi(sim_wechat.WeChatApi):
    """WeChatApi whose answers come from a signature cache when possible."""

    def __init__(self, state, key_name, cache, presign_s):
        super().__init__(state)
        self.key_name = key_name
        self.cache = cache
        self.presign_s = presign_s
        self.hits = 0
        self.live = 0
        self._counts = threading.Lock()

    def signature_headers(self, body, request_serial, fault=""):
        key = self.response_key(request_serial)
        entry = self.cache.get(body) if not fault and key.name == self.key_name else None
        if entry is not None and abs(entry[0] - self.state.now()) <= MAX_PRESIGNED_AGE_S:
            with self._counts:
                self.hits += 1
            ts, nonce, signature = entry
            return {
                "Wechatpay-Timestamp": str(ts),
                "Wechatpay-Nonce": nonce,
                "Wechatpay-Signature": signature,
                "Wechatpay-Serial": key.serial,
                "Wechatpay-Signature-Type": sim_keys.AUTH_SCHEME,
            }
        with self._counts:
            self.live += 1
        return super().signature_headers(body, request_serial, fault)

    def report(self):
        times = os.times()
        with self._counts:
            return {"presigned": len(self.cache), "presign_s": round(self.presign_s, 3),
                    "presigned_hits": self.hits, "live_signed": self.live,
                    "cpu_s": round(times.user + times.system, 3), "pid": os.getpid()}


class BenchHandler(wxpay_sim.Handler):
    quiet = False
    # An answer is written as headers, then body: two small writes. With Nagle's algorithm the
    # body waits for the client's delayed ACK of the headers, about 40 ms on Linux, which would
    # be measured as WeChat Pay latency.
    disable_nagle_algorithm = True

    def _log(self, status):
        if not self.quiet:
            super()._log(status)

    def _control(self, body):
        if self.path.partition("?")[0] == "/_sim/bench" and self.command == "GET":
            self._write_json(200, self.server.api.report())
            return
        super()._control(body)


def parse_args(argv):
    p = argparse.ArgumentParser(prog="sim_bench.py", add_help=False)
    p.add_argument("--presign", action="store_true")
    p.add_argument("--presign-workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--presign-ahead", type=float, default=240.0)
    p.add_argument("--quiet", action="store_true")
    p.add_argument("-h", "--help", action="store_true")
    ours, rest = p.parse_known_args(argv)
    if ours.help:
        print(__doc__)
        wxpay_sim.parse_args(["--help"])
    if not 0 <= ours.presign_ahead <= MAX_PRESIGNED_AGE_S:
        p.error("--presign-ahead must be 0..%d seconds" % MAX_PRESIGNED_AGE_S)
    if ours.presign_workers < 1:
        p.error("--presign-workers must be at least 1")
    return ours, wxpay_sim.parse_args(rest)


def main(argv=None):
    ours, args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        pki = sim_keys.Pki(args.pki)
        state = sim_state.SimState(pki, args.state, args.persist, args.sign_with)
    except (sim_keys.PkiError, sim_state.StateError) as e:
        wxpay_sim.log("error: %s" % e)
        return 2

    # The key the daemon asks for: it sends Wechatpay-Serial PUB_KEY_ID_... in public-key mode.
    key_name = "pubkey"
    cache, presign_s = {}, 0.0
    if ours.presign:
        started = time.monotonic()
        timestamp = int(state.now() + ours.presign_ahead)
        bodies = answer_bodies(sim_wechat.WeChatApi(state), state.orders)
        cache = presign(bodies, os.path.join(args.pki, KEY_FILES[key_name]), timestamp,
                        ours.presign_workers)
        presign_s = time.monotonic() - started
        wxpay_sim.log("pre-signed %d answers for %d orders in %.1f s (%d processes)"
                      % (len(cache), len(state.orders), presign_s, ours.presign_workers))

    tls = None
    if not args.plain_http:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.minimum_version = ssl.TLSVersion.TLSv1_2
        tls.set_alpn_protocols(["http/1.1"])
        try:
            tls.load_cert_chain(pki.server_cert, pki.server_key)
        except (ssl.SSLError, OSError) as e:
            wxpay_sim.log("error: cannot load %s / %s: %s" % (pki.server_cert, pki.server_key, e))
            return 2
    api = PresignedApi(state, key_name, cache, presign_s)
    try:
        server = wxpay_sim.SimServer(args.port, tls, args.idle_timeout, api, state, pki)
    except OSError as e:
        wxpay_sim.log("error: cannot listen on 127.0.0.1:%d: %s" % (args.port, e.strerror))
        return 2
    server.RequestHandlerClass = type("BoundBenchHandler", (BenchHandler,),
                                      {"timeout": args.idle_timeout, "quiet": ours.quiet})

    def stop(signum, _frame):
        wxpay_sim.log("signal %d: shutting down" % signum)
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    port = server.server_address[1]
    if args.port_file:
        wxpay_sim.write_port_file(args.port_file, port)
    wxpay_sim.log("benchmark mode listening on %s://127.0.0.1:%d (%d orders, %d answers pre-signed)"
                  % ("http" if args.plain_http else "https", port, len(state.orders), len(cache)))
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    wxpay_sim.log("stopped: %s" % json.dumps(api.report()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
