#!/usr/bin/python3
"""A small WeChat Pay APIv3 client for the simulator (TEST ONLY): signs requests with
the test merchant key and verifies answers. Used by test_wxpay_sim.py; also a CLI:

  /usr/bin/python3 tests/sim/sim_client.py --pki DIR --port P query ORDER_NO
  /usr/bin/python3 tests/sim/sim_client.py --pki DIR --port P --partner close ORDER_NO
"""

import argparse
import http.client
import json
import os
import secrets
import ssl
import sys
import time
import urllib.parse
from dataclasses import dataclass

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sim_keys  # noqa: E402


@dataclass
class Response:
    status: int
    headers: dict      # lower-case name -> value
    body: bytes

    def json(self):
        return json.loads(self.body.decode("utf-8"))


class Signer:
    def __init__(self, private_key, serial: str, mchid: str):
        self.private_key = private_key
        self.serial = serial
        self.mchid = mchid

    def authorization(self, method, url, body: bytes, timestamp=None, nonce=None, order=None) -> str:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        nonce = nonce or secrets.token_hex(16).upper()
        sig = sim_keys.sign(self.private_key, sim_keys.request_message(method, url, ts, nonce, body))
        params = {"mchid": self.mchid, "nonce_str": nonce, "signature": sig, "timestamp": ts, "serial_no": self.serial}
        keys = order or ("mchid", "nonce_str", "timestamp", "serial_no", "signature")
        return sim_keys.AUTH_SCHEME + " " + ",".join('%s="%s"' % (k, params[k]) for k in keys)


class SimClient:
    def __init__(self, pki_dir: str, port: int, tls: bool = True, mchid=sim_keys.DEFAULT_DIRECT_MCHID):
        self.pki_dir = pki_dir
        self.port = port
        self.tls = tls
        key = sim_keys.load_private_key(os.path.join(pki_dir, "merchant_key.pem"))
        self.signer = Signer(key, sim_keys.read_line(os.path.join(pki_dir, "merchant_serial")), mchid)
        self.context = None
        if tls:
            self.context = ssl.create_default_context(cafile=os.path.join(pki_dir, "ca.pem"))

    def connect(self, timeout=10):
        if self.tls:
            return http.client.HTTPSConnection("127.0.0.1", self.port, context=self.context, timeout=timeout)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def send(self, method, url, body: bytes = b"", headers=None, conn=None, sign=True, timestamp=None,
             accept="application/json", user_agent="wxpay-sim-test/1.0", content_type=None,
             wechatpay_serial=None, signer=None) -> Response:
        """One request; `headers` entries with value None are left out."""
        h = {"Accept": accept, "User-Agent": user_agent}
        if method == "POST":
            h["Content-Type"] = content_type or "application/json"
        if wechatpay_serial:
            h["Wechatpay-Serial"] = wechatpay_serial
        if sign:
            h["Authorization"] = (signer or self.signer).authorization(method, url, body, timestamp=timestamp)
        h.update(headers or {})
        h = {k: v for k, v in h.items() if v is not None}
        own = conn is None
        conn = conn or self.connect()
        try:
            conn.request(method, url, body=body if (body or method == "POST") else None, headers=h)
            resp = conn.getresponse()
            data = resp.read()
            return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
        finally:
            if own:
                conn.close()

    # --- WeChat Pay endpoints ---------------------------------------------------------
    @staticmethod
    def query_url(order_no, mchid=None, partner=None, by_id=False):
        kind = "id" if by_id else "out-trade-no"
        ident = urllib.parse.quote(order_no, safe="")
        if partner:
            sp, sub = partner
            return "/v3/pay/partner/transactions/%s/%s?sp_mchid=%s&sub_mchid=%s" % (kind, ident, sp, sub)
        return "/v3/pay/transactions/%s/%s?mchid=%s" % (kind, ident, mchid or sim_keys.DEFAULT_DIRECT_MCHID)

    @staticmethod
    def close_request(order_no, mchid=None, partner=None):
        ident = urllib.parse.quote(order_no, safe="")
        if partner:
            sp, sub = partner
            return ("/v3/pay/partner/transactions/out-trade-no/%s/close" % ident,
                    json.dumps({"sp_mchid": sp, "sub_mchid": sub}, separators=(",", ":")).encode())
        return ("/v3/pay/transactions/out-trade-no/%s/close" % ident,
                json.dumps({"mchid": mchid or sim_keys.DEFAULT_DIRECT_MCHID}, separators=(",", ":")).encode())

    def query(self, order_no, **kw) -> Response:
        url = self.query_url(order_no, kw.pop("mchid", None), kw.pop("partner", None), kw.pop("by_id", False))
        return self.send("GET", url, **kw)

    def close(self, order_no, **kw) -> Response:
        url, body = self.close_request(order_no, kw.pop("mchid", None), kw.pop("partner", None))
        return self.send("POST", url, body, **kw)

    # --- control API (unsigned) -------------------------------------------------------
    def control(self, method, path, obj=None):
        conn = self.connect()
        try:
            body = json.dumps(obj).encode() if obj is not None else None
            conn.request(method, path, body=body, headers={"Content-Type": "application/json"} if body else {})
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, (json.loads(data) if data else None)
        finally:
            conn.close()


def verify_response(resp: Response, public_key) -> bool:
    """WeChat Pay answer verification: TIMESTAMP\\nNONCE\\nBODY\\n with the given key."""
    try:
        message = sim_keys.response_message(resp.headers["wechatpay-timestamp"], resp.headers["wechatpay-nonce"], resp.body)
        return sim_keys.verify(public_key, message, resp.headers["wechatpay-signature"])
    except KeyError:
        return False


def main(argv=None):
    p = argparse.ArgumentParser(description="Signed query/close against the WeChat Pay simulator (TEST ONLY).")
    p.add_argument("--pki", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--plain-http", action="store_true")
    p.add_argument("--mchid", default=sim_keys.DEFAULT_DIRECT_MCHID)
    p.add_argument("--partner", action="store_true", help="partner endpoints with sp 1900000100 / sub 1900000109")
    p.add_argument("--by-id", action="store_true", help="query by transaction_id")
    p.add_argument("command", choices=("query", "close"))
    p.add_argument("ident")
    a = p.parse_args(argv)
    client = SimClient(a.pki, a.port, tls=not a.plain_http,
                       mchid=sim_keys.DEFAULT_SP_MCHID if a.partner else a.mchid)
    partner = (sim_keys.DEFAULT_SP_MCHID, sim_keys.DEFAULT_SUB_MCHID) if a.partner else None
    if a.command == "query":
        resp = client.query(a.ident, mchid=a.mchid, partner=partner, by_id=a.by_id)
    else:
        resp = client.close(a.ident, mchid=a.mchid, partner=partner)
    pki = sim_keys.Pki(a.pki)
    key = pki.response_key_for_serial(resp.headers.get("wechatpay-serial", ""))
    verified = bool(key) and verify_response(resp, key.public_key)
    print("HTTP %d  Request-ID %s  signature %s" % (resp.status, resp.headers.get("request-id", "-"),
                                                    "verified" if verified else "NOT verified"))
    if resp.body:
        print(resp.body.decode("utf-8", errors="replace"))
    return 0 if 200 <= resp.status < 300 and verified else 1


if __name__ == "__main__":
    sys.exit(main())
