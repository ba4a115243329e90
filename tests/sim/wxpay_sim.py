#!/usr/bin/python3
"""WeChat Pay APIv3 simulator for wxpay-reconciler tests and demos (TEST ONLY).

Serves query/close for direct and partner merchants over HTTPS on 127.0.0.1,
verifies every request like WeChat Pay, signs every answer, and injects faults on
demand through an unsigned control API under /_sim/. See tests/sim/README.md.

Run with /usr/bin/python3 (Debian's python3-cryptography); no pip packages.
"""

import argparse
import faulthandler
import json
import os
import signal
import socket
import socketserver
import ssl
import struct
import sys
import threading
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sim_keys  # noqa: E402
import sim_state  # noqa: E402
import sim_wechat  # noqa: E402

MAX_BODY = 1 << 20


def log(line: str):
    sys.stderr.write("wxpay-sim: %s\n" % line)
    sys.stderr.flush()


def printable(text: str) -> str:
    return "".join(c if 0x20 <= ord(c) < 0x7F else "\\x%02x" % (ord(c) & 0xFF) for c in text[:300])


class BadRequest(Exception):
    pass


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "wxpay-sim"
    timeout = 8  # replaced per server: idle keep-alive limit, like WeChat Pay's ~8 s
    # Headers and body are written separately; without TCP_NODELAY the body
    # waits for the client's delayed ACK (~40 ms per answer).
    disable_nagle_algorithm = True

    # --- http.server hooks ---------------------------------------------------------
    def version_string(self):
        return self.server_version

    def log_message(self, format, *args):  # noqa: A002 - http.server signature
        pass  # one line per request is written by _log()

    def log_error(self, format, *args):  # noqa: A002
        message = format % args
        if "timed out" not in message:  # idle keep-alive connections time out by design
            log("%s: %s" % (self.client_address[0], printable(message)))

    def do_GET(self):
        self._dispatch()

    def do_POST(self):
        self._dispatch()

    def do_DELETE(self):
        self._dispatch()

    def do_PUT(self):
        self._dispatch()

    def do_PATCH(self):
        self._dispatch()

    # --- plumbing --------------------------------------------------------------------
    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(1024)
                try:
                    size = int(line.split(b";")[0].strip(), 16)
                except ValueError:
                    raise BadRequest("bad chunk size")
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    raise BadRequest("body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(16)
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        if not length.strip().isdigit() or int(length) > MAX_BODY:
            raise BadRequest("bad Content-Length")
        body = self.rfile.read(int(length))
        if len(body) != int(length):
            raise BadRequest("body shorter than Content-Length")
        return body

    def _log(self, status):
        log("%s %s %s" % (self.command, printable(self.path), status))

    def _write(self, status: int, body: bytes, content_type: str, headers: dict):
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status not in (204, 304) and status >= 200:
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
        if not self.close_connection:
            self.send_header("Keep-Alive", "timeout=%d" % int(self.server.idle_timeout))
        else:
            self.send_header("Connection", "close")
        self.end_headers()
        if status not in (204, 304) and body:
            self.wfile.write(body)
        self._log(status)

    def _write_json(self, status: int, obj):
        body = b"" if obj is None else json.dumps(obj, ensure_ascii=False, indent=None).encode("utf-8")
        self._write(status, body, "application/json", {})

    def _drop(self, how: str):
        self.close_connection = True
        if how == "reset":
            # SO_LINGER 0: the final close sends RST instead of FIN (see SimServer.shutdown_request).
            try:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
        else:
            self.server.abort_connection(self.connection)
        self._log("dropped" if how == "close" else "reset")

    def _dispatch(self):
        try:
            body = self._read_body()
        except (BadRequest, ValueError) as e:
            self.close_connection = True
            self._write_json(400, {"code": "INVALID_REQUEST", "message": "无法解析请求: %s" % e})
            return
        if self.path.startswith("/_sim/") or self.path == "/_sim":
            self._control(body)
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        request = sim_wechat.Request(self.command, self.path, headers, body)
        answer = self.server.api.handle(request)
        if answer.drop:
            self._drop(answer.drop)
            return
        self._write(answer.status, answer.body, answer.content_type, answer.extra_headers)

    # --- control API -----------------------------------------------------------------
    def _control(self, body: bytes):
        state = self.server.state
        path, _, _ = self.path.partition("?")
        parts = path.split("/")[2:]   # after "/_sim/"
        try:
            doc = None
            if body:
                try:
                    doc = json.loads(body.decode("utf-8"))
                except (ValueError, UnicodeDecodeError) as e:
                    raise sim_state.StateError("body is not valid JSON: %s" % e)
            cmd = self.command
            if parts[:1] == ["orders"] and len(parts) == 2 and parts[1]:
                no = urllib.parse.unquote(parts[1])
                if cmd == "POST" or cmd == "PUT":
                    self._write_json(200, dict(state.put_order(no, doc), out_trade_no=no))
                elif cmd == "GET":
                    order = state.get_order(no)
                    if order is None:
                        self._write_json(404, {"error": "no order %s in the simulator" % no})
                    else:
                        self._write_json(200, dict(order, out_trade_no=no))
                elif cmd == "DELETE":
                    state.delete_order(no)
                    self._write(204, b"", "", {})
                else:
                    self._write_json(405, {"error": "use GET, POST or DELETE"})
            elif parts == ["orders"] and cmd == "GET":
                with state.lock:
                    self._write_json(200, {"orders": {no: dict(o) for no, o in state.orders.items()}})
            elif parts == ["faults"]:
                if cmd == "POST":
                    self._write_json(200, state.add_fault(doc))
                elif cmd == "DELETE":
                    self._write_json(200, {"removed": state.clear_faults()})
                elif cmd == "GET":
                    self._write_json(200, {"faults": state.list_faults()})
                else:
                    self._write_json(405, {"error": "use GET, POST or DELETE"})
            elif parts[:1] == ["faults"] and len(parts) == 2 and cmd == "DELETE" and parts[1].isdigit():
                removed = state.clear_faults(int(parts[1]))
                self._write_json(200 if removed else 404, {"removed": removed})
            elif parts == ["stats"] and cmd == "GET":
                self._write_json(200, state.stats_snapshot())
            elif parts == ["reset"] and cmd == "POST":
                state.reset_stats()
                self._write(204, b"", "", {})
            elif parts == ["config"] and cmd in ("GET", "POST"):
                if cmd == "POST":
                    if not isinstance(doc, dict):
                        raise sim_state.StateError("config: body must be a JSON object")
                    unknown = set(doc) - {"close_unknown_order", "clock_offset_s", "sign_with"}
                    if unknown:
                        raise sim_state.StateError("config: unknown field(s) %s" % ", ".join(sorted(unknown)))
                    state.apply_settings(doc)
                self._write_json(200, state.settings())
            elif parts == ["keys"] and cmd == "GET":
                # Public identifiers only; never key material.
                self._write_json(200, {"merchant_serial": self.server.pki.merchant.serial,
                                       "response_keys": {k.name: k.serial for k in self.server.pki.response_keys.values()}})
            else:
                self._write_json(404, {"error": "unknown control endpoint %s %s (see tests/sim/README.md)" % (self.command, path)})
        except sim_state.StateError as e:
            self._write_json(400, {"error": str(e)})


class SimServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port, tls_context, idle_timeout, api, state, pki):
        self.tls_context = tls_context
        self.idle_timeout = idle_timeout
        self.api = api
        self.state = state
        self.pki = pki
        handler = type("BoundHandler", (Handler,), {"timeout": idle_timeout})
        super().__init__(("127.0.0.1", port), handler)

    def server_bind(self):
        # HTTPServer.server_bind resolves the host name (getfqdn), which can hang without DNS.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "localhost", self.server_address[1]

    def finish_request(self, request, client_address):
        if self.tls_context is None:
            return super().finish_request(request, client_address)
        # TLS handshake in the connection's own thread, so a slow client cannot block accept().
        request.settimeout(self.idle_timeout)
        try:
            conn = self.tls_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            log("%s: TLS handshake failed: %s" % (client_address[0], printable(str(e))))
            return
        try:
            self.RequestHandlerClass(conn, client_address, self)
        finally:
            try:
                conn.close()
            except OSError:
                pass

    @staticmethod
    def abort_connection(conn):
        """Closes the TCP connection without writing anything (no TLS close_notify)."""
        try:
            raw = socket.socket(fileno=os.dup(conn.fileno()))
        except OSError:
            return
        try:
            raw.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        raw.close()

    def shutdown_request(self, request):
        try:
            onoff, _ = struct.unpack("ii", request.getsockopt(socket.SOL_SOCKET, socket.SO_LINGER, 8))
        except OSError:
            onoff = 0
        if onoff:  # a "reset" drop: no FIN before the RST
            self.close_request(request)
        else:
            super().shutdown_request(request)

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, ssl.SSLError, TimeoutError)):
            return
        log("%s: internal error (connection closed without an answer): %s: %s"
            % (client_address[0], type(exc).__name__, printable(str(exc))))
        for line in traceback.format_exc().rstrip().splitlines():
            log("  " + line)


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="wxpay_sim.py",
        description="WeChat Pay APIv3 simulator (TEST ONLY): query/close for direct and partner merchants, "
                    "strict request verification, signed answers, fault injection via /_sim/. "
                    "Listens on 127.0.0.1 only. See tests/sim/README.md.")
    p.add_argument("--pki", required=True, metavar="DIR", help="directory made by scripts/gen-test-pki.sh")
    p.add_argument("--state", metavar="FILE", help="JSON state file: {\"orders\": {...}, \"options\": {...}, \"merchants\": [...]}")
    p.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0 = any free port; default 0)")
    p.add_argument("--port-file", metavar="F", help="write the port here once listening (atomic replace)")
    p.add_argument("--plain-http", action="store_true", help="serve plain HTTP instead of HTTPS")
    p.add_argument("--sign-with", choices=("pubkey", "platform", "platform2"), default="platform",
                   help="key for answers when the request's Wechatpay-Serial names none (default platform)")
    p.add_argument("--persist", action="store_true", help="write order changes back to --state")
    p.add_argument("--idle-timeout", type=float, default=8.0, metavar="S",
                   help="close idle keep-alive connections after S seconds (default 8, like WeChat Pay)")
    args = p.parse_args(argv)
    if not 0 <= args.port <= 65535:
        p.error("--port must be 0..65535")
    if args.persist and not args.state:
        p.error("--persist needs --state")
    if args.idle_timeout <= 0:
        p.error("--idle-timeout must be positive")
    return args


def write_port_file(path: str, port: int):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, path)


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        pki = sim_keys.Pki(args.pki)
        state = sim_state.SimState(pki, args.state, args.persist, args.sign_with)
    except (sim_keys.PkiError, sim_state.StateError) as e:
        log("error: %s" % e)
        return 2
    tls = None
    if not args.plain_http:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.minimum_version = ssl.TLSVersion.TLSv1_2
        tls.set_alpn_protocols(["http/1.1"])
        try:
            tls.load_cert_chain(pki.server_cert, pki.server_key)
        except (ssl.SSLError, OSError) as e:
            log("error: cannot load %s / %s: %s" % (pki.server_cert, pki.server_key, e))
            return 2
    try:
        server = SimServer(args.port, tls, args.idle_timeout, sim_wechat.WeChatApi(state), state, pki)
    except OSError as e:
        log("error: cannot listen on 127.0.0.1:%d: %s" % (args.port, e.strerror))
        return 2
    port = server.server_address[1]

    def stop(signum, _frame):
        log("signal %d: shutting down" % signum)
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # debugging aid: thread dump to stderr
    signal.signal(signal.SIGINT, stop)
    if args.port_file:
        write_port_file(args.port_file, port)
    log("listening on %s://127.0.0.1:%d (answers signed with %s; %d orders)"
        % ("http" if args.plain_http else "https", port, state.sign_with, len(state.orders)))
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
