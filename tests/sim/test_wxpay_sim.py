"""Tests for scripts/gen-test-pki.sh and tests/sim/wxpay_sim.py.

Run from the repository root:
  /usr/bin/python3 -m unittest discover -s tests/sim -p 'test_*.py'
Each test class starts its own simulator process on a free port, with a PKI made
once per run in a temporary directory.
"""

import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import http.client

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import sim_client  # noqa: E402
import sim_keys  # noqa: E402
from cryptography import x509  # noqa: E402

PYTHON = "/usr/bin/python3"
SIM = os.path.join(HERE, "wxpay_sim.py")
GEN_PKI = os.path.join(REPO, "scripts", "gen-test-pki.sh")
SP, SUB = sim_keys.DEFAULT_SP_MCHID, sim_keys.DEFAULT_SUB_MCHID

TMP = None
PKI_DIR = None
PKI = None


def setUpModule():
    global TMP, PKI_DIR, PKI
    TMP = tempfile.mkdtemp(prefix="wxpay-sim-test.")
    PKI_DIR = os.path.join(TMP, "pki")
    subprocess.run([GEN_PKI, PKI_DIR], check=True)
    PKI = sim_keys.Pki(PKI_DIR)


def tearDownModule():
    if TMP:
        shutil.rmtree(TMP, ignore_errors=True)


def wait_for(condition, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))


class SimProcess:
    """The simulator as a subprocess on a free port; stderr goes to a file."""

    def __init__(self, *args, state=None, name="sim"):
        self.dir = tempfile.mkdtemp(prefix=name + ".", dir=TMP)
        self.port_file = os.path.join(self.dir, "port")
        self.log_file = os.path.join(self.dir, "stderr.log")
        self.state_file = None
        cmd = [PYTHON, SIM, "--pki", PKI_DIR, "--port", "0", "--port-file", self.port_file] + list(args)
        if state is not None:
            self.state_file = os.path.join(self.dir, "state.json")
            with open(self.state_file, "w") as f:
                json.dump(state, f)
            cmd += ["--state", self.state_file]
        self.log = open(self.log_file, "wb")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self.log)
        wait_for(lambda: self.proc.poll() is not None or (os.path.exists(self.port_file) and os.path.getsize(self.port_file) > 0),
                 what="simulator port file")
        if self.proc.poll() is not None:
            raise AssertionError("simulator exited with %s: %s" % (self.proc.returncode, self.stderr()))
        with open(self.port_file) as f:
            self.port = int(f.read())

    def stderr(self) -> str:
        with open(self.log_file, "rb") as f:
            return f.read().decode("utf-8", errors="replace")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


def key(name):
    return PKI.response_keys[name]


class SimTestCase(unittest.TestCase):
    ARGS = ()
    TLS = True

    @classmethod
    def setUpClass(cls):
        args = list(cls.ARGS) + ([] if cls.TLS else ["--plain-http"])
        cls.sim = SimProcess(*args, name=cls.__name__)
        cls.client = sim_client.SimClient(PKI_DIR, cls.sim.port, tls=cls.TLS)
        cls.partner_client = sim_client.SimClient(PKI_DIR, cls.sim.port, tls=cls.TLS, mchid=SP)

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def setUp(self):
        self.assertEqual(self.control("DELETE", "/_sim/faults")[0], 200)
        self.assertEqual(self.control("POST", "/_sim/config", {"clock_offset_s": 0, "close_unknown_order": 204})[0], 200)

    _seq = 0

    def new_order(self, **fields):
        SimTestCase._seq += 1
        no = "T%s%05d" % (type(self).__name__[:8].upper(), SimTestCase._seq)
        fields.setdefault("amount", 100)
        status, doc = self.control("POST", "/_sim/orders/" + no, fields)
        self.assertEqual(status, 200, doc)
        return no

    def control(self, method, path, obj=None):
        return self.client.control(method, path, obj)

    def order_state(self, no):
        status, doc = self.control("GET", "/_sim/orders/" + no)
        self.assertEqual(status, 200)
        return doc["trade_state"]

    def assert_verified(self, resp, key_name):
        self.assertEqual(resp.headers["wechatpay-serial"], key(key_name).serial)
        self.assertEqual(resp.headers["wechatpay-signature-type"], "WECHATPAY2-SHA256-RSA2048")
        self.assertTrue(sim_client.verify_response(resp, key(key_name).public_key),
                        "answer does not verify with %s" % key_name)
        self.assertLessEqual(abs(int(resp.headers["wechatpay-timestamp"]) - time.time()), 5)
        self.assertRegex(resp.headers["request-id"], r"^08[0-9A-F]{40}-[0-9]+$")

    def assert_error(self, resp, status, code):
        self.assertEqual(resp.status, status, resp.body)
        self.assertEqual(resp.json()["code"], code, resp.body)


# ---------------------------------------------------------------------------------------------


class PkiTest(unittest.TestCase):
    def test_files_formats_and_serials(self):
        for name in ("ca.pem", "ca.key", "server.pem", "server.key", "merchant_key.pem", "merchant_cert.pem",
                     "merchant_serial", "platform_key.pem", "platform_cert.pem", "platform_serial",
                     "platform2_key.pem", "platform2_cert.pem", "platform2_serial", "wxp_key.pem",
                     "pub_key.pem", "pub_key_id", "other_key.pem", "README", ".complete"):
            self.assertTrue(os.path.isfile(os.path.join(PKI_DIR, name)), name)
        with open(os.path.join(PKI_DIR, "pub_key_id")) as f:
            self.assertEqual(f.read(), "PUB_KEY_ID_0114232134912410000000000000000001")
        with open(os.path.join(PKI_DIR, "merchant_key.pem")) as f:
            self.assertTrue(f.read().startswith("-----BEGIN PRIVATE KEY-----\n"))
        with open(os.path.join(PKI_DIR, "pub_key.pem")) as f:
            self.assertTrue(f.read().startswith("-----BEGIN PUBLIC KEY-----\n"))
        with open(os.path.join(PKI_DIR, "README")) as f:
            self.assertIn("TEST-ONLY", f.read())
        serials = set()
        for prefix in ("merchant", "platform", "platform2"):
            with open(os.path.join(PKI_DIR, prefix + "_serial")) as f:
                serial = f.read()
            self.assertRegex(serial, r"^[0-9A-F]{40}$", prefix)
            with open(os.path.join(PKI_DIR, prefix + "_cert.pem"), "rb") as f:
                cert = x509.load_pem_x509_certificate(f.read())
            self.assertEqual(int(serial, 16), cert.serial_number)
            self.assertIn("TEST ONLY", cert.subject.rfc4514_string())
            serials.add(serial)
        self.assertEqual(len(serials), 3)

    def test_key_pairs_match_and_server_cert_names(self):
        for name in ("pubkey", "platform", "platform2"):
            k = PKI.response_keys[name]
            self.assertTrue(sim_keys.verify(k.public_key, b"m", sim_keys.sign(k.private_key, b"m")), name)
        merchant = sim_keys.load_private_key(os.path.join(PKI_DIR, "merchant_key.pem"))
        other = sim_keys.load_private_key(os.path.join(PKI_DIR, "other_key.pem"))
        self.assertTrue(sim_keys.verify(PKI.merchant.public_key, b"m", sim_keys.sign(merchant, b"m")))
        self.assertFalse(sim_keys.verify(PKI.merchant.public_key, b"m", sim_keys.sign(other, b"m")))
        self.assertEqual(merchant.key_size, 2048)
        with open(os.path.join(PKI_DIR, "server.pem"), "rb") as f:
            cert = x509.load_pem_x509_certificate(f.read())
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        self.assertEqual(san.get_values_for_type(x509.DNSName), ["localhost"])
        self.assertEqual([str(ip) for ip in san.get_values_for_type(x509.IPAddress)], ["127.0.0.1"])
        verify = subprocess.run(["openssl", "verify", "-CAfile", os.path.join(PKI_DIR, "ca.pem"),
                                 os.path.join(PKI_DIR, "server.pem")], capture_output=True)
        self.assertEqual(verify.returncode, 0, verify.stderr)

    def test_idempotent(self):
        path = os.path.join(PKI_DIR, "merchant_key.pem")
        with open(path, "rb") as f:
            before = f.read()
        subprocess.run([GEN_PKI, PKI_DIR], check=True)
        with open(path, "rb") as f:
            self.assertEqual(f.read(), before)

    def test_usage_error(self):
        self.assertEqual(subprocess.run([GEN_PKI], capture_output=True).returncode, 64)


# ---------------------------------------------------------------------------------------------


class QueryCloseTest(SimTestCase):
    """HTTPS, answers signed with the WeChat Pay public key (--sign-with pubkey)."""
    ARGS = ("--sign-with", "pubkey", "--idle-timeout", "1")

    def test_query_notpay(self):
        no = self.new_order(trade_state="NOTPAY", amount=123, transaction_id="ignored-until-paid")
        resp = self.client.query(no)
        self.assertEqual(resp.status, 200, resp.body)
        self.assert_verified(resp, "pubkey")
        t = resp.json()
        self.assertEqual((t["appid"], t["mchid"], t["out_trade_no"], t["trade_state"], t["trade_state_desc"]),
                         ("wxd678efh567hg6787", "1900000001", no, "NOTPAY", "订单未支付"))
        self.assertEqual(t["amount"], {"total": 123, "payer_total": 0, "currency": "CNY", "payer_currency": "CNY"})
        self.assertNotIn("transaction_id", t)
        self.assertNotIn("success_time", t)
        self.assertTrue(resp.headers["content-type"].startswith("application/json"))

    def test_query_paid_and_by_transaction_id(self):
        no = self.new_order(trade_state="SUCCESS", amount=500, transaction_id="4200000000202401010000000001",
                            success_time="2024-01-01T10:00:00+08:00")
        t = self.client.query(no).json()
        self.assertEqual((t["trade_state"], t["transaction_id"], t["success_time"]),
                         ("SUCCESS", "4200000000202401010000000001", "2024-01-01T10:00:00+08:00"))
        self.assertEqual(t["amount"]["payer_total"], 500)
        resp = self.client.query("4200000000202401010000000001", by_id=True)
        self.assertEqual(resp.status, 200)
        self.assert_verified(resp, "pubkey")
        self.assertEqual(resp.json()["out_trade_no"], no)
        # A paid order without a transaction_id in the state gets a stable one.
        no2 = self.new_order(trade_state="REFUND", amount=1)
        first = self.client.query(no2).json()["transaction_id"]
        self.assertRegex(first, r"^[0-9]{32}$")
        self.assertEqual(self.client.query(first, by_id=True).json()["out_trade_no"], no2)

    def test_unpaid_order_not_queryable_by_transaction_id(self):
        self.new_order(trade_state="NOTPAY", transaction_id="4200000000202401019999999999")
        self.assert_error(self.client.query("4200000000202401019999999999", by_id=True), 404, "ORDER_NOT_EXIST")

    def test_unknown_and_foreign_orders_do_not_exist(self):
        resp = self.client.query("NOSUCHORDER1")
        self.assert_error(resp, 404, "ORDER_NOT_EXIST")
        self.assertEqual(resp.json()["message"], "订单不存在")
        self.assert_verified(resp, "pubkey")
        self.assertTrue(resp.headers["request-id"].endswith("-268512771"))
        foreign = self.new_order(mchid="1900000002")
        self.assert_error(self.client.query(foreign), 404, "ORDER_NOT_EXIST")
        partner_order = self.new_order(sp_mchid=SP, sub_mchid=SUB)
        self.assert_error(self.client.query(partner_order), 404, "ORDER_NOT_EXIST")

    def test_partner_query_and_close(self):
        no = self.new_order(sp_mchid=SP, sub_mchid=SUB, sp_appid="wxsp00000000000001", sub_appid="wxsub0000000000001")
        partner = (SP, SUB)
        resp = self.partner_client.query(no, partner=partner)
        self.assertEqual(resp.status, 200, resp.body)
        self.assert_verified(resp, "pubkey")
        t = resp.json()
        self.assertEqual((t["sp_appid"], t["sp_mchid"], t["sub_appid"], t["sub_mchid"]),
                         ("wxsp00000000000001", SP, "wxsub0000000000001", SUB))
        self.assertNotIn("mchid", t)
        resp = self.partner_client.close(no, partner=partner)
        self.assertEqual(resp.status, 204)
        self.assert_verified(resp, "pubkey")
        self.assertEqual(self.partner_client.query(no, partner=partner).json()["trade_state"], "CLOSED")
        # The direct endpoint does not see partner orders; another sub-merchant's order does not exist.
        other_sub = self.new_order(sp_mchid=SP, sub_mchid="1900000111")
        self.assert_error(self.partner_client.query(other_sub, partner=partner), 404, "ORDER_NOT_EXIST")

    def test_partner_merchant_checks(self):
        no = self.new_order(sp_mchid=SP, sub_mchid=SUB)
        # Authorization mchid must be the sp_mchid.
        self.assert_error(self.client.query(no, partner=(SP, SUB)), 401, "SIGN_ERROR")
        # sub_mchid must belong to the service provider.
        self.assert_error(self.partner_client.query(no, partner=(SP, "1900000999")), 401, "SIGN_ERROR")
        url, body = self.partner_client.close_request(no, partner=(SP, SUB))
        self.assert_error(self.partner_client.send("POST", url, b'{"sp_mchid":"1900000100"}'), 400, "PARAM_ERROR")
        self.assertEqual(self.order_state(no), "NOTPAY")

    def test_close_semantics(self):
        notpay = self.new_order(trade_state="NOTPAY")
        resp = self.client.close(notpay)
        self.assertEqual(resp.status, 204)
        self.assertEqual(resp.body, b"")
        self.assert_verified(resp, "pubkey")   # signed over an empty body line
        self.assertEqual(self.order_state(notpay), "CLOSED")
        self.assertEqual(self.client.close(notpay).status, 204)          # re-entrant
        closed = self.new_order(trade_state="CLOSED", close_if_closed="ORDER_CLOSED")
        self.assert_error(self.client.close(closed), 400, "ORDER_CLOSED")
        for paid_state in ("SUCCESS", "REFUND"):
            paid = self.new_order(trade_state=paid_state)
            resp = self.client.close(paid)
            self.assert_error(resp, 400, "ORDER_PAID")
            self.assertEqual(resp.json()["message"], "订单已支付")
            self.assert_verified(resp, "pubkey")
            self.assertEqual(self.order_state(paid), paid_state)
        payerror = self.new_order(trade_state="PAYERROR")
        self.assert_error(self.client.close(payerror), 403, "TRADE_ERROR")
        self.assertEqual(self.order_state(payerror), "PAYERROR")

    def test_close_unknown_or_foreign_order(self):
        self.assertEqual(self.client.close("NOSUCHORDER2").status, 204)
        self.assertEqual(self.control("GET", "/_sim/orders/NOSUCHORDER2")[0], 404)
        foreign = self.new_order(mchid="1900000002")
        self.assertEqual(self.client.close(foreign).status, 204)
        self.assertEqual(self.order_state(foreign), "NOTPAY")
        self.control("POST", "/_sim/config", {"close_unknown_order": "ORDER_NOT_EXIST"})
        self.assert_error(self.client.close("NOSUCHORDER2"), 404, "ORDER_NOT_EXIST")

    def test_escaped_order_number_signed_over_raw_path(self):
        no = self.new_order()
        status, _ = self.control("POST", "/_sim/orders/AB-12%7C34%2A56", {"amount": 7})
        self.assertEqual(status, 200)
        resp = self.client.query("AB-12|34*56")    # sim_client percent-encodes | and *
        self.assertEqual(resp.status, 200, resp.body)
        self.assertEqual(resp.json()["out_trade_no"], "AB-12|34*56")
        # Signing the decoded path while sending the encoded one must fail.
        url = "/v3/pay/transactions/out-trade-no/AB-12%7C34%2A56?mchid=1900000001"
        auth = self.client.signer.authorization("GET", url.replace("%7C", "|").replace("%2A", "*"), b"")
        self.assert_error(self.client.send("GET", url, sign=False, headers={"Authorization": auth}), 401, "SIGN_ERROR")
        self.assert_error(self.client.query("short"), 400, "PARAM_ERROR")
        self.assertEqual(self.client.query(no).status, 200)

    def test_rejections(self):
        no = self.new_order()
        self.control("POST", "/_sim/reset")
        url = self.client.query_url(no)

        def auth_with(**kw):
            return {"Authorization": self.client.signer.authorization("GET", url, b"", **kw)}

        # Bad signature: signed over another URL.
        bad = {"Authorization": self.client.signer.authorization("GET", url + "&x=1", b"")}
        resp = self.client.send("GET", url, sign=False, headers=bad)
        self.assert_error(resp, 401, "SIGN_ERROR")
        self.assertEqual(resp.json()["message"], "错误的签名，验签失败")
        self.assert_verified(resp, "pubkey")
        # The wrong private key under the right serial.
        other = sim_keys.load_private_key(os.path.join(PKI_DIR, "other_key.pem"))
        wrong_key = sim_client.Signer(other, PKI.merchant.serial, "1900000001")
        self.assert_error(self.client.send("GET", url, signer=wrong_key), 401, "SIGN_ERROR")
        # Unknown serial_no.
        unknown = sim_client.Signer(self.client.signer.private_key, "1234567890ABCDEF", "1900000001")
        self.assert_error(self.client.send("GET", url, signer=unknown), 401, "SIGN_ERROR")
        # Timestamps: 290 s old is fine, 301 s old or ahead is not.
        self.assertEqual(self.client.send("GET", url, timestamp=int(time.time()) - 290).status, 200)
        self.assert_error(self.client.send("GET", url, timestamp=int(time.time()) - 301), 401, "SIGN_ERROR")
        self.assert_error(self.client.send("GET", url, timestamp=int(time.time()) + 301), 401, "SIGN_ERROR")
        # Authorization mchid differs from the query mchid (registered merchant, other mchid).
        self.assert_error(self.client.query(no, mchid="1900000100"), 401, "SIGN_ERROR")
        # A mchid the serial is not registered for.
        stranger = sim_client.Signer(self.client.signer.private_key, PKI.merchant.serial, "1900000002")
        self.assert_error(self.client.send("GET", self.client.query_url(no, mchid="1900000002"), signer=stranger), 401, "SIGN_ERROR")
        # Malformed Authorization: a parameter missing, a parameter repeated, wrong scheme.
        full = auth_with()["Authorization"]
        missing = re.sub(r',?serial_no="[^"]*"', "", full)
        repeated = full + ',mchid="1900000001"'
        for header in (missing, repeated, full.replace("WECHATPAY2-SHA256-RSA2048", "WECHATPAY2-SHA256-RSA4096"), None):
            resp = self.client.send("GET", url, sign=False, headers={"Authorization": header})
            self.assert_error(resp, 401, "SIGN_ERROR")
        # Parameter order is free.
        shuffled = self.client.signer.authorization("GET", url, b"", order=("signature", "timestamp", "serial_no", "mchid", "nonce_str"))
        self.assertEqual(self.client.send("GET", url, sign=False, headers={"Authorization": shuffled}).status, 200)
        # Headers.
        self.assert_error(self.client.send("GET", url, user_agent=None), 400, "INVALID_REQUEST")
        self.assert_error(self.client.send("GET", url, accept=None), 400, "INVALID_REQUEST")
        self.assert_error(self.client.send("GET", self.client.query_url(no).split("?")[0]), 400, "PARAM_ERROR")

        stats = self.control("GET", "/_sim/stats")[1]
        self.assertEqual(stats["rejected"], {"SIGN_ERROR": 11, "INVALID_REQUEST": 2, "PARAM_ERROR": 1})
        self.assertEqual(stats["rejected_reasons"]["bad_signature"], 2)
        self.assertEqual(stats["rejected_reasons"]["unknown_serial"], 1)
        self.assertEqual(stats["rejected_reasons"]["timestamp_out_of_window"], 2)
        self.assertEqual(stats["rejected_reasons"]["mchid_mismatch"], 1)
        self.assertEqual(stats["rejected_reasons"]["mchid_not_of_serial"], 1)
        self.assertEqual(stats["rejected_reasons"]["malformed_authorization"], 3)
        self.assertEqual(stats["rejected_reasons"]["missing_authorization"], 1)
        self.assertEqual(stats["requests"]["query"], 16)
        self.assertEqual(stats["by_order"][no]["query"], 16)

    def test_close_request_checks(self):
        no = self.new_order()
        url, body = self.client.close_request(no)
        self.assert_error(self.client.send("POST", url, body, content_type="text/plain"), 400, "INVALID_REQUEST")
        self.assert_error(self.client.send("POST", url, b'{"mchid":"1900000001","appid":"x"}'), 400, "PARAM_ERROR")
        self.assert_error(self.client.send("POST", url, b""), 400, "PARAM_ERROR")
        self.assert_error(self.client.send("POST", url, b'{"mchid":"1900000100"}'), 401, "SIGN_ERROR")
        # The signature covers the exact body bytes.
        auth = self.client.signer.authorization("POST", url, b'{"mchid": "1900000001"}')
        self.assert_error(self.client.send("POST", url, body, sign=False, headers={"Authorization": auth}), 401, "SIGN_ERROR")
        self.assertEqual(self.order_state(no), "NOTPAY")
        self.assertEqual(self.client.close(no).status, 204)

    def test_clock_offset_makes_valid_requests_stale(self):
        no = self.new_order()
        self.control("POST", "/_sim/config", {"clock_offset_s": 400})
        self.assert_error(self.client.query(no), 401, "SIGN_ERROR")
        self.control("POST", "/_sim/config", {"clock_offset_s": 0})
        self.assertEqual(self.client.query(no).status, 200)

    def test_request_serial_selects_signing_key(self):
        no = self.new_order()
        self.assert_verified(self.client.query(no), "pubkey")
        self.assert_verified(self.client.query(no, wechatpay_serial=key("platform").serial), "platform")
        self.assert_verified(self.client.query(no, wechatpay_serial=key("platform2").serial), "platform2")
        self.assert_verified(self.client.query(no, wechatpay_serial="SOMETHING_ELSE"), "pubkey")
        self.control("POST", "/_sim/config", {"sign_with": "platform"})
        try:
            self.assert_verified(self.client.query(no), "platform")
            self.assert_verified(self.client.query(no, wechatpay_serial=key("pubkey").serial), "pubkey")
            # Any PUB_KEY_ID_ asks for the public key; the answer names the real id.
            self.assert_verified(self.client.query(no, wechatpay_serial="PUB_KEY_ID_0000"), "pubkey")
        finally:
            self.control("POST", "/_sim/config", {"sign_with": "pubkey"})

    def test_request_ids_unique(self):
        no = self.new_order()
        conn = self.client.connect()
        try:
            ids = {self.client.query(no, conn=conn).headers["request-id"] for _ in range(20)}
        finally:
            conn.close()
        self.assertEqual(len(ids), 20)

    def test_drop_over_tls(self):
        no = self.new_order()
        self.control("POST", "/_sim/faults", {"fault": "drop", "order": no})
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            self.client.query(no)
        self.assertEqual(self.client.query(no).status, 200)

    def test_keep_alive_and_idle_close(self):
        no = self.new_order()
        conn = self.client.connect()
        try:
            self.assertEqual(self.client.send("GET", self.client.query_url(no), conn=conn).status, 200)
            sock = conn.sock
            self.assertEqual(self.client.close(no, conn=conn).status, 204)
            self.assertIs(conn.sock, sock, "connection was not reused")
            self.assertEqual(self.client.send("GET", self.client.query_url(no), conn=conn).json()["trade_state"], "CLOSED")
            self.assertIs(conn.sock, sock)

            def closed_by_server():
                if not select.select([sock], [], [], 0.05)[0]:
                    return False
                try:
                    return sock.recv(1) == b""
                except (ConnectionError, OSError):
                    return True
            wait_for(closed_by_server, timeout=5, what="idle keep-alive connection closed by the server")
        finally:
            conn.close()

    def test_control_api_orders(self):
        status, doc = self.control("POST", "/_sim/orders/CTRLORDER1", {"trade_state": "NOTPAY"})
        self.assertEqual(status, 400)
        self.assertIn("amount", doc["error"])
        status, doc = self.control("POST", "/_sim/orders/CTRLORDER1", {"amount": 1, "colour": "red"})
        self.assertEqual(status, 400)
        self.assertIn("colour", doc["error"])
        self.assertEqual(self.control("POST", "/_sim/orders/CTRLORDER1", {"amount": 1})[0], 200)
        self.assertEqual(self.control("GET", "/_sim/orders/CTRLORDER1")[1]["mchid"], "1900000001")
        self.assertEqual(self.control("DELETE", "/_sim/orders/CTRLORDER1")[0], 204)
        self.assertEqual(self.control("GET", "/_sim/orders/CTRLORDER1")[0], 404)
        self.assert_error(self.client.query("CTRLORDER1"), 404, "ORDER_NOT_EXIST")

    def test_log_lines_without_key_material(self):
        no = self.new_order()
        self.client.query(no)
        expected = "GET /v3/pay/transactions/out-trade-no/%s?mchid=1900000001 200" % no
        wait_for(lambda: expected in self.sim.stderr(), timeout=5, what="log line")
        log = self.sim.stderr()
        self.assertNotIn("PRIVATE KEY", log)
        self.assertNotIn("signature=", log)


class PlatformModeTest(SimTestCase):
    """Plain HTTP, default signing with the platform certificate."""
    TLS = False

    def test_platform_certificate_signing(self):
        no = self.new_order()
        self.assert_verified(self.client.query(no), "platform")
        self.assert_verified(self.client.query(no, wechatpay_serial=key("pubkey").serial), "pubkey")
        self.assert_verified(self.client.query(no, wechatpay_serial=key("platform2").serial), "platform2")
        resp = self.client.query("NOSUCHORDER3")
        self.assert_error(resp, 404, "ORDER_NOT_EXIST")
        self.assert_verified(resp, "platform")

    def test_rotation_to_second_platform_certificate(self):
        no = self.new_order()
        self.assertEqual(self.control("POST", "/_sim/config", {"sign_with": "platform2"})[1]["sign_with"], "platform2")
        try:
            self.assert_verified(self.client.close(no), "platform2")
        finally:
            self.control("POST", "/_sim/config", {"sign_with": "platform"})
        self.assert_verified(self.client.query(no), "platform")


# ---------------------------------------------------------------------------------------------


class FaultTest(SimTestCase):
    TLS = False

    def fault(self, **spec):
        status, doc = self.control("POST", "/_sim/faults", spec)
        self.assertEqual(status, 200, doc)
        return doc

    def test_http_errors(self):
        no = self.new_order()
        self.fault(fault="http500")
        self.fault(fault="http502")
        resp = self.client.query(no)
        self.assertEqual(resp.status, 500)
        self.assertNotIn("wechatpay-signature", resp.headers)
        self.assertIn(b"500 Internal Server Error", resp.body)
        resp = self.client.query(no)
        self.assertEqual(resp.status, 502)
        self.assertNotIn("wechatpay-signature", resp.headers)
        self.fault(fault="http429")
        resp = self.client.query(no)
        self.assert_error(resp, 429, "FREQUENCY_LIMITED")
        self.assert_verified(resp, "platform")
        self.fault(fault="system_error", endpoint="close")
        self.assertEqual(self.client.query(no).status, 200)
        resp = self.client.close(no)
        self.assert_error(resp, 500, "SYSTEM_ERROR")
        self.assert_verified(resp, "platform")
        self.assertEqual(self.order_state(no), "NOTPAY")
        self.assertEqual(self.client.close(no).status, 204)

    def test_count_order_and_endpoint_filters(self):
        a, b = self.new_order(), self.new_order()
        self.fault(fault="http500", count=2, order=a, endpoint="query")
        self.assertEqual(self.client.query(b).status, 200)
        self.assertEqual(self.client.close(a).status, 204)
        self.assertEqual([self.client.query(a).status for _ in range(3)], [500, 500, 200])
        forever = self.fault(fault="http502", count=-1)
        self.assertEqual([self.client.query(b).status for _ in range(3)], [502, 502, 502])
        self.assertEqual(self.control("GET", "/_sim/faults")[1]["faults"][0]["used"], 3)
        self.assertEqual(self.control("DELETE", "/_sim/faults/%d" % forever["id"])[0], 200)
        self.assertEqual(self.client.query(b).status, 200)
        self.fault(fault="http502", count=-1)
        self.assertEqual(self.control("DELETE", "/_sim/faults")[1], {"removed": 1})
        self.assertEqual(self.client.query(b).status, 200)

    def test_invalid_fault_specs(self):
        for spec in ({"fault": "nope"}, {"fault": "delay"}, {"fault": "http500", "count": 0},
                     {"fault": "wrong_amount", "endpoint": "close"}, {"fault": "http500", "endpoint": "refund"},
                     {"fault": "drop", "colour": 1}):
            status, doc = self.control("POST", "/_sim/faults", spec)
            self.assertEqual(status, 400, spec)
            self.assertIn("fault", doc["error"])

    def test_delay(self):
        no = self.new_order()
        self.fault(fault="delay", delay_ms=400)
        start = time.monotonic()
        resp = self.client.query(no)
        self.assertGreaterEqual(time.monotonic() - start, 0.4)
        self.assertEqual(resp.status, 200)
        start = time.monotonic()
        self.client.query(no)
        self.assertLess(time.monotonic() - start, 0.4)

    def test_drop(self):
        no = self.new_order()
        self.fault(fault="drop", endpoint="close")
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            self.client.close(no)
        self.assertEqual(self.order_state(no), "NOTPAY")
        self.fault(fault="drop", endpoint="close", process=True)
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            self.client.close(no)
        self.assertEqual(self.order_state(no), "CLOSED")
        self.fault(fault="reset")
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            self.client.query(no)
        self.assertEqual(self.client.query(no).status, 200)
        stats = self.control("GET", "/_sim/stats")[1]
        self.assertEqual(stats["faults"]["drop"], 2)
        self.assertEqual(stats["by_order"][no]["close"], 2)

    def test_signature_faults(self):
        no = self.new_order()
        platform = key("platform")
        self.fault(fault="tamper_signature")
        resp = self.client.query(no)
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.headers["wechatpay-serial"], platform.serial)
        self.assertFalse(sim_client.verify_response(resp, platform.public_key))
        self.assertEqual(resp.json()["out_trade_no"], no)

        self.fault(fault="stale_timestamp")
        resp = self.client.query(no)
        self.assertTrue(sim_client.verify_response(resp, platform.public_key))   # signed, but old
        self.assertGreaterEqual(time.time() - int(resp.headers["wechatpay-timestamp"]), 590)

        self.fault(fault="unknown_serial")
        resp = self.client.query(no)
        self.assertIsNone(PKI.response_key_for_serial(resp.headers["wechatpay-serial"]))
        self.assertRegex(resp.headers["wechatpay-serial"], r"^[0-9A-F]{40}$")

        self.fault(fault="signtest", endpoint="close")
        resp = self.client.close(no)
        self.assertEqual(resp.status, 204)
        self.assertTrue(resp.headers["wechatpay-signature"].startswith("WECHATPAY/SIGNTEST/"))
        self.assertFalse(sim_client.verify_response(resp, platform.public_key))
        self.assertEqual(self.order_state(no), "CLOSED")
        self.assert_verified(self.client.query(no), "platform")

    def test_unknown_serial_in_pubkey_form(self):
        no = self.new_order()
        self.fault(fault="unknown_serial")
        resp = self.client.query(no, wechatpay_serial=key("pubkey").serial)
        self.assertTrue(resp.headers["wechatpay-serial"].startswith("PUB_KEY_ID_"))
        self.assertNotEqual(resp.headers["wechatpay-serial"], key("pubkey").serial)
        self.assertTrue(sim_client.verify_response(resp, key("pubkey").public_key))

    def test_body_faults(self):
        no = self.new_order(amount=300)
        self.fault(fault="wrong_amount")
        self.fault(fault="wrong_mchid")
        self.fault(fault="wrong_appid")
        a = self.client.query(no)
        self.assert_verified(a, "platform")
        self.assertEqual((a.json()["amount"]["total"], a.json()["mchid"]), (301, "1900000001"))
        b = self.client.query(no)
        self.assertEqual((b.json()["amount"]["total"], b.json()["mchid"], b.json()["appid"]), (300, "1900000002", "wxd678efh567hg6787"))
        c = self.client.query(no)
        self.assertNotEqual(c.json()["appid"], "wxd678efh567hg6787")
        self.assert_verified(c, "platform")
        self.assertEqual(self.client.query(no).json()["appid"], "wxd678efh567hg6787")
        pno = self.new_order(sp_mchid=SP, sub_mchid=SUB, sub_appid="wxsub0000000000001")
        self.fault(fault="wrong_mchid")
        self.fault(fault="wrong_appid")
        p = self.partner_client.query(pno, partner=(SP, SUB)).json()
        self.assertEqual((p["sp_mchid"], p["sub_mchid"]), (SP, "1900000110"))
        p = self.partner_client.query(pno, partner=(SP, SUB)).json()
        self.assertNotEqual(p["sub_appid"], "wxsub0000000000001")

    def test_close_faults(self):
        no = self.new_order()
        self.fault(fault="pay_on_close")
        resp = self.client.query(no)        # pay_on_close never fires on a query
        self.assertEqual(resp.json()["trade_state"], "NOTPAY")
        resp = self.client.close(no)
        self.assert_error(resp, 400, "ORDER_PAID")
        self.assert_verified(resp, "platform")
        t = self.client.query(no).json()
        self.assertEqual(t["trade_state"], "SUCCESS")
        self.assertIn("transaction_id", t)
        self.assertIn("success_time", t)

        other = self.new_order()
        self.fault(fault="close_user_paying", order=other)
        resp = self.client.close(other)
        self.assert_error(resp, 202, "USER_PAYING")
        self.assert_verified(resp, "platform")
        self.assertEqual(self.order_state(other), "NOTPAY")
        self.fault(fault="close_frequency_limited")
        self.assert_error(self.client.close(other), 403, "FREQUENCY_LIMITED")
        self.assertEqual(self.order_state(other), "NOTPAY")
        self.assertEqual(self.client.close(other).status, 204)

    def test_stats_and_reset(self):
        self.control("POST", "/_sim/reset")
        no = self.new_order()
        self.client.query(no)
        self.client.query(no)
        self.client.close(no)
        self.client.query("NOSUCHORDER4")
        stats = self.control("GET", "/_sim/stats")[1]
        self.assertEqual(stats["requests"], {"query": 3, "close": 1})
        self.assertEqual(stats["by_order"], {no: {"query": 2, "close": 1}, "NOSUCHORDER4": {"query": 1, "close": 0}})
        self.assertEqual(stats["rejected"], {})
        self.assertEqual(stats["statuses"], {"200": 2, "204": 1, "404": 1})
        self.assertEqual(self.control("POST", "/_sim/reset")[0], 204)
        self.assertEqual(self.control("GET", "/_sim/stats")[1]["requests"], {"query": 0, "close": 0})
        self.assertEqual(self.order_state(no), "CLOSED")   # reset clears stats only


# ---------------------------------------------------------------------------------------------


class LifecycleTest(unittest.TestCase):
    def test_state_file_persist_and_sigterm(self):
        state = {"orders": {"ORDER000001": {"trade_state": "NOTPAY", "amount": 100, "mchid": "1900000001",
                                            "appid": "wxd678efh567hg6787", "sub_mchid": "", "sp_mchid": "",
                                            "transaction_id": "", "success_time": ""}},
                 "options": {"close_unknown_order": "ORDER_NOT_EXIST"},
                 "merchants": [{"mchid": "1900000002"}, {"mchid": "1900000200", "sub_mchids": ["1900000209"]}]}
        sim = SimProcess("--plain-http", "--persist", state=state)
        try:
            client = sim_client.SimClient(PKI_DIR, sim.port, tls=False)
            self.assertEqual(client.query("ORDER000001").status, 200)
            self.assertEqual(client.close("ORDER000001").status, 204)
            with open(sim.state_file) as f:
                self.assertEqual(json.load(f)["orders"]["ORDER000001"]["trade_state"], "CLOSED")
            self.assert_code(client.close("NOSUCHORDER5"), 404, "ORDER_NOT_EXIST")
            # Merchants listed in the state file may sign with the merchant key.
            m2 = sim_client.SimClient(PKI_DIR, sim.port, tls=False, mchid="1900000002")
            self.assert_code(m2.query("ORDER000001", mchid="1900000002"), 404, "ORDER_NOT_EXIST")
            sp2 = sim_client.SimClient(PKI_DIR, sim.port, tls=False, mchid="1900000200")
            self.assert_code(sp2.query("ORDER000001", partner=("1900000200", "1900000209")), 404, "ORDER_NOT_EXIST")
        finally:
            start = time.monotonic()
            self.assertEqual(sim.stop(), 0)
            self.assertLess(time.monotonic() - start, 3)
        self.assertIn("stopped", sim.stderr())

    def assert_code(self, resp, status, code):
        self.assertEqual((resp.status, resp.json()["code"]), (status, code), resp.body)

    def test_start_up_errors(self):
        bad = os.path.join(TMP, "bad-state.json")
        with open(bad, "w") as f:
            f.write('{"orders": {"X00001": {"trade_state": "NOTPAY"}}}')
        for args, needle in ((["--pki", PKI_DIR, "--state", bad], "amount"),
                             (["--pki", os.path.join(TMP, "nope")], "gen-test-pki.sh"),
                             (["--pki", PKI_DIR, "--state", os.path.join(TMP, "missing.json")], "cannot read state file")):
            r = subprocess.run([PYTHON, SIM] + args, capture_output=True, timeout=10)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn(needle, r.stderr.decode())
            self.assertNotIn(b"PRIVATE KEY", r.stderr)

    def test_help(self):
        r = subprocess.run([PYTHON, SIM, "--help"], capture_output=True, timeout=10)
        self.assertEqual(r.returncode, 0)
        for flag in (b"--pki", b"--state", b"--port-file", b"--plain-http", b"--sign-with", b"--persist"):
            self.assertIn(flag, r.stdout)

    def test_https_certificate_and_tls12(self):
        sim = SimProcess()
        try:
            client = sim_client.SimClient(PKI_DIR, sim.port, tls=True)
            status, _ = client.control("GET", "/_sim/stats")
            self.assertEqual(status, 200)
            import ssl
            strict = ssl.create_default_context()   # system CAs only: the test CA is not trusted
            conn = http.client.HTTPSConnection("127.0.0.1", sim.port, context=strict, timeout=5)
            with self.assertRaises(ssl.SSLError):
                conn.request("GET", "/_sim/stats")
            conn.close()
            tls12 = ssl.create_default_context(cafile=os.path.join(PKI_DIR, "ca.pem"))
            tls12.maximum_version = ssl.TLSVersion.TLSv1_2
            conn = http.client.HTTPSConnection("127.0.0.1", sim.port, context=tls12, timeout=5)
            conn.request("GET", "/_sim/stats")
            self.assertEqual(conn.getresponse().status, 200)
            self.assertEqual(conn.sock.version(), "TLSv1.2")
            self.assertIn(conn.sock.selected_alpn_protocol(), (None, "http/1.1"))
            conn.close()
        finally:
            self.assertEqual(sim.stop(), 0)


if __name__ == "__main__":
    unittest.main()
